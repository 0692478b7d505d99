package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node whose data dir is restored from an older copy (same log id, lower head seq) must not
 * make its peers skip its new writes. DESIGN.md: "If the peer's log id differs from the one
 * stored (the peer's database was wiped or restored), the watermark resets to 0". A restored copy
 * keeps its log id, so the subscriber's watermark (from the newer history) is ahead of what the
 * restored node numbers its new writes with.
 *
 * <p>The sequence makes the gap deterministic: the restored node takes new writes before it
 * re-learns its lost history from the peer (which pushes its head past the peer's old watermark),
 * and only then does the peer reconnect to it.
 *
 * <p>Log epochs handle it: the restored database starts a new epoch at its older head + 1, so
 * the peer's watermark (seq 200 of the lost history's epoch) no longer matches and the restored
 * node streams its log to the peer from seq 0 (see "Log epochs" in docs/ARCHITECTURE.md).
 */
class RestoredFromBackupTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  @Test
  void writesOfANodeRestoredFromAnOlderCopyReachItsPeers() throws Exception {
    Cluster c = cleanup.newCluster("restore", true);
    c.add("peer");
    NodeProcess restored = c.add("restored");
    c.connect("peer", "restored").startAll();
    AckedWrites acked = new AckedWrites();
    Data.bulk(restored.http(), Data.keys("v1/", 100, "first"), acked);
    c.awaitConverged();

    // Back up the data dir of a cleanly stopped node.
    assertEquals(0, restored.terminate());
    Path backup = cleanup.newDir("backup").resolve("data");
    copyTree(restored.spec.dataDir, backup);
    restored.start();
    Data.bulk(restored.http(), Data.keys("v2/", 100, "second"), acked);
    c.awaitConverged();
    c.awaitPersistedWatermarkAtHead("peer", "restored");
    long peersWatermark = c.persistedWatermark("peer", "restored");

    // Restore the older copy while both links are down.
    assertEquals(0, restored.terminate());
    ProcessCleanup.deleteTree(restored.spec.dataDir);
    copyTree(backup, restored.spec.dataDir);
    c.setLink("peer", "restored", FaultProxy.Mode.RESET);
    restored.start();
    Status afterRestore = restored.http().status();
    assertTrue(afterRestore.headSeq() < peersWatermark, "test premise: the restored head " + afterRestore.headSeq() + " is below the peer's watermark " + peersWatermark);

    // New writes on the restored node take seqs the peer's watermark already covers...
    for (int i = 0; i < 10; i++) {
      acked.add(restored.http().put("v3/" + i, "after-restore-" + i));
    }
    // ...then it re-learns its lost history from the peer, which pushes its head past that watermark...
    c.proxy("restored", "peer").setMode(FaultProxy.Mode.PASS);
    c.awaitStatus("restored", "head past the peer's old watermark " + peersWatermark, Cluster.CONVERGENCE, s -> s.headSeq() > peersWatermark);
    c.awaitWatermarkAtHead("restored", "peer");
    // ...and only then can the peer resubscribe.
    c.proxy("peer", "restored").setMode(FaultProxy.Mode.PASS);

    acked.assertHeldBy("converged state after the restore", c.awaitConverged(java.time.Duration.ofSeconds(30)));
  }
}
