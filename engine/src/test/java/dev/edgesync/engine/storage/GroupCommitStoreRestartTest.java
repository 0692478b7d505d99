package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.string;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a {@link GroupCommitStore} on LevelDB keeps across close and reopen. */
class GroupCommitStoreRestartTest {
  @TempDir Path dir;

  private final ManualClock clock = new ManualClock(BASE_MILLIS);

  private GroupCommitStore open(String nodeId) {
    Path db = dir.resolve("db");
    return GroupCommitStore.open(
        LevelDbKvStore.open(db), db.toString(), StoreFixtures.options(nodeId, clock), EngineMetrics.noRegistry());
  }

  @Test
  void everyAcknowledgedWriteSurvivesAndSeqsDigestAndClockContinue() {
    Map<String, WriteResult> acknowledged = new HashMap<>();
    String logId;
    long head;
    StateDigest digest;
    long highestHlc = 0;
    try (GroupCommitStore store = open("node-a")) {
      logId = store.logId();
      List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        String key = "key-" + (i % 1_500);
        byte[] value = i % 10 == 9 ? null : bytes("value-" + i);
        writes.add(store.submitLocal(bytes(key), value));
        keys.add(key);
        clock.advance(Duration.ofMillis(i % 3));
      }
      for (int i = 0; i < writes.size(); i++) {
        WriteResult r = writes.get(i).join();
        highestHlc = Math.max(highestHlc, r.version().hlc());
        WriteResult previous = acknowledged.get(keys.get(i));
        if (previous == null || previous.seq() < r.seq()) {
          acknowledged.put(keys.get(i), r);
        }
      }
      // A peer whose clock runs 40 s ahead: the HLC mark moves past its timestamp.
      long ahead = Hlc.of(clock.millis() + 40_000, 3);
      store
          .submitRemote(
              "peer-b", List.of(new StoredEntry(bytes("from-b"), bytes("x"), false, new Version(ahead, "node-b"), 0)))
          .join();
      highestHlc = Math.max(highestHlc, ahead);
      head = store.headSeq();
      digest = store.digest();
    }

