package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.hlcAt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.KvStore.Mutation;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tombstone collection in the store: the index, the purge, the counts, the drop rule, restarts. */
class TombstoneCollectionTest {
  @TempDir Path dir;

  private final ManualClock clock = new ManualClock(BASE_MILLIS);

  private GroupCommitStore open() {
    return StoreFixtures.openLevelDb(dir, clock);
  }


  @Test
  void tombstonesBelowTheHorizonLeaveStateLogIndexAndDigestOthersStay() {
    try (GroupCommitStore store = open()) {
      for (int i = 0; i < 100; i++) {
        store.submitLocal(bytes("k" + i), bytes("v" + i)).join();
      }
      clock.advance(Duration.ofSeconds(1));
      for (int i = 0; i < 60; i++) {
        store.submitLocal(bytes("k" + i), null).join(); // deleted at BASE + 1 s
      }
      clock.advance(Duration.ofSeconds(10));
      for (int i = 60; i < 80; i++) {
        store.submitLocal(bytes("k" + i), null).join(); // deleted at BASE + 11 s
      }
      assertEquals(80, store.gcState().tombstones());
      assertEquals(20, store.keyCount(), "100 keys written, 80 deleted");

      VersionedStore.GcOutcome out =
          store.collectTombstones(hlcAt(BASE_MILLIS + 20_000), hlcAt(BASE_MILLIS + 5_000), 1_000, Map.of("b", 7L), Set.of()).join();

      assertEquals(60, out.purged());
      assertFalse(out.more());
      assertEquals(20, store.keyCount(), "collecting tombstones leaves the keys held");
      assertEquals(20, store.gcState().tombstones());
      assertEquals(60, store.gcState().purgedTotal());
      assertEquals(hlcAt(BASE_MILLIS + 5_000), store.gcState().purgeHorizon());
      assertEquals(hlcAt(BASE_MILLIS + 20_000), store.gcState().stableHlc());
      assertEquals(Map.of("b", 7L), store.gcState().members());
      for (int i = 0; i < 60; i++) {
        assertTrue(store.get(bytes("k" + i)).isEmpty(), "k" + i + " was purged");
      }
      assertTrue(store.get(bytes("k70")).orElseThrow().tombstone());
      assertFalse(store.get(bytes("k90")).orElseThrow().tombstone());
      // The log: each remaining key once, no purged one; the digest: what the state sums to.
      List<StoredEntry> log = StoreFixtures.allChanges(store);
      assertEquals(40, log.size());
      assertTrue(log.stream().noneMatch(e -> e.tombstone() && e.version().hlc() < hlcAt(BASE_MILLIS + 5_000)));
      assertEquals(store.recomputeDigest(), store.digest());
    }
  }

  @Test
  void aRoundPurgesAtMostItsBatchAndSaysMoreAreLeft() {
    try (GroupCommitStore store = open()) {
      for (int i = 0; i < 25; i++) {
        store.submitLocal(bytes("k" + i), null).join();
      }
      long horizon = hlcAt(BASE_MILLIS + 1_000);
      VersionedStore.GcOutcome first = store.collectTombstones(0, horizon, 10, Map.of(), Set.of()).join();
      assertEquals(10, first.purged());
      assertTrue(first.more());
      store.collectTombstones(0, horizon, 10, Map.of(), Set.of()).join();
      VersionedStore.GcOutcome last = store.collectTombstones(0, horizon, 10, Map.of(), Set.of()).join();
      assertEquals(5, last.purged());
      assertFalse(last.more());
      assertEquals(0, store.gcState().tombstones());
      assertEquals(store.recomputeDigest(), store.digest());
    }
  }

  @Test
  void aNewVersionOfADeletedKeyTakesItsTombstoneOutOfTheIndex() {
    try (GroupCommitStore store = open()) {
      store.submitLocal(bytes("k"), null).join();
      store.submitLocal(bytes("k"), bytes("back")).join();
      assertEquals(0, store.gcState().tombstones());
      store.collectTombstones(0, hlcAt(BASE_MILLIS + 60_000), 100, Map.of(), Set.of()).join();
      assertArrayEquals(bytes("back"), store.get(bytes("k")).orElseThrow().value());
    }
  }

