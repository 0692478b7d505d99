package dev.edgesync.engine.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.KeepOpenKvStore;
import dev.edgesync.engine.storage.StoreSurgery;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import dev.edgesync.engine.transport.inmemory.Network;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Anti-entropy finds and repairs what replication cannot: a difference planted below the
 * replication layer (a state row removed, a stale version written, with the recorded digest kept
 * consistent, so nothing local can notice). And it stays silent while nodes are merely behind.
 */
class AntiEntropyRepairTest {
  private static final Duration CONVERGE = Duration.ofSeconds(30);

  @TempDir Path root;

  private final Network network = new Network();
  private final List<TestNode> nodes = new ArrayList<>();
  private ScheduledExecutorService scheduler;

  @BeforeEach
  void setUp() {
    scheduler = Executors.newScheduledThreadPool(2);
  }

  @AfterEach
  void tearDown() {
    for (TestNode n : nodes) {
      try {
        n.close();
      } catch (RuntimeException e) {
        // Already closed by the test.
      }
    }
    scheduler.shutdownNow();
  }

  @Test
  void aRemovedRowAndAStaleVersionPlantedBelowReplicationAreRepaired() {
    KvStore bDisk = new MemoryKvStore();
    AntiEntropySettings fast = new AntiEntropySettings(Duration.ofMillis(300), Duration.ofMillis(300), 10_000);
    TestNode a = start("site-a", new MemoryKvStore(), fast);
    TestNode b = start("site-b", new KeepOpenKvStore(bDisk), fast);
    TestNode c = start("site-c", new MemoryKvStore(), fast);
    meshOf(a, b, c);
    for (int i = 0; i < 300; i++) {
      List.of(a, b, c).get(i % 3).put(String.format("key-%04d", i), "value-" + i);
    }
    awaitEqualDigests(a, b, c);

    close(b);
    StoreSurgery.removeKey(bDisk, bytes("key-0007"));
    StoreSurgery.replaceVersion(bDisk, bytes("key-0008"), bytes("stale"), new Version(1L << 16, "site-x"));
    b = start("site-b", new KeepOpenKvStore(bDisk), fast);
    assertEquals(Optional.empty(), b.value("key-0007"), "test premise: the row is gone");
    assertEquals(Optional.of("stale"), b.value("key-0008"), "test premise: the stale version is back");
    assertNotEquals(a.store.digest(), b.store.digest());
    assertEquals(b.store.recomputeDigest(), b.store.digest(), "test premise: b's digest matches its rows");
    meshOf(a, b, c);

    awaitEqualDigests(a, b, c);
    assertEquals(Optional.of("value-7"), b.value("key-0007"));
    assertEquals(Optional.of("value-8"), b.value("key-0008"));
    TestNode repaired = b;
    double keysRepaired = peers(repaired).stream().mapToDouble(p -> repaired.metrics.antiEntropyKeysRepaired(p).count()).sum();
    double repairs = peers(repaired).stream().mapToDouble(p -> repaired.metrics.antiEntropyRepairs(p).count()).sum();
    assertTrue(keysRepaired >= 2, "keys repaired at b: " + keysRepaired);
    assertTrue(repairs >= 1, "repairs started at b: " + repairs);
    for (TestNode n : List.of(a, b, c)) {
      assertEquals(n.store.recomputeDigest(), n.store.digest(), n.id + "'s digest still matches its rows");
    }
  }

  @Test
  void aLongCatchUpStartsNoRepair() {
    // No settle time and no interval: any heartbeat that wrongly saw "caught up both ways with
    // different digests" during the catch-up would start a repair at once.
    AntiEntropySettings eager = new AntiEntropySettings(Duration.ZERO, Duration.ZERO, 10_000);
    TestNode a = start("site-a", new MemoryKvStore(), eager);
    // In chunks well below limits.writeQueueDepth (10,000): 20,000 writes queued at once fill the
    // queue whenever the writer is slower than the loop (seen on a loaded machine).
    for (int chunk = 0; chunk < 20; chunk++) {
      List<CompletableFuture<WriteResult>> bulk = new ArrayList<>();
      for (int i = chunk * 1000; i < (chunk + 1) * 1000; i++) {
        bulk.add(a.store.submitLocal(bytes(String.format("bulk-%05d", i)), bytes("v" + i)));
      }
      CompletableFuture.allOf(bulk.toArray(CompletableFuture[]::new)).join();
    }
    a.put("last", "written");
    TestNode b = start("site-b", new MemoryKvStore(), eager);
    meshOf(a, b);
    // Writes continue on both sides during the catch-up.
    for (int i = 0; i < 200; i++) {
      a.put("a-live-" + i, "x");
      b.put("b-live-" + i, "y");
    }
    awaitEqualDigests(a, b);
    for (TestNode n : List.of(a, b)) {
      for (String p : peers(n)) {
        assertEquals(0.0, n.metrics.antiEntropyRepairs(p).count(), n.id + " started a repair against " + p);
      }
    }
  }

  private static List<String> peers(TestNode n) {
    return n.engine.peerStatuses().stream().map(PeerStatus::id).toList();
  }

  private TestNode start(String id, KvStore kv, AntiEntropySettings antiEntropy) {
    TestNode n =
        new TestNode(
            id,
            root.resolve(id),
            kv,
            Clock.systemUTC(),
            ReplicationSettings.defaults(id, "test")
                .withListen("127.0.0.1", 0)
                .withHeartbeat(Duration.ofMillis(50), Duration.ofSeconds(2))
                .withReconnect(Duration.ofMillis(20), Duration.ofMillis(200))
                .withBatch(200, 64 * 1024)
                .withAntiEntropy(antiEntropy),
            network.transport(id),
            "127.0.0.1",
            scheduler,
            id.hashCode());
    nodes.add(n);
    n.engine.start();
    return n;
  }

  private void close(TestNode n) {
    for (TestNode other : nodes) {
      if (other != n) {
        other.engine.removePeer(n.id);
      }
    }
    n.close();
    nodes.remove(n);
  }

  private static void meshOf(TestNode... mesh) {
    for (TestNode x : mesh) {
      for (TestNode y : mesh) {
        if (x != y && x.engine.peerStatuses().stream().noneMatch(p -> p.id().equals(y.id))) {
          x.engine.addPeer(y.spec());
        }
      }
    }
  }

  private static void awaitEqualDigests(TestNode... mesh) {
    await()
        .atMost(CONVERGE)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              for (TestNode n : mesh) {
                assertEquals(mesh[0].store.digest(), n.store.digest(), "digest of " + n.id + " vs " + mesh[0].id);
              }
            });
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
