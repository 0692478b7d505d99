package dev.edgesync.bench.micro;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.LwwResolver;
import dev.edgesync.conflict.Resolution;
import dev.edgesync.conflict.Version;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The LWW decision alone ({@link LwwResolver#resolve}): a newer version (apply), an older one
 * (lose), a tie on the clock broken by the origin, and the same version (duplicate, the echo of a
 * write coming back from a peer). The check against stored state inside a group commit is in
 * {@link GroupCommitBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LwwBench {
  // Not final, and set in @Setup: final fields would let the JIT fold the whole comparison.
  private Version stored;
  private Version newer;
  private Version older;
  private Version tie;
  private Version same;

  @Setup
  public void setUp() {
    long now = Hlc.of(1_790_000_000_000L, 0);
    stored = new Version(now + 5, "site-b");
    newer = new Version(now + 9, "site-a");
    older = new Version(now + 1, "site-c");
    tie = new Version(now + 5, "site-c");
    same = new Version(now + 5, new String("site-b".toCharArray()));
  }

  @Benchmark
  public Resolution applyNewer() {
    return LwwResolver.resolve(stored, newer);
  }

  @Benchmark
  public Resolution loseOlder() {
    return LwwResolver.resolve(stored, older);
  }

  @Benchmark
  public Resolution tieBrokenByOrigin() {
    return LwwResolver.resolve(stored, tie);
  }

  @Benchmark
  public Resolution duplicate() {
    return LwwResolver.resolve(stored, same);
  }
}
