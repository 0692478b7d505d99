package dev.edgesync.engine.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.storage.KeepOpenKvStore;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import dev.edgesync.engine.transport.inmemory.Network;
import dev.edgesync.watermark.WatermarkStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node restored from an older copy of its data dir keeps its log id and re-issues seqs above
 * the copy's head with other content. A peer whose watermark covers those seqs of the lost
 * history must not skip them: log epochs make the publisher refuse the resume point and stream
 * from 0 (the regression behind the integration test {@code RestoredFromBackupTest}).
 */
class RestoredFromBackupConvergenceTest {
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
  void restoredLevelDbNodeConverges() throws Exception {
    Path rDir = root.resolve("restored");
    run(rDir, () -> LevelDbKvStore.open(rDir.resolve("db")), () -> {}, () -> LevelDbKvStore.open(rDir.resolve("db")));
  }

  @Test
  void restoredMemoryNodeConverges() throws Exception {
    Path rDir = root.resolve("restored");
    MemoryKvStore disk = new MemoryKvStore();
    MemoryKvStore[] backup = new MemoryKvStore[1];
    run(rDir, () -> new KeepOpenKvStore(disk), () -> backup[0] = disk.copy(), () -> new KeepOpenKvStore(backup[0]));
  }

  private void run(Path rDir, Open first, Runnable snapshotDb, Open restoredDb) throws Exception {
    TestNode p = start("site-p", root.resolve("site-p"), new MemoryKvStore());
    TestNode r = start("site-r", rDir, first.open());
    link(p, r);
    for (int i = 0; i < 100; i++) {
      r.put("v1/" + i, "first-" + i);
    }
    awaitConverged(p, r);

    // Back up R's data dir while R is stopped.
    close(r);
    Path backup = root.resolve("backup");
    snapshotDb.run();
    copyTree(rDir, backup);

    r = start("site-r", rDir, first.open());
    link(p, r);
    for (int i = 0; i < 100; i++) {
      r.put("v2/" + i, "second-" + i);
    }
    assertEquals(200, r.store.headSeq());
    awaitConverged(p, r);
    TestNode rNow = r;
    await().atMost(CONVERGE).until(() -> p.status("site-r").watermark() == 200);
    String logId = r.store.logId();
    String lostEpoch = r.store.epochOf(200);

    // Restore the copy while P does not follow R; R issues seqs 101..210 with new content.
    p.engine.removePeer("site-r");
    close(rNow);
    deleteTree(rDir);
    copyTree(backup, rDir);
    TestNode restored = start("site-r", rDir, restoredDb.open());
    assertEquals(logId, restored.store.logId(), "a restored copy keeps its log id");
    assertEquals(100, restored.store.headSeq());
    for (int i = 0; i < 110; i++) {
      restored.put("v3/" + i, "after-restore-" + i);
    }
    assertEquals(210, restored.store.headSeq());
    assertNotEquals(lostEpoch, restored.store.epochOf(200), "seq 200 now belongs to a new epoch");
    try (WatermarkStore w = WatermarkStore.open(root.resolve("site-p"))) {
      assertEquals(200, w.read("site-r").seq(), "test premise: P's watermark covers the re-issued seqs");
      assertEquals(lostEpoch, w.read("site-r").peerEpoch());
    }

    link(p, restored);
    awaitConverged(p, restored);
    for (int i = 0; i < 110; i++) {
      assertEquals(Optional.of("after-restore-" + i), p.value("v3/" + i), "v3/" + i + " reached P");
    }
    for (int i = 0; i < 100; i++) {
      assertEquals(Optional.of("second-" + i), restored.value("v2/" + i), "v2/" + i + " came back to R from P");
    }
    await().atMost(CONVERGE).until(() -> p.status("site-r").watermark() == restored.store.headSeq());
    assertEquals(restored.store.epochOf(restored.store.headSeq()), readEpoch(p, "site-r"));
  }

  @FunctionalInterface
  private interface Open {
    KvStore open() throws Exception;
  }

  private static String readEpoch(TestNode n, String peer) {
    await().atMost(CONVERGE).until(() -> n.watermarks.read(peer).seq() == n.status(peer).watermark());
    return n.watermarks.read(peer).peerEpoch();
  }

  private TestNode start(String id, Path dir, KvStore kv) {
    TestNode n =
        new TestNode(
            id,
            dir,
            kv,
            Clock.systemUTC(),
            ReplicationSettings.defaults(id, "test")
                .withListen("127.0.0.1", 0)
                .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(2))
                .withReconnect(Duration.ofMillis(20), Duration.ofMillis(200)),
            network.transport(id),
            "127.0.0.1",
            scheduler,
            id.hashCode());
    nodes.add(n);
    n.engine.start();
    return n;
  }

  private void close(TestNode n) {
    n.close();
    nodes.remove(n);
  }

  private static void link(TestNode a, TestNode b) {
    a.engine.addPeer(b.spec());
    b.engine.addPeer(a.spec());
  }

  private static void awaitConverged(TestNode a, TestNode b) {
    await()
        .atMost(CONVERGE)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(() -> assertEquals(a.store.digest(), b.store.digest(), "digest of " + b.id + " vs " + a.id));
    assertEquals(a.store.recomputeDigest(), a.store.digest());
    assertEquals(b.store.recomputeDigest(), b.store.digest());
    assertTrue(a.store.headSeq() > 0);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path path : walk.toList()) {
        Path target = to.resolve(from.relativize(path).toString());
        if (Files.isDirectory(path)) {
          Files.createDirectories(target);
        } else {
          Files.copy(path, target);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
