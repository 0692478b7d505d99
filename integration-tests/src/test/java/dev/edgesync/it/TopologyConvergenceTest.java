package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Any connected topology converges, because every node relays every version it stores: a full
 * mesh, a chain whose ends are not peers, and hub-and-spoke.
 */
class TopologyConvergenceTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  /** Every node writes its own keys and a shared set of keys; the state must end identical. */
  private static void writeOnEveryNodeAndAwaitConvergence(Cluster c) {
    AckedWrites acked = new AckedWrites();
    for (NodeProcess n : c.nodes()) {
      Data.bulk(n.http(), Data.keys(n.id() + "/", 200, n.id()), acked);
    }
    for (int i = 0; i < 10; i++) {
      for (NodeProcess n : c.nodes()) {
        acked.add(n.http().put("shared/" + i, n.id() + "-" + i));
      }
    }
    acked.add(c.nodes().get(c.nodes().size() - 1).http().delete("shared/0"));
    Map<String, com.fasterxml.jackson.databind.JsonNode> state = c.awaitConverged();
    acked.assertHeldBy("converged state of " + c.ids(), state);
  }

  @Test
  void threeNodeFullMeshConverges() {
    Cluster c = cleanup.newCluster("mesh", false);
    c.add("m1");
    c.add("m2");
    c.add("m3");
    c.fullMesh().startAll();
    writeOnEveryNodeAndAwaitConvergence(c);
  }

  @Test
  void chainWhoseEndsAreNotPeersConverges() {
    Cluster c = cleanup.newCluster("chain", false);
    c.add("c1");
    c.add("c2");
    c.add("c3");
    c.chain().startAll();
    // The ends know nothing of each other: what c1 writes reaches c3 only through c2's relay.
    assertTrue(c.node("c1").http().status().findPeer("c3").isEmpty(), "c1 must not have c3 as a peer");
    assertTrue(c.node("c3").http().status().findPeer("c1").isEmpty(), "c3 must not have c1 as a peer");
    writeOnEveryNodeAndAwaitConvergence(c);
  }

  @Test
  void fiveNodeHubAndSpokeConverges() {
    Cluster c = cleanup.newCluster("hub", false);
    c.add("hub");
    for (int i = 1; i <= 4; i++) {
      c.add("spoke" + i);
    }
    c.hubAndSpoke().startAll();
    writeOnEveryNodeAndAwaitConvergence(c);
  }
}
