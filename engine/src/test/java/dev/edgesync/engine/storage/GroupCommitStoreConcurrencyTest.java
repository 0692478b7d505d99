package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.string;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.StoreFixtures.Backend;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Many threads writing through the single writer: nothing lost, seqs unique and dense. */
class GroupCommitStoreConcurrencyTest {
  private static final int THREADS = 8;
  private static final int WRITES_PER_THREAD = 2_000;
  private static final int IN_FLIGHT_PER_THREAD = 16;

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(Backend.class)
  void concurrentWritersLoseNothingAndGetDenseSeqs(Backend backend) throws Exception {
    EngineMetrics metrics = EngineMetrics.noRegistry();
    ManualClock clock = new ManualClock(BASE_MILLIS);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try (GroupCommitStore store =
        GroupCommitStore.open(backend.open(dir), "test-db", StoreFixtures.options("node-a", clock), metrics)) {
      List<Future<List<WriteResult>>> threads = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        threads.add(
            pool.submit(
                () -> {
                  List<WriteResult> results = new ArrayList<>();
                  List<CompletableFuture<WriteResult>> inFlight = new ArrayList<>();
                  for (int i = 0; i < WRITES_PER_THREAD; i++) {
                    inFlight.add(store.submitLocal(bytes("t" + thread + "-k" + i), bytes("v" + i)));
                    if (inFlight.size() == IN_FLIGHT_PER_THREAD) {
                      inFlight.forEach(f -> results.add(f.join()));
                      inFlight.clear();
                    }
                  }
                  inFlight.forEach(f -> results.add(f.join()));
                  return results;
                }));
      }
      Set<Long> seqs = new HashSet<>();
      for (Future<List<WriteResult>> f : threads) {
        for (WriteResult r : f.get(60, TimeUnit.SECONDS)) {
          assertTrue(seqs.add(r.seq()), "seq " + r.seq() + " given twice");
        }
      }
      int total = THREADS * WRITES_PER_THREAD;
      assertEquals(total, seqs.size());
      for (long s = 1; s <= total; s++) {
        assertTrue(seqs.contains(s), "seq " + s + " missing");
      }
      assertEquals(total, store.headSeq());
      for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < WRITES_PER_THREAD; i++) {
          assertEquals("v" + i, string(store.get(bytes("t" + t + "-k" + i)).orElseThrow().value()));
        }
      }
      assertEquals(total, StoreFixtures.allChanges(store).size());
      assertEquals(store.recomputeDigest(), store.digest());
      // Batching is an outcome of the run, not something to assert: report it.
      System.out.printf(
          "%s: %d writes in %d group commits, largest %.0f entries, mean %.1f%n",
          backend,
          total,
          metrics.commitBatchEntries().count(),
          metrics.commitBatchEntries().max(),
          metrics.commitBatchEntries().mean());
    } finally {
      pool.shutdownNow();
    }
  }
}