  @Test
  void anOlderVersionOfAPurgedKeyIsDroppedANewerOneApplies() {
    try (GroupCommitStore store = open()) {
      store.submitLocal(bytes("k"), null).join();
      long horizon = hlcAt(BASE_MILLIS + 1_000);
      store.collectTombstones(0, horizon, 100, Map.of(), Set.of()).join();
      assertTrue(store.get(bytes("k")).isEmpty());

      StoredEntry stale = new StoredEntry(bytes("k"), bytes("old"), false, new Version(hlcAt(BASE_MILLIS - 5_000), "b"), 1);
      ApplyResult dropped = store.submitRemote("b", List.of(stale)).join();
      assertEquals(0, dropped.applied());
      assertTrue(store.get(bytes("k")).isEmpty(), "an older version than the purged tombstone came back");

      StoredEntry fresh = new StoredEntry(bytes("k"), bytes("new"), false, new Version(hlcAt(BASE_MILLIS + 2_000), "b"), 2);
      assertEquals(1, store.submitRemote("b", List.of(fresh)).join().applied());
      assertArrayEquals(bytes("new"), store.get(bytes("k")).orElseThrow().value());
    }
  }

  @Test
  void countsHorizonMembersAndTheClockSurviveARestart() {
    long stable;
    try (GroupCommitStore store = open()) {
      for (int i = 0; i < 10; i++) {
        store.submitLocal(bytes("k" + i), null).join();
      }
      clock.advance(Duration.ofSeconds(5));
      store.submitLocal(bytes("late"), null).join();
      stable = store.quiescentClock();
      store.collectTombstones(stable, hlcAt(BASE_MILLIS + 1_000), 100, Map.of("b", 3L), Set.of("gone")).join();
    }
    clock.set(BASE_MILLIS - 60_000); // the wall clock went back across the restart
    try (GroupCommitStore store = open()) {
      GcState gc = store.gcState();
      assertEquals(1, gc.tombstones());
      assertEquals(10, gc.purgedTotal());
      assertEquals(hlcAt(BASE_MILLIS + 1_000), gc.purgeHorizon());
      assertEquals(stable, gc.stableHlc());
      assertEquals(Map.of("b", 3L), gc.members());
      assertEquals(Set.of("gone"), gc.forgotten());
      assertEquals(0, store.keyCount(), "every key deleted, counted again at open");
      assertTrue(store.submitLocal(bytes("x"), bytes("y")).join().version().hlc() > stable, "a write after the restart is above the reported clock");
      store.submitLocal(bytes("x"), bytes("z")).join();
      store.submitLocal(bytes("k3"), bytes("back")).join();
      assertEquals(2, store.keyCount(), "a new key, an overwrite, and a purged key written again");
    }
  }

  @Test
  void aDatabaseFromBeforeTheIndexGetsItAtOpen() {
    try (GroupCommitStore store = open()) {
      store.submitLocal(bytes("a"), bytes("1")).join();
      store.submitLocal(bytes("b"), null).join();
      store.submitLocal(bytes("c"), null).join();
    }
    // Make it look like a database of the previous release: no index rows, no count.
    KvStore kv = LevelDbKvStore.open(dir.resolve("db"));
    try {
      List<Mutation> strip = new java.util.ArrayList<>();
      for (KvStore.Row row : StoreFixtures.rows(kv, StoreLayout.TOMBSTONES)) {
        strip.add(Mutation.delete(row.key()));
      }
      strip.add(Mutation.delete(StoreLayout.metaKey(StoreLayout.META_TOMBSTONES)));
      strip.add(Mutation.delete(StoreLayout.metaKey(StoreLayout.META_OLDEST_HLC)));
      kv.write(strip, true);
    } finally {
      kv.close();
    }
    try (GroupCommitStore store = open()) {
      assertEquals(2, store.gcState().tombstones());
      assertEquals(store.get(bytes("a")).orElseThrow().version().hlc(), store.gcState().oldestHlc());
      assertEquals(2, store.collectTombstones(0, hlcAt(BASE_MILLIS + 1_000), 100, Map.of(), Set.of()).join().purged());
      assertEquals(store.recomputeDigest(), store.digest());
    }
  }
}
