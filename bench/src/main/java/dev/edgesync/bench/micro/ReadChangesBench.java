package dev.edgesync.bench.micro;

import dev.edgesync.engine.storage.ChangeBatch;
import dev.edgesync.engine.storage.GroupCommitStore;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The publisher's read of its change log ({@code readChanges}: a by-seq iterator plus one state
 * row read per entry, at a snapshot), in batches of 1000 as replication reads them. Score: entries
 * per second. This is what bounds how fast a node can serve a catch-up.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(ReadChangesBench.BATCH)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ReadChangesBench {
  static final int BATCH = 1000;

  @Param({"200000"})
  public int entries;

  private Path dir;
  private GroupCommitStore store;
  private long cursor;

  @Setup(Level.Trial)
  public void setUp() {
    dir = Stores.tempDir("edgesync-jmh-read-");
    store = Stores.open(dir, false);
    byte[] value = new byte[100];
    Arrays.fill(value, (byte) 'x');
    Stores.fill(store, "k", entries, value);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    store.close();
    Stores.delete(dir);
  }

  @Benchmark
  public ChangeBatch readBatch() {
    ChangeBatch b = store.readChanges(cursor, BATCH, 2 * 1024 * 1024);
    cursor = b.lastSeq() + BATCH >= entries ? 0 : b.lastSeq();
    return b;
  }
}
