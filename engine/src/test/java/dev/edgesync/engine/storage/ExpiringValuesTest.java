package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.hlcAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Values with a time to live in the store: the version, the index, the count, collection, announcements. */
class ExpiringValuesTest {
  @TempDir Path dir;

  private final ManualClock clock = new ManualClock(BASE_MILLIS);

  private GroupCommitStore open() {
    return StoreFixtures.openLevelDb(dir, clock);
  }


  /** The keys (with {@code @origin} when asked) of every expiry the store announces, in order. */
  private static List<String> expiriesTold(GroupCommitStore store, boolean withOrigin) {
    List<String> told = java.util.Collections.synchronizedList(new ArrayList<>());
    store.addCommitListener(
        new CommitListener() {
          @Override
          public void onCommit(List<StoredEntry> stored, String origin, long headSeq) {}

          @Override
          public void onExpired(List<StoredEntry> expired) {
            expired.forEach(
                e -> told.add(new String(e.key(), StandardCharsets.UTF_8) + (withOrigin ? "@" + e.version().origin() : "")));
          }
        });
    return told;
  }

  @Test
  void theExpiryIsPartOfTheStoredVersionAndSurvivesARestart() {
    long expires;
    try (GroupCommitStore store = open()) {
      WriteResult w = store.submitLocal(bytes("session"), bytes("s1"), null, 30_000).join();
      StoredEntry e = store.get(bytes("session")).orElseThrow();
      expires = e.expiresHlc();
      assertEquals(Hlc.physicalMillis(w.version().hlc()) + 30_000, Hlc.physicalMillis(expires));
      assertFalse(e.expiredAt(w.version().hlc()));
      assertTrue(e.expiredAt(expires));
      assertEquals(1, store.gcState().expiring());
      assertEquals(store.recomputeDigest(), store.digest(), "the digest covers the expiry");
    }
    try (GroupCommitStore store = open()) {
      assertEquals(expires, store.get(bytes("session")).orElseThrow().expiresHlc());
      assertEquals(expires, StoreFixtures.allChanges(store).get(0).expiresHlc(), "the change log ships the expiry");
      assertEquals(1, store.gcState().expiring());
    }
  }

  @Test
  void aLaterWriteReplacesTheExpiryAndItsIndexRow() {
    try (GroupCommitStore store = open()) {
      store.submitLocal(bytes("k"), bytes("v1"), null, 1_000).join();
      store.submitLocal(bytes("k"), bytes("v2")).join();
      assertEquals(0, store.get(bytes("k")).orElseThrow().expiresHlc());
      assertEquals(0, store.gcState().expiring());
      store.submitLocal(bytes("k"), bytes("v3"), null, 1_000).join();
      store.submitLocal(bytes("k"), null).join();
      assertEquals(0, store.gcState().expiring());
      assertEquals(1, store.gcState().tombstones());
      // Nothing of the index is left to collect: a far horizon purges only the tombstone.
      VersionedStore.GcOutcome out =
          store.collectTombstones(hlcAt(BASE_MILLIS + 3_600_000), hlcAt(BASE_MILLIS + 3_600_000), 100, Map.of(), Set.of()).join();
      assertEquals(1, out.purged());
      assertEquals(store.recomputeDigest(), store.digest());
    }
  }

  @Test
  void aValueReadAsExpiredStaysExpiredAfterARestartWithTheWallClockSetBack() {
    try (GroupCommitStore store = open()) {
      store.submitLocal(bytes("k"), bytes("v"), null, 1_000).join();
      clock.advance(Duration.ofMillis(1_500));
      assertTrue(store.get(bytes("k")).orElseThrow().expiredAt(store.readTime()));
    }
    clock.advance(Duration.ofSeconds(-30)); // the wall clock is set back while the node is down
    try (GroupCommitStore store = open()) {
      long readAt = store.readTime();
      assertTrue(store.get(bytes("k")).orElseThrow().expiredAt(readAt), "read at " + Hlc.format(readAt));
      assertTrue(Hlc.physicalMillis(readAt) <= BASE_MILLIS + 1_500 + ReadClock.LEASE_MILLIS, "at most a lease early");
    }
  }

  @Test
  void badTimesToLiveAreRefusedNamingTheRange() {
    try (GroupCommitStore store = open()) {
      IllegalArgumentException negative =
          assertThrows(IllegalArgumentException.class, () -> store.submitLocal(bytes("k"), bytes("v"), null, -1));
      assertTrue(negative.getMessage().contains("out of range"), negative.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> store.submitLocal(bytes("k"), bytes("v"), null, VersionedStore.MAX_TTL_MILLIS + 1));
      IllegalArgumentException delete =
          assertThrows(IllegalArgumentException.class, () -> store.submitLocal(bytes("k"), null, null, 1_000));
      assertTrue(delete.getMessage().contains("delete"), delete.getMessage());
    }
  }