    // The wall clock went back an hour while the node was down.
    clock.set(BASE_MILLIS - Duration.ofHours(1).toMillis());
    try (GroupCommitStore store = open("node-a")) {
      assertEquals(logId, store.logId());
      assertEquals(head, store.headSeq());
      assertEquals(digest, store.digest());
      assertEquals(digest, store.recomputeDigest());
      for (Map.Entry<String, WriteResult> e : acknowledged.entrySet()) {
        StoredEntry stored = store.get(bytes(e.getKey())).orElseThrow(() -> new AssertionError("lost " + e.getKey()));
        assertEquals(e.getValue().version(), stored.version(), e.getKey());
        assertEquals(e.getValue().seq(), stored.seq(), e.getKey());
      }
      assertEquals("x", string(store.get(bytes("from-b")).orElseThrow().value()));
      assertTrue(store.clock().current() >= highestHlc);

      WriteResult next = store.submitLocal(bytes("after-restart"), bytes("v")).join();
      assertEquals(head + 1, next.seq());
      assertTrue(next.version().hlc() > highestHlc, "the HLC continues above the persisted mark");
      // Overwriting a key written before the restart wins, although the wall clock is behind.
      WriteResult overwrite = store.submitLocal(bytes("from-b"), bytes("mine")).join();
      assertEquals("mine", string(store.get(bytes("from-b")).orElseThrow().value()));
      assertTrue(overwrite.version().isAfter(new Version(highestHlc, "node-b")));
    }
  }

  @Test
  void aDataDirOfAnotherNodeIsRefusedAndLeftUntouched() {
    String logId;
    byte[] value;
    try (GroupCommitStore store = open("node-a")) {
      logId = store.logId();
      store.submitLocal(bytes("k"), bytes("v")).join();
    }
    List<KvStore.Row> before;
    try (LevelDbKvStore kv = LevelDbKvStore.open(dir.resolve("db"))) {
      before = StoreFixtures.rows(kv, StoreLayout.META);
      before.addAll(StoreFixtures.rows(kv, StoreLayout.STATE));
      value = kv.get(StoreLayout.stateKey(bytes("k")));
    }

    NodeIdMismatchException e = assertThrows(NodeIdMismatchException.class, () -> open("node-z"));
    assertTrue(e.getMessage().contains("'node-a'") && e.getMessage().contains("'node-z'"), e.getMessage());
    assertTrue(e.getMessage().contains(dir.resolve("db").toString()), e.getMessage());

    // The refused open released the database (it can be opened again) and wrote nothing.
    try (LevelDbKvStore kv = LevelDbKvStore.open(dir.resolve("db"))) {
      List<KvStore.Row> after = StoreFixtures.rows(kv, StoreLayout.META);
      after.addAll(StoreFixtures.rows(kv, StoreLayout.STATE));
      assertEquals(before.size(), after.size());
      for (int i = 0; i < before.size(); i++) {
        assertArrayEquals(before.get(i).key(), after.get(i).key());
        assertArrayEquals(before.get(i).value(), after.get(i).value());
      }
      assertArrayEquals(value, kv.get(StoreLayout.stateKey(bytes("k"))));
    }
    try (GroupCommitStore store = open("node-a")) {
      assertEquals(logId, store.logId());
      assertEquals(1, store.headSeq());
    }
  }

  @Test
  void aWipedDatabaseGetsANewLogId() {
    String first;
    try (GroupCommitStore store = open("node-a")) {
      first = store.logId();
    }
    Path wiped = dir.resolve("wiped-db");
    try (GroupCommitStore store =
        GroupCommitStore.open(
            LevelDbKvStore.open(wiped), wiped.toString(), StoreFixtures.options("node-a", clock), EngineMetrics.noRegistry())) {
      assertNotEquals(first, store.logId());
      assertEquals(0, store.headSeq());
      assertEquals(StateDigest.EMPTY, store.digest());
    }
  }

  @Test
  void aDatabaseThatIsNotAnEdgesyncDatabaseIsRefused() {
    try (LevelDbKvStore kv = LevelDbKvStore.open(dir.resolve("db"))) {
      kv.write(List.of(KvStore.Mutation.put(bytes("foreign"), bytes("row"))), true);
    }
    StorageException e = assertThrows(StorageException.class, () -> open("node-a"));
    assertTrue(e.getMessage().contains("no node id"), e.getMessage());
  }

  @Test
  void keysStoredBeforeARestartAreKnownToTheLwwCheckAfterIt() {
    // The key filter skips the read of keys the store never held; it must learn every key that
    // was stored before the restart, or an older remote version would overwrite a newer one.
    long t = Hlc.of(BASE_MILLIS - 1_000, 0);
    int n = 3_000;
    try (GroupCommitStore store = open("node-a")) {
      List<StoredEntry> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add(new StoredEntry(bytes("k" + i), bytes("new"), false, new Version(t + 10, "node-b"), 0));
      }
      assertEquals(n, store.submitRemote("peer-b", batch).join().applied());
    }
    try (GroupCommitStore store = open("node-a")) {
      List<StoredEntry> older = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        older.add(new StoredEntry(bytes("k" + i), bytes("old"), false, new Version(t + 1, "node-c"), 0));
      }
      older.add(new StoredEntry(bytes("brand-new"), bytes("v"), false, new Version(t + 1, "node-c"), 0));
      ApplyResult result = store.submitRemote("peer-c", older).join();
      assertEquals(1, result.applied(), "only the key the store never held is applied");
      assertEquals(n, result.conflicts(), "every older version of a stored key loses");
      for (int i = 0; i < n; i += 97) {
        assertEquals("new", string(store.get(bytes("k" + i)).orElseThrow().value()));
      }
      assertEquals(store.recomputeDigest(), store.digest());
    }
  }

  @Test
  void theChangeLogReadFromMemoryIsTheOneTheDatabaseHolds() {
    // More commits than the recent log holds, with overwrites inside and outside it: a read from
    // seq 0 starts in the database and continues in memory; after a restart it is all database.
    List<String> before;
    try (GroupCommitStore store = open("node-a")) {
      // Each round joins before the next: the write queue holds 10,000.
      List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
      for (int i = 0; i < 15_000; i++) {
        writes.add(store.submitLocal(bytes("k" + i), bytes("v" + i)));
        if (writes.size() == 5_000) {
          writes.forEach(CompletableFuture::join);
          writes.clear();
        }
      }
      for (int i = 0; i < 15_000; i += 3) {
        writes.add(store.submitLocal(bytes("k" + i), bytes("again" + i)));
      }
      writes.forEach(CompletableFuture::join);
      writes.clear();
      for (int i = 14_000; i < 15_000; i++) {
        writes.add(store.submitLocal(bytes("k" + i), bytes("third" + i)));
      }
      writes.forEach(CompletableFuture::join);
      assertTrue(store.headSeq() > GroupCommitStore.RECENT_LOG_ENTRIES, "the log is longer than the recent log");
      before = describe(StoreFixtures.allChanges(store));
      assertEquals(15_000, before.size(), "one entry per key: replaced versions are left out");
    }
    try (GroupCommitStore store = open("node-a")) {
      assertEquals(before, describe(StoreFixtures.allChanges(store)));
    }
  }

  private static List<String> describe(List<StoredEntry> log) {
    return log.stream().map(e -> e.seq() + ":" + string(e.key()) + "=" + string(e.value())).toList();
  }
}
