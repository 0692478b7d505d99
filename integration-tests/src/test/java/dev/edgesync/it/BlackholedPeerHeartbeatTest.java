package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A peer behind a blackhole (connections stay open, nothing arrives: what gRPC keepalive alone
 * notices only after 10 s or more) is reported disconnected thanks to the application heartbeat,
 * and the link recovers and converges once traffic flows again.
 */
class BlackholedPeerHeartbeatTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  /** heartbeatTimeout 2 s plus generous margin for two JVMs on two busy cores. */
  static final Duration DETECTION_BOUND = Duration.ofSeconds(10);

  @Test
  void blackholedPeerIsReportedDisconnectedThenReconnectsAndConverges() {
    Cluster c = cleanup.newCluster("blackhole", true);
    for (String id : new String[] {"near", "far"}) {
      c.add(id, s -> {
        s.replication.put("heartbeatInterval", "500ms");
        s.replication.put("heartbeatTimeout", "2s");
      });
    }
    c.connect("near", "far").startAll();
    AckedWrites acked = new AckedWrites();
    Data.bulk(c.node("near").http(), Data.keys("near/", 100, "n"), acked);
    Data.bulk(c.node("far").http(), Data.keys("far/", 100, "f"), acked);
    c.awaitConverged();
    c.awaitStatus("near", "connected to far", Cluster.CONVERGENCE, s -> s.peer("far").connected());
    long reconnectsBefore = c.node("near").http().status().peer("far").reconnects();

    c.setLink("near", "far", FaultProxy.Mode.BLACKHOLE);
    c.awaitStatus("near", "reporting far disconnected", DETECTION_BOUND, s -> !s.peer("far").connected());
    c.awaitStatus("far", "reporting near disconnected", DETECTION_BOUND, s -> !s.peer("near").connected());

    // Both sides keep taking writes during the cut.
    Data.bulk(c.node("near").http(), Data.keys("near-cut/", 50, "n"), acked);
    Data.bulk(c.node("far").http(), Data.keys("far-cut/", 50, "f"), acked);
    acked.add(c.node("near").http().put("both", "near"));
    acked.add(c.node("far").http().put("both", "far"));

    c.setLink("near", "far", FaultProxy.Mode.PASS);
    c.awaitStatus("near", "reconnected to far", Cluster.CONVERGENCE, s -> s.peer("far").connected());
    c.awaitStatus("far", "reconnected to near", Cluster.CONVERGENCE, s -> s.peer("near").connected());
    acked.assertHeldBy("converged state after the blackhole", c.awaitConverged());
    long reconnectsAfter = c.node("near").http().status().peer("far").reconnects();
    assertTrue(reconnectsAfter > reconnectsBefore, "near's reconnect count to far must grow: " + reconnectsBefore + " -> " + reconnectsAfter);
  }
}
