package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node whose data dir is deleted and recreated (same id) gets the whole state back from its
 * peer, and the peer resets its watermark on the wiped node's new log, so the wiped node's new
 * writes (whose seqs start again low) still reach it.
 */
class WipedDataDirRecoveryTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void wipedNodeGetsWholeStateBackAndItsNewWritesStillFlow() throws Exception {
    Cluster c = cleanup.newCluster("wipe", false);
    c.add("keep");
    c.add("wiped");
    c.connect("keep", "wiped").startAll();
    NodeClient keep = c.node("keep").http();
    NodeProcess keepNode = c.node("keep");
    NodeProcess wiped = c.node("wiped");
    AckedWrites acked = new AckedWrites();
    Data.bulk(keep, Data.keys("keep/", 500, "keep"), acked);
    // Rewriting the same keys several times pushes wiped's seqs far above its key count, so that
    // after the wipe keep's old watermark on wiped is ahead of wiped's whole new log.
    for (int round = 0; round < 4; round++) {
      wiped.http().bulk(Data.keys("wiped/", 500, "round" + round));
    }
    acked.addUnversioned(Data.keys("wiped/", 500, "round3"));
    c.awaitConverged();
    c.awaitWatermarkAtHead("keep", "wiped");
    String oldLogId = wiped.http().status().logId();
    long oldWatermark = keep.status().peer("wiped").watermark();

    assertEquals(0, wiped.terminate(), "exit code of SIGTERM");
    ProcessCleanup.deleteTree(wiped.spec.dataDir);
    wiped.start();

    Status fresh = wiped.http().status();
    assertNotEquals(oldLogId, fresh.logId(), "a recreated data dir must have a new log id");
    acked.assertHeldBy("state after the wipe", c.awaitConverged());
    long newHead = wiped.http().status().headSeq();
    assertTrue(newHead < oldWatermark, "test premise: wiped's new log (head " + newHead + ") is shorter than keep's old watermark " + oldWatermark);

    // New writes on the wiped node get seqs below keep's old watermark: keep must have reset it.
    for (int i = 0; i < 10; i++) {
      acked.add(wiped.http().put("after-wipe/" + i, "new-" + i));
    }
    acked.assertHeldBy("state after writes on the wiped node", c.awaitConverged());
    c.awaitWatermarkAtHead("keep", "wiped");
    assertEquals(fresh.logId(), keep.status().peer("wiped").peerLogId(), "keep tracks wiped's new log id");
    String line = keepNode.log().lines().filter(l -> l.contains(oldLogId) && l.contains(fresh.logId())).findFirst().orElse(null);
    assertTrue(line != null, "keep logs the change of wiped's log id (" + oldLogId + " -> " + fresh.logId() + "); log " + c.node("keep").logFile());
  }
}
