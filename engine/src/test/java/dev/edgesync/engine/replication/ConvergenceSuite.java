package dev.edgesync.engine.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Version;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.replication.wire.EntryCodec;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.KeepOpenKvStore;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.SubscriberMessage;
import dev.edgesync.proto.Welcome;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The convergence suite, written once and run over every transport by a subclass that says how
 * to make one. Nodes use the real {@code GroupCommitStore} (over {@link MemoryKvStore}, and over
 * LevelDB in one case) and the real {@code WatermarkStore} in a temp directory. Tests assert
 * outcomes — equal digests, every key equal, counters — never timings; they wait with Awaitility.
 */
abstract class ConvergenceSuite {
  static final Duration CONVERGE = Duration.ofSeconds(30);
  static final String CLUSTER = "test";

  /** How this suite's transport is made. */
  interface Transports {
    Transport create(String nodeId);

    /** The host nodes listen on and peers connect to. */
    String host();

    /** A port on which nothing listens. */
    int unusedPort() throws Exception;
  }

  abstract Transports transports();

  @TempDir Path root;

  long seed;
  ScheduledExecutorService scheduler;
  final List<TestNode> nodes = new ArrayList<>();
  final Set<String> keys = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void setUp(TestInfo info) {
    seed = ThreadLocalRandom.current().nextLong();
    System.out.println(getClass().getSimpleName() + "." + info.getDisplayName() + " seed=" + seed);
    scheduler = Executors.newScheduledThreadPool(2);
  }

  @AfterEach
  void tearDown() {
    for (TestNode n : nodes) {
      try {
        n.close();
      } catch (RuntimeException e) {
        // Already closed by the test, or its close failed: the test's own assertions decide.
      }
    }
    scheduler.shutdownNow();
  }

  // ------------------------------------------------------------------ harness

