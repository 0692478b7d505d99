package dev.edgesync.bench.micro;

import dev.edgesync.bench.load.Workload;
import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.ApplyResult;
import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.storage.WriteResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
 * The node's single writer ({@link GroupCommitStore}) on LevelDB, with fsync on every group commit
 * ({@code sync=true}) or not. Scores are entries per second:
 *
 * <ul>
 *   <li>{@code localWrites}: 1000 local puts of new keys submitted at once and awaited (HLC,
 *       versions, group commit of state, by-seq and meta rows, digest update);
 *   <li>{@code remoteBatch}: one batch of 1000 new entries from a peer (skew check, HLC update, LWW
 *       check that misses the cache and reads LevelDB, apply);
 *   <li>{@code remoteDuplicates}: the same 1000 entries again (every LWW check hits the cache and
 *       says duplicate; nothing is written): the cost of an echo.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(GroupCommitBench.BATCH)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GroupCommitBench {
  static final int BATCH = 1000;

  @Param({"false", "true"})
  public boolean sync;

  private Path dir;
  private GroupCommitStore store;
  private byte[] value;
  private long next;
  private List<StoredEntry> applied;

  @Setup(Level.Trial)
  public void setUp() {
    dir = Stores.tempDir("edgesync-jmh-gc-");
    store = Stores.open(dir, sync);
    value = new byte[100];
    Arrays.fill(value, (byte) 'x');
    applied = remoteEntries("d");
    store.submitRemote("peer", applied).join();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    store.close();
    Stores.delete(dir);
  }

  private List<StoredEntry> remoteEntries(String prefix) {
    long hlc = Hlc.of(System.currentTimeMillis(), 0);
    List<StoredEntry> list = new ArrayList<>(BATCH);
    for (int i = 0; i < BATCH; i++) {
      list.add(new StoredEntry(Workload.key(prefix, next++), value, false, new Version(hlc, "peer"), 0));
    }
    return list;
  }

  @Benchmark
  public long localWrites() {
    List<CompletableFuture<WriteResult>> futures = new ArrayList<>(BATCH);
    for (int i = 0; i < BATCH; i++) {
      futures.add(store.submitLocal(Workload.key("l", next++), value));
    }
    long seq = 0;
    for (CompletableFuture<WriteResult> f : futures) {
      seq = f.join().seq();
    }
    return seq;
  }

  @Benchmark
  public ApplyResult remoteBatch() {
    return store.submitRemote("peer", remoteEntries("r")).join();
  }

  @Benchmark
  public ApplyResult remoteDuplicates() {
    return store.submitRemote("peer", applied).join();
  }
}
