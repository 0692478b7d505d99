package dev.edgesync.bench.micro;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.StateDigest;
import dev.edgesync.engine.storage.StoredEntry;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One key's contribution to the state digest (murmur3_128 over key, version and value), computed
 * for every stored version in every group commit, and the O(1) update of the running digest.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DigestBench {
  @Param({"100", "1024"})
  public int valueBytes;

  private StoredEntry entry;
  private StateDigest running = StateDigest.EMPTY;
  private StateDigest old;

  @Setup
  public void setUp() {
    byte[] value = new byte[valueBytes];
    Arrays.fill(value, (byte) 'x');
    entry = new StoredEntry("k000000000012345".getBytes(StandardCharsets.US_ASCII), value, false, new Version(Hlc.of(1_790_000_000_000L, 3), "site-a"), 42);
    old = StateDigest.contribution(entry);
  }

  @Benchmark
  public StateDigest contribution() {
    return StateDigest.contribution(entry);
  }

  @Benchmark
  public StateDigest replaceContribution() {
    // What a commit does per stored version that overwrites a key: minus the old, plus the new.
    running = running.minus(old).plus(StateDigest.contribution(entry));
    return running;
  }
}
