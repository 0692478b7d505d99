package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.string;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guards the iq80 0.12 defect "Could not open table N" (a read right after reopening a freshly
 * loaded database meets a table file that a background compaction just deleted): load enough to
 * compact, reopen, and read, scan and walk the change log at once while writes force more
 * compactions. No read may fail and no row may be missing.
 */
class LevelDbCompactionReadStressTest {
  private static final int LOADED_KEYS = 150_000;
  private static final int BATCH = 1_000;
  private static final int MORE_BATCHES = 20;
  private static final int REOPEN_CYCLES = 3;
  /** A small memtable: many level-0 files, so compactions start early and often. */
  private static final int WRITE_BUFFER_BYTES = 512 << 10;

  @TempDir Path dir;

  private final ManualClock clock = new ManualClock(BASE_MILLIS + Duration.ofMinutes(1).toMillis());

  private static byte[] key(int i) {
    return bytes(String.format("key-%07d", i));
  }

  private GroupCommitStore open(LevelDbKvStore kv) {
    return GroupCommitStore.open(
        kv, kv.directory().toString(), StoreFixtures.options("node-a", clock, false, 1_000, 4_096, null), EngineMetrics.noRegistry());
  }

  private static List<StoredEntry> batch(int firstKey, int count, long hlc, SplittableRandom random) {
    List<StoredEntry> entries = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      byte[] value = new byte[24 + random.nextInt(24)];
      random.nextBytes(value);
      entries.add(new StoredEntry(key(firstKey + i), value, false, new Version(hlc + i, "loader"), 0));
    }
    return entries;
  }

  @Test
  void readsDuringCompactionsAfterReopenNeitherFailNorMissRows() throws Exception {
    long seed = Long.getLong("edgesync.seed", System.nanoTime());
    System.out.println("LevelDbCompactionReadStressTest seed=" + seed);
    SplittableRandom random = new SplittableRandom(seed);
    Path db = dir.resolve("db");
    long hlc = Hlc.of(BASE_MILLIS, 0);

    long loadStart = System.nanoTime();
    try (GroupCommitStore store = open(LevelDbKvStore.open(db, WRITE_BUFFER_BYTES, LevelDbKvStore.DEFAULT_MAX_READ_ATTEMPTS))) {
      List<CompletableFuture<ApplyResult>> pending = new ArrayList<>();
      for (int first = 0; first < LOADED_KEYS; first += BATCH) {
        pending.add(store.submitRemote("loader", batch(first, BATCH, hlc + first, random)));
      }
      pending.forEach(CompletableFuture::join);
      assertEquals(LOADED_KEYS, store.headSeq());
    }
    hlc += LOADED_KEYS;
    long loadMillis = (System.nanoTime() - loadStart) / 1_000_000;

    long expectedHead = LOADED_KEYS;
    int newKey = LOADED_KEYS;
    for (int cycle = 0; cycle < REOPEN_CYCLES; cycle++) {
      expectedHead += reopenAndReadWhileWriting(db, random, seed, hlc, newKey, expectedHead, cycle, loadMillis);
      hlc += (long) MORE_BATCHES * BATCH;
      newKey += MORE_BATCHES * BATCH;
    }
  }

  /** Reopens the database and reads while writing; returns how many entries the writes applied. */
  private long reopenAndReadWhileWriting(
      Path db, SplittableRandom random, long seed, long hlc, int firstNewKey, long head, int cycle, long loadMillis)
      throws Exception {
    LevelDbKvStore kv = LevelDbKvStore.open(db, WRITE_BUFFER_BYTES, LevelDbKvStore.DEFAULT_MAX_READ_ATTEMPTS);
    ExecutorService writerThread = Executors.newSingleThreadExecutor();
    int reads = 0;
    int walks = 0;
    try (GroupCommitStore store = open(kv)) {
      assertEquals(head, store.headSeq());
      // Writes start at once: overwrites of loaded keys and new keys, forcing compactions while
      // the reads below run against a database that was just reopened.
      long writerSeed = random.nextLong();
      Future<Integer> writes =
          writerThread.submit(
              () -> {
                SplittableRandom r = new SplittableRandom(writerSeed);
                int applied = 0;
                for (int b = 0; b < MORE_BATCHES; b++) {
                  int first = b % 2 == 0 ? r.nextInt(LOADED_KEYS - BATCH) : firstNewKey + b * BATCH;
                  applied += store.submitRemote("writer", batch(first, BATCH, hlc + (long) b * BATCH, r)).join().applied();
                }
                return applied;
              });

      do {
        // Point reads of loaded keys first: they meet the database right after the reopen.
        for (int i = 0; i < 5_000; i++) {
          int k = random.nextInt(LOADED_KEYS);
          assertTrue(store.get(key(k)).isPresent(), "key " + k + " missing (seed " + seed + ")");
          reads++;
        }
        // A prefix scan: every loaded key under it, once, in order.
        int scanned = 0;
        try (VersionedStore.EntryIterator it = store.scan(bytes("key-012"))) {
          while (it.hasNext()) {
            assertEquals(String.format("key-012%04d", scanned), string(it.next().key()), "seed " + seed);
            scanned++;
          }
        }
        assertEquals(10_000, scanned, "seed " + seed);
        // A walk of the whole change log: every loaded key at least once (an overwritten key may
        // show twice: before and after its overwrite).
        BitSet seen = new BitSet(LOADED_KEYS);
        long after = 0;
        while (true) {
          ChangeBatch changes = store.readChanges(after, 4_096, 1 << 20);
          for (StoredEntry e : changes.entries()) {
            seen.set(Integer.parseInt(string(e.key()).substring(4)));
          }
          if (changes.lastSeq() >= changes.headSeq()) {
            break;
          }
          after = changes.lastSeq();
        }
        assertEquals(
            LOADED_KEYS, seen.get(0, LOADED_KEYS).cardinality(), "keys missing from the change log (seed " + seed + ")");
        walks++;
      } while (!writes.isDone());
      int applied = writes.get(60, TimeUnit.SECONDS);
      assertEquals(head + applied, store.headSeq());
      assertEquals(store.recomputeDigest(), store.digest());
      List<Path> tables = tableFiles(db);
      long highestTable = tables.stream().mapToLong(LevelDbCompactionReadStressTest::fileNumber).max().orElse(0);
      System.out.printf(
          "cycle %d (load took %d ms): %d point reads, %d change-log walks during %d batches; %d read retries;"
              + " %d live table files, highest file number %d%n",
          cycle, loadMillis, reads, walks, MORE_BATCHES, kv.readRetries(), tables.size(), highestTable);
      // Compactions happened: table files were replaced (file numbers outran the live count).
      assertTrue(highestTable > 2L * tables.size(), "no sign of compaction: " + tables.size() + " tables, highest " + highestTable);
      return applied;
    } finally {
      writerThread.shutdownNow();
    }
  }

  private static List<Path> tableFiles(Path db) throws IOException {
    try (Stream<Path> files = Files.list(db)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".sst") || p.getFileName().toString().endsWith(".ldb"))
          .toList();
    }
  }

  private static long fileNumber(Path table) {
    String name = table.getFileName().toString();
    return Long.parseLong(name.substring(0, name.indexOf('.')));
  }
}