  ReplicationSettings settings(String id) {
    return ReplicationSettings.defaults(id, CLUSTER)
        .withListen(transports().host(), 0)
        .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(2))
        .withReconnect(Duration.ofMillis(20), Duration.ofMillis(500));
  }

  TestNode start(String id) {
    return start(id, new MemoryKvStore(), Clock.systemUTC(), s -> s);
  }

  TestNode start(String id, KvStore kv, Clock storeClock, UnaryOperator<ReplicationSettings> tweak) {
    Path dir = root.resolve(id + "-" + nodes.size());
    return start(id, dir, kv, storeClock, tweak);
  }

  TestNode start(String id, Path dir, KvStore kv, Clock storeClock, UnaryOperator<ReplicationSettings> tweak) {
    TestNode n =
        new TestNode(
            id,
            dir,
            kv,
            storeClock,
            tweak.apply(settings(id)),
            transports().create(id),
            transports().host(),
            scheduler,
            seed ^ id.hashCode() ^ nodes.size());
    nodes.add(n);
    n.engine.start();
    return n;
  }

  static void link(TestNode a, TestNode b) {
    a.engine.addPeer(b.spec());
    b.engine.addPeer(a.spec());
  }

  WriteResult put(TestNode n, String key, String value) {
    keys.add(key);
    return n.put(key, value);
  }

  WriteResult delete(TestNode n, String key) {
    keys.add(key);
    return n.delete(key);
  }

  /** Random puts and deletes over a small key space, so that nodes write the same keys. */
  void randomWrites(SplittableRandom random, int count, TestNode... writers) {
    List<CompletableFuture<WriteResult>> pending = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      TestNode n = writers[random.nextInt(writers.length)];
      String key = "k" + random.nextInt(count / 3 + 1);
      keys.add(key);
      byte[] value = random.nextInt(8) == 0 ? null : TestNode.bytes(n.id + "-" + i);
      pending.add(n.store.submitLocal(TestNode.bytes(key), value));
    }
    pending.forEach(CompletableFuture::join);
  }

  /** Waits until all nodes hold equal digests, then checks every key written is equal. */
  void awaitConverged(TestNode... group) {
    await()
        .atMost(CONVERGE)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              for (TestNode n : group) {
                assertEquals(
                    group[0].store.digest(), n.store.digest(), "digest of " + n.id + " vs " + group[0].id + " (seed " + seed + ")");
              }
            });
    for (String key : new TreeSet<>(keys)) {
      Optional<StoredEntry> first = group[0].get(key);
      for (TestNode n : group) {
        assertSameEntry(first, n.get(key), "key " + key + " on " + n.id + " (seed " + seed + ")");
      }
    }
    for (TestNode n : group) {
      assertEquals(n.store.recomputeDigest(), n.store.digest(), "digest of " + n.id + " matches its state");
    }
  }

  static void assertSameEntry(Optional<StoredEntry> expected, Optional<StoredEntry> actual, String what) {
    assertEquals(expected.isPresent(), actual.isPresent(), what);
    if (expected.isPresent()) {
      StoredEntry e = expected.get();
      StoredEntry a = actual.get();
      assertEquals(e.version(), a.version(), what);
      assertEquals(e.tombstone(), a.tombstone(), what);
      assertTrue(Arrays.equals(e.value(), a.value()), what);
    }
  }

  // ------------------------------------------------------------------ convergence

  @Test
  void twoNodesWritingOnBothSidesConverge() {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    link(a, b);
    randomWrites(new SplittableRandom(seed), 600, a, b);
    awaitConverged(a, b);
    await().atMost(CONVERGE).until(() -> a.status("site-b").lagEntries() == 0 && b.status("site-a").lagEntries() == 0);
    PeerStatus ab = a.status("site-b");
    assertTrue(ab.connected());
    assertEquals(b.store.logId(), ab.peerLogId());
    assertTrue(ab.entriesSent() > 0, "a streamed its writes to b");
    assertTrue(ab.duplicates() > 0, "b relays a's own writes back: they arrive as duplicates");
  }

  @Test
  void threeNodeFullMeshConverges() {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    TestNode c = start("site-c");
    link(a, b);
    link(b, c);
    link(a, c);
    randomWrites(new SplittableRandom(seed), 900, a, b, c);
    awaitConverged(a, b, c);
  }

  @Test
  void chainRelaysBetweenNodesThatAreNotPeers() {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    TestNode c = start("site-c");
    link(a, b);
    link(b, c);
    SplittableRandom random = new SplittableRandom(seed);
    randomWrites(random, 300, a, c);
    put(a, "from-a", "1");
    put(c, "from-c", "1");
    awaitConverged(a, b, c);
    assertEquals(Optional.of("1"), a.value("from-c"));
    assertEquals(Optional.of("1"), c.value("from-a"));
    assertEquals(List.of("site-b"), a.engine.peerStatuses().stream().map(PeerStatus::id).toList());
  }

  @Test
  void aPublisherCutsItsBatchesToTheSubscribersSmallerMessageLimit() {
    // A may send 8 MiB batches; B accepts messages of at most 2 MiB + 64 KiB (what a node with
    // 1 MiB batches and 1 MiB values allows). Ten 700 KiB values fit one batch of A's, not B's.
    int aBatch = 8 << 20;
    TestNode a = start("site-a", new MemoryKvStore(), Clock.systemUTC(), s -> limits(s, aBatch, aBatch + (2 << 20)));
    TestNode b = start("site-b", new MemoryKvStore(), Clock.systemUTC(), s -> limits(s, 1 << 20, (2 << 20) + (64 << 10)));
    for (int i = 0; i < 10; i++) {
      String key = "big-" + i;
      keys.add(key);
      a.store.submitLocal(TestNode.bytes(key), new byte[700 << 10]).join();
    }
    b.engine.addPeer(a.spec());
    awaitConverged(a, b);
    assertEquals(10, b.status("site-a").entriesApplied());
    String lastError = b.status("site-a").lastError();
    assertTrue(
        lastError == null || !lastError.toLowerCase(java.util.Locale.ROOT).contains("resource_exhausted"),
        "no batch was refused as too large: " + lastError);
  }

  private static ReplicationSettings limits(ReplicationSettings s, int batchMaxBytes, int maxInboundMessageBytes) {
    return s.withMessageBounds(batchMaxBytes, maxInboundMessageBytes);
  }

  @Test
  void largeCatchUpWithSmallBatchesUnderFlowControl() {
    TestNode a = start("site-a", new MemoryKvStore(), Clock.systemUTC(), s -> s.withBatch(50, 4096));
    List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      String key = "bulk-" + i;
      keys.add(key);
      writes.add(a.store.submitLocal(TestNode.bytes(key), new byte[200]));
    }
    writes.forEach(CompletableFuture::join);
    TestNode b = start("site-b", new MemoryKvStore(), Clock.systemUTC(), s -> s.withBatch(50, 4096));
    b.engine.addPeer(a.spec());
    awaitConverged(a, b);
    assertEquals(5000, b.status("site-a").entriesApplied());
    await().atMost(CONVERGE).until(() -> b.status("site-a").watermark() == a.store.headSeq());
  }

  @Test
  void gzipStreamsConverge() {
    TestNode a = start("site-a", new MemoryKvStore(), Clock.systemUTC(), s -> s.withCompression(true));
    TestNode b = start("site-b", new MemoryKvStore(), Clock.systemUTC(), s -> s.withCompression(true));
    link(a, b);
    randomWrites(new SplittableRandom(seed), 300, a, b);
    awaitConverged(a, b);
  }

  @Test
  void peersAddedRemovedAndReplacedAtRunTime() {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    TestNode c = start("site-c");
    a.engine.setPeers(List.of(b.spec()));
    put(b, "one", "1");
    await().atMost(CONVERGE).until(() -> a.value("one").isPresent());

    a.engine.removePeer("site-b");
    assertEquals(List.of(), a.engine.peerStatuses());
    a.engine.setPeers(List.of(c.spec(), b.spec()));
    put(b, "two", "2");
    put(c, "three", "3");
    await().atMost(CONVERGE).until(() -> a.value("two").isPresent() && a.value("three").isPresent());
    assertEquals(
        List.of("site-c", "site-b"), a.engine.peerStatuses().stream().map(PeerStatus::id).toList());
    // Re-added b resumed from its persisted watermark: "one" was not applied again.
    assertEquals(1, a.status("site-b").entriesApplied());
    assertEquals(0, a.status("site-b").duplicates());
  }

  // ------------------------------------------------------------------ restarts and wipes

  @Test
  void restartResumesFromWatermarkAndReceivesOnlyWhatItMissed() {
    restartResumes(() -> new KeepOpenKvStore(new MemoryKvStore()));
  }

  @Test
  void restartOverLevelDbResumesFromWatermark() {
    Path db = root.resolve("leveldb-b");
    restartResumes(() -> LevelDbKvStore.open(db));
  }

  private void restartResumes(java.util.function.Supplier<KvStore> kvForB) {
    TestNode a = start("site-a");
    KvStore firstKv = kvForB.get();
    Path bDir = root.resolve("site-b");
    TestNode b = start("site-b", bDir, firstKv, Clock.systemUTC(), s -> s);
    link(a, b);
    for (int i = 0; i < 200; i++) {
      put(a, "before-" + i, "v");
    }
    awaitConverged(a, b);
    await().atMost(CONVERGE).until(() -> b.status("site-a").watermark() == a.store.headSeq());
    long watermark = b.status("site-a").watermark();

    b.close();
    nodes.remove(b);
    assertEquals(watermark, b.watermarks.directory() != null ? readWatermark(bDir, "site-a") : -1, "close persisted the newest watermark");
    for (int i = 0; i < 150; i++) {
      put(a, "after-" + i, "v");
    }
    KvStore secondKv = firstKv instanceof KeepOpenKvStore ? firstKv : kvForB.get();
    TestNode b2 = start("site-b", bDir, secondKv, Clock.systemUTC(), s -> s);
    assertEquals(b.store.logId(), b2.store.logId(), "same database");
    b2.engine.addPeer(a.spec());
    a.engine.addPeer(b2.spec());
    awaitConverged(a, b2);
    await().atMost(CONVERGE).until(() -> b2.status("site-a").watermark() == a.store.headSeq());
    PeerStatus s = b2.status("site-a");
    assertEquals(150, s.entriesApplied(), "only the missed entries were applied");
    assertEquals(0, s.duplicates(), "nothing already held was re-sent");
  }

  private static long readWatermark(Path dir, String peer) {
    try (var w = dev.edgesync.watermark.WatermarkStore.open(dir)) {
      return w.read(peer).seq();
    }
  }

  @Test
  void wipedNodeGetsEverythingBack() {
    TestNode a = start("site-a");
    Path bDir = root.resolve("site-b");
    TestNode b = start("site-b", bDir, new MemoryKvStore(), Clock.systemUTC(), s -> s);
    link(a, b);
    randomWrites(new SplittableRandom(seed), 300, a, b);
    awaitConverged(a, b);
    String oldLog = b.store.logId();
    b.close();
    nodes.remove(b);

    // Same id, same data dir (watermarks survive), empty database: a new log id.
    TestNode wiped = start("site-b", bDir, new MemoryKvStore(), Clock.systemUTC(), s -> s);
    assertNotEquals(oldLog, wiped.store.logId());
    wiped.engine.addPeer(a.spec());
    a.engine.addPeer(wiped.spec());
    put(wiped, "after-wipe", "1");
    awaitConverged(a, wiped);
    assertEquals(Optional.of("1"), a.value("after-wipe"));
    await().atMost(CONVERGE).until(() -> wiped.store.logId().equals(a.status("site-b").peerLogId()));
    assertTrue(wiped.status("site-a").entriesApplied() > 0);
  }

  // ------------------------------------------------------------------ conflicts

  @Test
  void partitionedWritesToTheSameKeyResolveToTheLwwWinnerEverywhere() {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    TestNode c = start("site-c");
    // Not connected yet: both sides write the same keys.
    Version putA = put(a, "same", "from-a").version();
    Version putB = put(b, "same", "from-b").version();
    put(a, "del-vs-put", "a-value");
    Version delA = delete(a, "del-vs-put").version();
    Version putB2 = put(b, "del-vs-put", "b-value").version();
    Version putA3 = put(a, "put-vs-del", "a-value").version();
    put(b, "put-vs-del", "b-value");
    Version delB3 = delete(b, "put-vs-del").version();

    // b pulls from a first: a's log still holds a's own versions (nothing has overwritten them
    // yet), so the older ones arrive at b and lose there. Once a also pulls from b, b's winners
    // replace a's rows in a's compacted log, and a's losers may never be sent at all.
    b.engine.addPeer(a.spec());
    await().atMost(CONVERGE).until(() -> b.status("site-a").conflicts() > 0);
    a.engine.addPeer(b.spec());
    link(b, c);
    awaitConverged(a, b, c);
    for (TestNode n : List.of(a, b, c)) {
      StoredEntry same = n.get("same").orElseThrow();
      boolean aWins = putA.compareTo(putB) > 0;
      Version win = aWins ? putA : putB;
      assertEquals(win, same.version(), "winner of 'same' on " + n.id);
      assertEquals(Optional.of(aWins ? "from-a" : "from-b"), n.value("same"));

      StoredEntry dvp = n.get("del-vs-put").orElseThrow();
      boolean delAWins = delA.compareTo(putB2) > 0;
      assertEquals(delAWins ? delA : putB2, dvp.version());
      assertEquals(delAWins, dvp.tombstone());

      StoredEntry pvd = n.get("put-vs-del").orElseThrow();
      boolean delB3Wins = putA3.compareTo(delB3) <= 0;
      assertEquals(delB3Wins ? delB3 : putA3, pvd.version());
      assertEquals(delB3Wins, pvd.tombstone());
    }
  }

  // ------------------------------------------------------------------ acknowledgements

  @Test
  void awaitAcksCompletesOnceAPeerHasTheWrite() throws Exception {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    link(a, b);
    WriteResult w = put(a, "acked", "1");
    a.engine.awaitAcks(w.seq(), 1, Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
    assertEquals(Optional.of("1"), b.value("acked"), "an ack means the peer committed it");
    assertTrue(a.status("site-b").ackedSeq() >= w.seq());
  }

  @Test
  void awaitAcksTimesOutWhenNoPeerIsReachableAndTheWriteStaysLocal() throws Exception {
    TestNode a = start("site-a");
    a.engine.addPeer(new PeerSpec("site-ghost", transports().host(), transports().unusedPort()));
    WriteResult w = put(a, "lonely", "1");
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> a.engine.awaitAcks(w.seq(), 1, Duration.ofMillis(300)).get(30, TimeUnit.SECONDS));
    AckTimeoutException timeout = assertInstanceOf(AckTimeoutException.class, e.getCause());
    assertEquals(w.seq(), timeout.seq());
    assertEquals(0, timeout.confirmed());
    assertEquals(Optional.of("1"), a.value("lonely"));
    await().atMost(CONVERGE).until(() -> a.status("site-ghost").lastError() != null);
    assertFalse(a.status("site-ghost").connected());
  }

  // ------------------------------------------------------------------ refusals

  @Test
  void wrongClusterIsRefusedWhileOtherPeersKeepSyncing() {
    TestNode a = start("site-a");
    TestNode c = start("site-c");
    TestNode other =
        start("site-x", new MemoryKvStore(), Clock.systemUTC(), s -> s.withCluster("other-cluster"));
    link(a, c);
    link(a, other);
    other.put("foreign", "x");
    await()
        .atMost(CONVERGE)
        .untilAsserted(
            () -> {
              String error = a.status("site-x").lastError();
              assertNotNull(error);
              assertTrue(error.contains("'other-cluster'") && error.contains("'test'"), error);
            });
    assertTrue(other.metrics.refused("wrong_cluster").count() >= 1);
    assertTrue(a.metrics.refused("wrong_cluster").count() >= 1);
    put(c, "still-syncing", "1");
    awaitConverged(a, c);
    assertEquals(Optional.empty(), a.get("foreign"), "nothing crossed the cluster boundary");
    assertEquals(0, a.status("site-x").entriesApplied());
  }

  @Test
  void otherProtocolVersionIsRefusedWithAClearError() throws Exception {
    TestNode a = start("site-a");
    Transport t = transports().create("old-node");
    try {
      Transport.Connection conn = t.connect(a.spec(), new Transport.StreamOptions(1 << 20, false));
      CompletableFuture<StreamStatus> closed = new CompletableFuture<>();
      List<PublisherMessage> received = new java.util.concurrent.CopyOnWriteArrayList<>();
      Transport.ClientStream stream =
          conn.open(
              new Transport.ClientListener() {
                @Override
                public void onMessage(PublisherMessage message) {
                  received.add(message);
                }

                @Override
                public void onReady() {}

                @Override
                public void onClosed(StreamStatus status) {
                  closed.complete(status);
                }
              });
      stream.request(10);
      stream.send(
          SubscriberMessage.newBuilder()
              .setHello(Hello.newBuilder().setCluster(CLUSTER).setNodeId("old-node").setProtocolVersion(99))
              .build());
      StreamStatus status = closed.get(30, TimeUnit.SECONDS);
      assertEquals(StreamStatus.Code.FAILED_PRECONDITION, status.code());
      assertTrue(status.description().contains("99"), status.description());
      assertEquals(1, received.size());
      assertEquals(Refusal.Code.PROTOCOL_VERSION, received.get(0).getRefusal().getCode());
      assertEquals(1.0, a.metrics.refused("protocol_version").count());
    } finally {
      t.close();
    }
  }

  @Test
  void corruptEntryIsRejectedNothingAppliedAndOtherPeersKeepSyncing() throws Exception {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    link(a, b);
    Transport fake = transports().create("site-evil");
    try {
      Transport.Server server =
          fake.serve(
              transports().host(),
              0,
              new Transport.StreamOptions(1 << 20, false),
              stream ->
                  new Transport.ServerListener() {
                    @Override
                    public void onMessage(SubscriberMessage message) {
                      if (message.hasHello()) {
                        stream.send(
                            PublisherMessage.newBuilder()
                                .setWelcome(
                                    Welcome.newBuilder()
                                        .setNodeId("site-evil")
                                        .setLogId("evil-log")
                                        .setHeadSeq(2)
                                        .setProtocolVersion(ProtocolVersion.CURRENT))
                                .build());
                        var good =
                            EntryCodec.encode(
                                new StoredEntry(
                                    TestNode.bytes("evil-ok"), TestNode.bytes("1"), false, new Version(1L << 20, "site-evil"), 1));
                        var bad =
                            EntryCodec.encode(
                                    new StoredEntry(
                                        TestNode.bytes("evil-bad"), TestNode.bytes("1"), false, new Version(1L << 20, "site-evil"), 2))
                                .toBuilder()
                                .setValue(com.google.protobuf.ByteString.copyFromUtf8("2"))
                                .build();
                        stream.send(
                            PublisherMessage.newBuilder()
                                .setBatch(Batch.newBuilder().addEntries(good).addEntries(bad).setLastSeq(2).setHeadSeq(2))
                                .build());
                      }
                    }

                    @Override
                    public void onReady() {}

                    @Override
                    public void onClosed(StreamStatus status) {}
                  });
      a.engine.addPeer(new PeerSpec("site-evil", transports().host(), server.port()));
      await()
          .atMost(CONVERGE)
          .untilAsserted(
              () -> {
                String error = a.status("site-evil").lastError();
                assertNotNull(error);
                assertTrue(error.contains("corrupt") && error.contains("CRC32C"), error);
              });
      assertTrue(a.errors("site-evil", "crc") >= 1);
      assertEquals(Optional.empty(), a.get("evil-ok"), "the whole batch was rejected");
      assertEquals(Optional.empty(), a.get("evil-bad"));
      assertEquals(0, a.status("site-evil").watermark());
      assertEquals(0, a.status("site-evil").entriesApplied());
      put(b, "still-syncing", "1");
      awaitConverged(a, b);
      assertEquals(Optional.of("1"), a.value("still-syncing"));
    } finally {
      fake.close();
    }
  }

  @Test
  void clockSkewIsRefusedNamingThePeerAndNothingIsApplied() {
    TestNode a = start("site-a");
    Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(10));
    TestNode fast = start("site-fast", new MemoryKvStore(), ahead, s -> s);
    a.engine.addPeer(fast.spec());
    fast.put("from-the-future", "1");
    await()
        .atMost(CONVERGE)
        .untilAsserted(
            () -> {
              String error = a.status("site-fast").lastError();
              assertNotNull(error);
              assertTrue(error.contains("site-fast") && error.contains("ms ahead"), error);
            });
    assertTrue(a.errors("site-fast", "clock_skew") >= 1);
    assertEquals(Optional.empty(), a.get("from-the-future"));
    assertEquals(0, a.status("site-fast").watermark());
  }
}
