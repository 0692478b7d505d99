package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node killed with {@code kill -9} and restarted resumes every peer stream from its persisted
 * watermark: it receives exactly the entries written while it was down, not the history.
 */
class KillNineResumeFromWatermarkTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void killedNodeReceivesOnlyWhatItMissedAndEndsEqual() {
    Cluster c = cleanup.newCluster("kill9", false);
    c.add("k1");
    c.add("k2");
    c.add("k3");
    c.fullMesh().startAll();
    AckedWrites acked = new AckedWrites();
    for (NodeProcess n : c.nodes()) {
      Data.bulk(n.http(), Data.keys("before/" + n.id() + "/", 1000, n.id()), acked);
    }
    c.awaitConverged();
    // After convergence no node's head moves (echoes are duplicates and get no seq). Once k3's
    // watermarks reach its peers' heads, everything written before the kill is covered, so what
    // k3 receives after the restart is exactly what it missed.
    c.awaitWatermarkAtHead("k3", "k1");
    c.awaitWatermarkAtHead("k3", "k2");

    NodeProcess k3 = c.node("k3");
    k3.kill9();

    Data.bulk(c.node("k1").http(), Data.keys("outage/k1/", 300, "k1"), acked);
    Data.bulk(c.node("k2").http(), Data.keys("outage/k2/", 200, "k2"), acked);
    for (int i = 0; i < 25; i++) {
      // New versions of keys k3 wrote before it died, made after they had converged.
      acked.supersede(c.node("k1").http().put("before/k3/" + String.format("%05d", i), "updated-by-k1"));
    }
    int missed = 300 + 200 + 25;

    k3.start();
    acked.assertHeldBy("converged state after the restart", c.awaitConverged());
    c.awaitWatermarkAtHead("k3", "k1");
    c.awaitWatermarkAtHead("k3", "k2");

    // Every version k3 missed is in both peers' logs (each relays the other's), so each stream
    // delivers all of them once; each is stored once (from whichever peer came first) and is a
    // duplicate from the other.
    Status s = k3.http().status();
    long applied = 0;
    for (String peer : List.of("k1", "k2")) {
      Status.Peer p = s.peer(peer);
      applied += p.entriesApplied();
      assertEquals(
          missed,
          p.entriesApplied() + p.duplicates() + p.conflicts(),
          "entries k3 received from " + peer + " after its restart (applied + duplicates + conflicts): exactly the " + missed + " it missed; " + s.json());
    }
    assertEquals(missed, applied, "entries k3 stored after its restart, over both peers; " + s.json());
  }
}