  @Test
  void expiredValuesBelowTheHorizonAreCollectedAndDoNotComeBack() {
    try (GroupCommitStore store = open()) {
      for (int i = 0; i < 30; i++) {
        store.submitLocal(bytes("short" + i), bytes("v"), null, 1_000).join(); // expires at BASE + 1 s
      }
      store.submitLocal(bytes("long"), bytes("v"), null, 3_600_000).join(); // expires in an hour
      store.submitLocal(bytes("forever"), bytes("v")).join();
      StoredEntry expired = store.get(bytes("short0")).orElseThrow();
      assertEquals(31, store.gcState().expiring());

      // Rounds of 20 rows: the first leaves some, the second finishes.
      long horizon = hlcAt(BASE_MILLIS + 60_000);
      VersionedStore.GcOutcome first = store.collectTombstones(horizon, horizon, 20, Map.of(), Set.of()).join();
      assertEquals(20, first.purged());
      assertTrue(first.more());
      VersionedStore.GcOutcome second = store.collectTombstones(horizon, horizon, 20, Map.of(), Set.of()).join();
      assertEquals(10, second.purged());
      assertFalse(second.more());

      assertEquals(1, store.gcState().expiring());
      assertEquals(30, store.gcState().purgedTotal());
      assertTrue(store.get(bytes("short7")).isEmpty());
      assertTrue(store.get(bytes("long")).isPresent());
      assertTrue(store.get(bytes("forever")).isPresent());
      assertEquals(2, StoreFixtures.allChanges(store).size());
      assertEquals(store.recomputeDigest(), store.digest());

      // The collected value comes back from a peer that still holds it: as a stream entry or as an
      // anti-entropy repair, it is dropped (it expired before the horizon).
      StoredEntry again = expired.withSeq(0);
      assertEquals(0, store.submitRemote("b", List.of(again)).join().applied());
      assertEquals(0, store.submitRemote("b", List.of(again), true).join().applied());
      assertTrue(store.get(bytes("short0")).isEmpty());
    }
  }

  @Test
  void aConditionalWriteSeesAnExpiredValueAsAbsent() {
    try (GroupCommitStore store = open()) {
      WriteResult w = store.submitLocal(bytes("lock"), bytes("holder-1"), null, 1_000).join();
      assertThrows(
          CompletionException.class,
          () -> store.submitLocal(bytes("lock"), bytes("holder-2"), Precondition.absent()).join(),
          "live: the lock is held");
      clock.advance(Duration.ofSeconds(2));
      CompletionException stale =
          assertThrows(
              CompletionException.class,
              () -> store.submitLocal(bytes("lock"), bytes("again"), Precondition.version(w.version())).join());
      assertTrue(stale.getCause().getMessage().contains("(expired)"), stale.getCause().getMessage());
      store.submitLocal(bytes("lock"), bytes("holder-2"), Precondition.absent(), 1_000).join();
      assertEquals("holder-2", new String(store.get(bytes("lock")).orElseThrow().value(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void expiriesAreAnnouncedOnceInExpiryOrderAndAnArrivingExpiredValueWithItsCommit() {
    try (GroupCommitStore store = open()) {
      List<String> told = expiriesTold(store, false);
      store.submitLocal(bytes("b"), bytes("v"), null, 2_000).join();
      store.submitLocal(bytes("a"), bytes("v"), null, 1_000).join();
      store.submitLocal(bytes("c"), bytes("v"), null, 60_000).join();
      store.submitLocal(bytes("d"), bytes("v"), null, 1_000).join();
      store.submitLocal(bytes("d"), bytes("replaced"), null, 60_000).join(); // its first expiry never comes

      assertFalse(store.announceExpired(10).join());
      assertEquals(List.of(), told, "nothing expired yet");
      clock.advance(Duration.ofSeconds(3));
      assertTrue(store.announceExpired(1).join(), "one at a time: more left");
      assertFalse(store.announceExpired(10).join());
      assertFalse(store.announceExpired(10).join());
      assertEquals(List.of("a", "b"), told);

      // A peer's value that had expired before the last announcement is announced with its commit.
      long past = hlcAt(BASE_MILLIS + 500);
      StoredEntry late = new StoredEntry(bytes("late"), bytes("v"), false, new Version(hlcAt(BASE_MILLIS + 100), "b"), 0, past);
      store.submitRemote("b", List.of(late)).join();
      assertEquals(List.of("a", "b", "late"), told);
    }
  }

  /** Found in review: an expiry was announced for a version that a later write of the same group replaced. */
  @Test
  void anArrivingExpiredValueReplacedInTheSameGroupIsNotAnnounced() throws Exception {
    HoldFirstGroupGate gate = new HoldFirstGroupGate();
    try (GroupCommitStore store =
        GroupCommitStore.open(
            new dev.edgesync.engine.storage.kv.MemoryKvStore(), "mem", StoreFixtures.options("a", clock), EngineMetrics.noRegistry(), gate)) {
      List<String> told = expiriesTold(store, true);
      java.util.concurrent.CompletableFuture<WriteResult> holder = store.submitLocal(bytes("other"), bytes("x"));
      assertTrue(gate.awaitTaken(), "the writer took the first command");
      // One group: b's copy of k that expired a second ago, then a local write of k.
      StoredEntry late =
          new StoredEntry(bytes("k"), bytes("old"), false, new Version(hlcAt(BASE_MILLIS - 2_000), "b"), 0, hlcAt(BASE_MILLIS - 1_000));
      java.util.concurrent.CompletableFuture<ApplyResult> remote = store.submitRemote("b", List.of(late));
      java.util.concurrent.CompletableFuture<WriteResult> local = store.submitLocal(bytes("k"), bytes("new"));
      StoredEntry lateToo =
          new StoredEntry(bytes("j"), bytes("old"), false, new Version(hlcAt(BASE_MILLIS - 2_000), "b"), 0, hlcAt(BASE_MILLIS - 1_000));
      java.util.concurrent.CompletableFuture<ApplyResult> remoteToo = store.submitRemote("b", List.of(lateToo));
      gate.release();
      holder.join();
      remote.join();
      local.join();
      remoteToo.join();
      assertEquals(List.of("j@b"), told, "k's expired copy was replaced by the local write in the same group");
      assertEquals("new", new String(store.get(bytes("k")).orElseThrow().value(), StandardCharsets.UTF_8));
    }
  }
}
