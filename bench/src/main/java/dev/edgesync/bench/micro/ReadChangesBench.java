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
 * The publisher's read of its change log ({@code readChanges}), in batches of 1000 as replication
 * reads them. Score: entries per second. {@code from = database}: the store was reopened after it
 * was filled, so every read is a by-seq iterator plus one state-row read per entry at a snapshot;
 * that is what bounds how fast a node serves a catch-up. {@code from = recent}: the reads stay in
 * the newest seqs, which the store serves from its recent log in memory, as it does for
 * subscribers that keep up.
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

  @Param({"database", "recent"})
  public String from;

  private Path dir;
  private GroupCommitStore store;
  private long cursor;
  private long first; // the cursor restarts here

  @Setup(Level.Trial)
  public void setUp() {
    dir = Stores.tempDir("edgesync-jmh-read-");
    store = Stores.open(dir, false);
    byte[] value = new byte[100];
    Arrays.fill(value, (byte) 'x');
    Stores.fill(store, "k", entries, value);
    if (from.equals("database")) {
      store.close();
      store = Stores.open(dir, false);
    } else {
      // Inside the recent log, with a batch to spare at its old end.
      first = entries - GroupCommitStore.RECENT_LOG_ENTRIES + BATCH;
    }
    cursor = first;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    store.close();
    Stores.delete(dir);
  }

  @Benchmark
  public ChangeBatch readBatch() {
    ChangeBatch b = store.readChanges(cursor, BATCH, 2 * 1024 * 1024);
    cursor = b.lastSeq() + BATCH >= entries ? first : b.lastSeq();
    return b;
  }
}
