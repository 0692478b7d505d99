package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.rows;
import static dev.edgesync.engine.storage.StoreFixtures.string;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.ClockSkewException;
import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.StoreFixtures.Backend;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Behaviour of {@link GroupCommitStore} on both backends. */
class GroupCommitStoreTest {
  @TempDir Path dir;

  private final ManualClock clock = new ManualClock(BASE_MILLIS);
  private final List<GroupCommitStore> opened = new ArrayList<>();

  @AfterEach
  void closeStores() {
    opened.forEach(GroupCommitStore::close);
  }

  private GroupCommitStore open(KvStore kv, StoreOptions options) {
    GroupCommitStore store = StoreFixtures.open(kv, options);
    opened.add(store);
    return store;
  }

  private GroupCommitStore open(Backend backend) {
    return open(backend.open(dir), StoreFixtures.options("node-a", clock));
  }

  private static StoredEntry remote(String key, String value, long hlc, String origin) {
    return new StoredEntry(bytes(key), bytes(value), false, new Version(hlc, origin), 0);
  }

  private static Throwable failureOf(CompletableFuture<?> future) {
    CompletionException e = assertThrows(CompletionException.class, future::join);
    return e.getCause();
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void putGetDeleteAndScan(Backend backend) {
    GroupCommitStore store = open(backend);
    store.submitLocal(bytes("fruit/apple"), bytes("red")).join();
    store.submitLocal(bytes("fruit/banana"), bytes("yellow")).join();
    store.submitLocal(bytes("veg/carrot"), bytes("orange")).join();
    WriteResult deleted = store.submitLocal(bytes("fruit/banana"), null).join();

    StoredEntry tombstone = store.get(bytes("fruit/banana")).orElseThrow();
    assertTrue(tombstone.tombstone());
    assertEquals(0, tombstone.value().length);
    assertEquals(deleted.version(), tombstone.version());
    assertEquals("red", string(store.get(bytes("fruit/apple")).orElseThrow().value()));
    assertTrue(store.get(bytes("fruit/cherry")).isEmpty());

    List<String> fruit = new ArrayList<>();
    try (VersionedStore.EntryIterator it = store.scan(bytes("fruit/"))) {
      it.forEachRemaining(e -> fruit.add(string(e.key()) + "=" + string(e.value())));
    }
    assertEquals(List.of("fruit/apple=red"), fruit);
    List<String> all = new ArrayList<>();
    try (VersionedStore.EntryIterator it = store.scan(new byte[0])) {
      it.forEachRemaining(e -> all.add(string(e.key())));
    }
    assertEquals(List.of("fruit/apple", "veg/carrot"), all);
    assertEquals(4, store.headSeq());
    assertEquals(store.recomputeDigest(), store.digest());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void localWritesGetDenseSeqsAndIncreasingVersionsOfThisNode(Backend backend) {
    GroupCommitStore store = open(backend);
    Version previous = null;
    for (int i = 1; i <= 50; i++) {
      WriteResult r = store.submitLocal(bytes("k" + (i % 7)), bytes("v" + i)).join();
      assertEquals(i, r.seq());
      assertEquals("node-a", r.version().origin());
      if (previous != null) {
        assertTrue(r.version().isAfter(previous), r.version() + " after " + previous);
      }
      previous = r.version();
    }
    assertEquals(50, store.headSeq());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void readChangesPagesThroughTheLogAndMovesOverwrittenKeysToTheEnd(Backend backend) {
    GroupCommitStore store = open(backend);
    for (int i = 0; i < 10; i++) {
      store.submitLocal(bytes("k" + i), bytes("value-" + i)).join();
    }
    store.submitLocal(bytes("k3"), bytes("again")).join(); // seq 11; seq 4 disappears

    ChangeBatch first = store.readChanges(0, 3, 1 << 20);
    assertEquals(List.of("k0", "k1", "k2"), keys(first.entries()));
    assertEquals(3, first.lastSeq());
    assertEquals(11, first.headSeq());

    ChangeBatch second = store.readChanges(first.lastSeq(), 3, 1 << 20);
    assertEquals(List.of("k4", "k5", "k6"), keys(second.entries()));
    assertEquals(List.of(5L, 6L, 7L), second.entries().stream().map(StoredEntry::seq).toList());

    ChangeBatch rest = store.readChanges(second.lastSeq(), 100, 1 << 20);
    assertEquals(List.of("k7", "k8", "k9", "k3"), keys(rest.entries()));
    assertEquals(11, rest.lastSeq());
    assertEquals("again", string(rest.entries().get(3).value()));

    ChangeBatch atHead = store.readChanges(11, 100, 1 << 20);
    assertTrue(atHead.entries().isEmpty());
    assertEquals(11, atHead.lastSeq());

    // Byte limit: an entry of key (2) + value (7) + origin (6) + 24 = 39 bytes; 100 bytes hold 2.
    ChangeBatch bounded = store.readChanges(0, 100, 100);
    assertEquals(2, bounded.entries().size());
    assertEquals(2, bounded.lastSeq());
    // At least one entry even when it alone is over the byte limit.
    assertEquals(1, store.readChanges(0, 100, 1).entries().size());
  }

  private static List<String> keys(List<StoredEntry> entries) {
    return entries.stream().map(e -> string(e.key())).toList();
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void overwritingOneKeyKeepsExactlyOneBySeqRow(Backend backend) {
    KvStore kv = backend.open(dir);
    GroupCommitStore store = open(kv, StoreFixtures.options("node-a", clock));
    List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      writes.add(store.submitLocal(bytes("hot"), bytes("v" + i)));
    }
    writes.forEach(CompletableFuture::join);

    assertEquals(10_000, store.headSeq());
    List<KvStore.Row> bySeq = rows(kv, StoreLayout.BY_SEQ);
    assertEquals(1, bySeq.size(), "by-seq rows after 10,000 overwrites of one key");
    assertEquals(10_000, StoreLayout.seqOf(bySeq.get(0).key()));
    ChangeBatch all = store.readChanges(0, 1000, 1 << 20);
    assertEquals(1, all.entries().size());
    assertEquals("v9999", string(all.entries().get(0).value()));
    assertEquals(10_000, all.lastSeq());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void refusesEmptyAndOversizeKeysAndValuesWithoutWriting(Backend backend) {
    StoreOptions d = StoreOptions.defaults("node-a", clock);
    StoreOptions small =
        new StoreOptions("node-a", true, 8, 16, 100, 100, 100, clock, d.maxClockSkew(), null);
    GroupCommitStore store = open(backend.open(dir), small);

    LimitExceededException empty =
        assertInstanceOf(LimitExceededException.class, failureOf(store.submitLocal(new byte[0], bytes("v"))));
    assertEquals("limits.maxKeyBytes", empty.limitName());
    assertTrue(empty.getMessage().contains("empty"), empty.getMessage());

    LimitExceededException longKey =
        assertInstanceOf(LimitExceededException.class, failureOf(store.submitLocal(new byte[9], bytes("v"))));
    assertEquals("limits.maxKeyBytes", longKey.limitName());
    assertTrue(longKey.getMessage().contains("9 bytes") && longKey.getMessage().contains("= 8"), longKey.getMessage());

    LimitExceededException bigValue =
        assertInstanceOf(LimitExceededException.class, failureOf(store.submitLocal(bytes("k"), new byte[17])));
    assertEquals("limits.maxValueBytes", bigValue.limitName());
    assertTrue(bigValue.getMessage().contains("17 bytes") && bigValue.getMessage().contains("= 16"), bigValue.getMessage());

    LimitExceededException remote =
        assertInstanceOf(
            LimitExceededException.class,
            failureOf(store.submitRemote("peer-b", List.of(remote("ok", "v", Hlc.of(BASE_MILLIS, 0), "b"),
                remote("far-too-long-key", "v", Hlc.of(BASE_MILLIS, 1), "b")))));
    assertEquals("limits.maxKeyBytes", remote.limitName());
    assertTrue(remote.getMessage().contains("peer-b"), remote.getMessage());

    // Exactly at the limits is fine.
    assertEquals(1, store.submitLocal(new byte[8], new byte[16]).join().seq());
    assertEquals(1, store.headSeq());
    assertTrue(store.get(bytes("ok")).isEmpty());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void fullQueueFailsLocalWritesAtOnce(Backend backend) throws InterruptedException {
    GroupCommitStore store = open(backend.open(dir), StoreFixtures.options("node-a", clock, false, 4, 4096, null));
    CountDownLatch inListener = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    store.addCommitListener(
        (stored, origin, head) -> {
          if (head == 1) {
            inListener.countDown();
            await(release);
          }
        });
    CompletableFuture<WriteResult> first = store.submitLocal(bytes("k0"), bytes("v"));
    assertTrue(inListener.await(10, TimeUnit.SECONDS), "writer reached the listener");
    // The writer is parked in the listener: four writes fill the queue, the fifth is refused.
    List<CompletableFuture<WriteResult>> queued = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      queued.add(store.submitLocal(bytes("k" + i), bytes("v")));
    }
    assertEquals(4, store.pendingWrites());
    LimitExceededException full =
        assertInstanceOf(LimitExceededException.class, failureOf(store.submitLocal(bytes("k5"), bytes("v"))));
    assertEquals("limits.writeQueueDepth", full.limitName());
    assertTrue(full.getMessage().contains("limits.writeQueueDepth = 4"), full.getMessage());

    release.countDown();
    assertEquals(1, first.join().seq());
    queued.forEach(CompletableFuture::join);
    assertEquals(5, store.headSeq());
    assertTrue(store.get(bytes("k5")).isEmpty());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void queuedWritesAreCommittedAsOneGroup(Backend backend) throws InterruptedException {
    EngineMetrics metrics = EngineMetrics.noRegistry();
    GroupCommitStore store =
        GroupCommitStore.open(backend.open(dir), "test-db", StoreFixtures.options("node-a", clock), metrics);
    opened.add(store);
    CountDownLatch inListener = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> commitSizes = new CopyOnWriteArrayList<>();
    store.addCommitListener(
        (stored, origin, head) -> {
          commitSizes.add(stored.size());
          if (head == 1) {
            inListener.countDown();
            await(release);
          }
        });
    CompletableFuture<WriteResult> first = store.submitLocal(bytes("first"), bytes("v"));
    assertTrue(inListener.await(10, TimeUnit.SECONDS));
    List<CompletableFuture<WriteResult>> queued = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      queued.add(store.submitLocal(bytes("k" + i), bytes("v" + i)));
    }
    release.countDown();
    first.join();
    List<Long> seqs = queued.stream().map(f -> f.join().seq()).toList();
    assertEquals(List.of(2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L), seqs);
    assertEquals(List.of(1, 10), commitSizes);
    assertEquals(10.0, metrics.commitBatchEntries().max());
    assertEquals(2, metrics.commitBatchEntries().count());
    assertEquals(11.0, metrics.registry().get("edgesync.local.writes").counter().count());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void remoteBatchWithAFarFutureEntryIsRefusedWholeAndOthersInItsGroupGoOn(Backend backend)
      throws InterruptedException {
    GroupCommitStore store = open(backend);
    store.submitLocal(bytes("before"), bytes("v")).join();
    long head = store.headSeq();
    CountDownLatch inListener = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    store.addCommitListener(
        (stored, origin, h) -> {
          if (h == head + 1) {
            inListener.countDown();
            await(release);
          }
        });
    CompletableFuture<WriteResult> blocker = store.submitLocal(bytes("blocker"), bytes("v"));
    assertTrue(inListener.await(10, TimeUnit.SECONDS));

    long ok = Hlc.of(BASE_MILLIS + 1_000, 0);
    long farFuture = Hlc.of(BASE_MILLIS + Duration.ofMinutes(5).toMillis(), 0);
    CompletableFuture<WriteResult> localBefore = store.submitLocal(bytes("local-1"), bytes("v"));
    CompletableFuture<ApplyResult> skewed =
        store.submitRemote("peer-b", List.of(remote("fine", "v", ok, "b"), remote("future", "v", farFuture, "b")));
    CompletableFuture<WriteResult> localAfter = store.submitLocal(bytes("local-2"), bytes("v"));
    release.countDown();
    blocker.join();

    ClockSkewException skew = assertInstanceOf(ClockSkewException.class, failureOf(skewed));
    assertEquals(farFuture, skew.remoteHlc());
    assertTrue(store.get(bytes("fine")).isEmpty(), "nothing of the refused batch is applied");
    assertTrue(store.get(bytes("future")).isEmpty());
    assertEquals(head + 2, localBefore.join().seq());
    assertEquals(head + 3, localAfter.join().seq());
    assertEquals(head + 3, store.headSeq());
    // The refused timestamps did not drag the clock forward.
    assertTrue(store.clock().current() < farFuture);
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void skewedBatchAloneChangesNothing(Backend backend) {
    GroupCommitStore store = open(backend);
    long farFuture = Hlc.of(BASE_MILLIS + Duration.ofMinutes(2).toMillis(), 0);
    Throwable cause = failureOf(store.submitRemote("peer-b", List.of(remote("x", "v", farFuture, "b"))));
    assertInstanceOf(ClockSkewException.class, cause);
    assertTrue(cause.getMessage().contains("ahead of the local clock"), cause.getMessage());
    assertEquals(0, store.headSeq());
    assertEquals(StateDigest.EMPTY, store.digest());
    // A timestamp within the allowed skew is accepted and moves the clock past it.
    long nearFuture = Hlc.of(BASE_MILLIS + Duration.ofSeconds(30).toMillis(), 0);
    assertEquals(1, store.submitRemote("peer-b", List.of(remote("x", "v", nearFuture, "b"))).join().applied());
    WriteResult local = store.submitLocal(bytes("x"), bytes("mine")).join();
    assertTrue(local.version().hlc() > nearFuture);
    assertEquals("mine", string(store.get(bytes("x")).orElseThrow().value()));
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void losersAreCountedAndReportedAndDuplicatesGetNoSeq(Backend backend) {
    List<String> conflicts = new CopyOnWriteArrayList<>();
    ConflictListener listener =
        (key, winner, loser, fromPeer) -> conflicts.add(string(key) + ":" + winner.origin() + ">" + loser.origin() + "@" + fromPeer);
    EngineMetrics metrics = EngineMetrics.noRegistry();
    GroupCommitStore store =
        GroupCommitStore.open(
            backend.open(dir), "test-db", StoreFixtures.options("node-a", clock, true, 100, 100, listener), metrics);
    opened.add(store);
    long t = Hlc.of(BASE_MILLIS - 1_000, 0);

    ApplyResult first = store.submitRemote("peer-b", List.of(remote("k", "new", t + 5, "b"))).join();
    assertEquals(new ApplyResult(1, 0, 0, 1), first);
    ApplyResult older =
        store.submitRemote("peer-c", List.of(remote("k", "old", t + 1, "c"), remote("k", "same-hlc", t + 5, "a")))
            .join();
    assertEquals(new ApplyResult(0, 0, 2, 1), older);
    ApplyResult again = store.submitRemote("peer-c", List.of(remote("k", "new", t + 5, "b"))).join();
    assertEquals(new ApplyResult(0, 1, 0, 1), again);

    assertEquals(List.of("k:b>c@peer-c", "k:b>a@peer-c"), conflicts);
    assertEquals(2.0, metrics.registry().get("edgesync.conflicts").counter().count());
    assertEquals(1, store.headSeq());
    assertEquals("new", string(store.get(bytes("k")).orElseThrow().value()));
    assertEquals(store.recomputeDigest(), store.digest());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void severalVersionsOfOneKeyInOneBatchResolveToTheNewest(Backend backend) {
    GroupCommitStore store = open(backend);
    long t = Hlc.of(BASE_MILLIS - 1_000, 0);
    ApplyResult r =
        store
            .submitRemote(
                "peer-b",
                List.of(
                    remote("k", "v2", t + 2, "b"),
                    remote("k", "v1", t + 1, "b"),
                    remote("k", "v3", t + 3, "b"),
                    remote("k", "v3", t + 3, "b")))
            .join();
    assertEquals(new ApplyResult(2, 1, 1, 2), r);
    StoredEntry stored = store.get(bytes("k")).orElseThrow();
    assertEquals("v3", string(stored.value()));
    assertEquals(2, stored.seq());
    assertEquals(1, store.readChanges(0, 10, 1 << 20).entries().size());
    assertEquals(store.recomputeDigest(), store.digest());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void commitListenersSeeWinnersInSeqOrderWithTheirOrigin(Backend backend) {
    GroupCommitStore store = open(backend);
    List<String> calls = new CopyOnWriteArrayList<>();
    AutoCloseable handle =
        store.addCommitListener(
            (stored, origin, head) ->
                calls.add(origin + ":" + stored.stream().map(e -> string(e.key()) + "#" + e.seq()).toList() + "->" + head));
    store.submitLocal(bytes("a"), bytes("1")).join();
    long t = Hlc.of(BASE_MILLIS - 1_000, 0);
    store.submitRemote("peer-b", List.of(remote("b", "2", t, "b"), remote("a", "old", t, "b"))).join();
    assertEquals(List.of("null:[a#1]->1", "peer-b:[b#2]->2"), calls);

    assertDoesNotThrowClose(handle);
    store.submitLocal(bytes("c"), bytes("3")).join();
    assertEquals(2, calls.size(), "a removed listener is not called");
  }

  private static void assertDoesNotThrowClose(AutoCloseable handle) {
    try {
      handle.close();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void closeCommitsWhatIsQueuedAndRefusesLaterWrites(Backend backend) {
    KvStore kv = backend.open(dir);
    GroupCommitStore store = StoreFixtures.open(kv, StoreFixtures.options("node-a", clock, false, 10_000, 64, null));
    List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      writes.add(store.submitLocal(bytes("k" + i), bytes("v" + i)));
    }
    store.close();
    List<Long> seqs = new ArrayList<>(writes.stream().map(f -> f.join().seq()).toList());
    Collections.sort(seqs);
    assertEquals(1, seqs.get(0));
    assertEquals(500, seqs.get(499));
    assertEquals(500, store.headSeq());

    StoreClosedException closed =
        assertInstanceOf(StoreClosedException.class, failureOf(store.submitLocal(bytes("late"), bytes("v"))));
    assertTrue(closed.getMessage().contains("closing"), closed.getMessage());
    assertInstanceOf(
        StoreClosedException.class,
        failureOf(store.submitRemote("peer-b", List.of(remote("x", "v", Hlc.of(BASE_MILLIS, 0), "b")))));
    store.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> kv.get(bytes("x")), "the kv store is closed with the store");
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void closeFromAListenerIsRefused(Backend backend) {
    GroupCommitStore store = open(backend);
    List<Throwable> seen = new CopyOnWriteArrayList<>();
    store.addCommitListener(
        (stored, origin, head) -> {
          try {
            store.close();
          } catch (IllegalStateException e) {
            seen.add(e);
          }
        });
    store.submitLocal(bytes("k"), bytes("v")).join();
    assertEquals(1, seen.size());
    assertTrue(seen.get(0).getMessage().contains("writer thread"), seen.get(0).getMessage());
    assertNull(store.failure());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aThrowingListenerStopsWritesButItsCommitStands(Backend backend) {
    GroupCommitStore store = open(backend);
    store.addCommitListener(
        (stored, origin, head) -> {
          throw new IllegalArgumentException("listener bug");
        });
    WriteResult committed = store.submitLocal(bytes("k"), bytes("v")).join();
    assertEquals(1, committed.seq());
    assertTrue(store.failure().getMessage().contains("listener bug"), store.failure().getMessage());
    StorageException later = assertInstanceOf(StorageException.class, failureOf(store.submitLocal(bytes("k2"), bytes("v"))));
    assertTrue(later.getMessage().contains("stopped accepting writes"), later.getMessage());
    assertEquals("v", string(store.get(bytes("k")).orElseThrow().value()));
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void digestIsOrderIndependentAndMatchesARecomputation(Backend backend) {
    long t = Hlc.of(BASE_MILLIS - 1_000, 0);
    List<StoredEntry> entries =
        List.of(
            remote("a", "1", t + 1, "b"),
            remote("b", "2", t + 2, "c"),
            new StoredEntry(bytes("c"), new byte[0], true, new Version(t + 3, "b"), 0));
    GroupCommitStore one = open(backend.open(dir.resolve("one")), StoreFixtures.options("one", clock));
    GroupCommitStore two = open(backend.open(dir.resolve("two")), StoreFixtures.options("two", clock));
    one.submitRemote("p", entries).join();
    for (int i = entries.size() - 1; i >= 0; i--) {
      two.submitRemote("p", List.of(entries.get(i))).join();
    }
    assertEquals(one.digest(), two.digest());
    assertEquals(one.digest(), one.recomputeDigest());
    assertFalse(one.digest().equals(StateDigest.EMPTY));
    StateDigest expected = StateDigest.EMPTY;
    for (StoredEntry e : entries) {
      expected = expected.plus(StateDigest.contribution(e));
    }
    assertEquals(expected, one.digest());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void keyBytesAreCopiedOnSubmit(Backend backend) {
    GroupCommitStore store = open(backend);
    byte[] key = bytes("key");
    byte[] value = bytes("value");
    CompletableFuture<WriteResult> f = store.submitLocal(key, value);
    key[0] = 'X';
    value[0] = 'X';
    f.join();
    assertArrayEquals(bytes("value"), store.get(bytes("key")).orElseThrow().value());
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("test latch not released within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
