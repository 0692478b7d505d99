package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The same keys written on nodes that cannot reach each other (put-versus-put, delete-versus-put
 * in both orders, three-way) end, after the partition heals, as the LWW winner on every node:
 * the highest version by (hlc, origin) among the versions the nodes acknowledged.
 */
class PartitionedConflictLwwTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void concurrentWritesDuringPartitionConvergeToLwwWinnerEverywhere() {
    Cluster c = cleanup.newCluster("partition", true);
    // p1's clock runs 20 s ahead: its writes win over later (in real time) writes elsewhere.
    c.add("p1", s -> s.clockOffset = "20s");
    c.add("p2");
    c.add("p3");
    c.fullMesh().startAll();
    NodeClient p1 = c.node("p1").http();
    NodeClient p2 = c.node("p2").http();
    NodeClient p3 = c.node("p3").http();
    AckedWrites acked = new AckedWrites();
    for (int i = 0; i < 10; i++) {
      acked.add(p2.put("dp/" + i, "base-" + i));
    }
    c.awaitConverged();

    for (String from : c.ids()) {
      for (String to : c.ids()) {
        if (!from.equals(to)) {
          c.proxy(from, to).setMode(FaultProxy.Mode.RESET);
        }
      }
    }

    List<String> conflictKeys = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      String pp = "pp/" + i;
      NodeClient first = i % 2 == 0 ? p2 : p3;
      NodeClient second = i % 2 == 0 ? p3 : p2;
      acked.add(first.put(pp, "first-" + i));
      acked.add(second.put(pp, "second-" + i));
      String dp = "dp/" + i;
      if (i % 2 == 0) {
        acked.add(p2.delete(dp));
        acked.add(p3.put(dp, "put-after-delete-" + i));
      } else {
        acked.add(p3.put(dp, "put-before-delete-" + i));
        acked.add(p2.delete(dp));
      }
      String fresh = "fresh-dp/" + i;
      acked.add(p3.put(fresh, "put-" + i));
      acked.add(p2.delete(fresh));
      conflictKeys.addAll(List.of(pp, dp, fresh));
    }
    for (int i = 0; i < 5; i++) {
      String skew = "skew/" + i;
      Write early = acked.add(p1.put(skew, "p1-earlier"));
      acked.add(p2.put(skew, "p2-later"));
      acked.add(p3.delete(skew));
      assertEquals(early, acked.winner(skew), "test premise: p1's clock offset makes its earlier write the winner of " + skew);
      String tri = "tri/" + i;
      acked.add(p3.put(tri, "p3"));
      acked.add(p2.put(tri, "p2"));
      acked.add(p1.put(tri, "p1"));
      conflictKeys.addAll(List.of(skew, tri));
    }

    for (String from : c.ids()) {
      for (String to : c.ids()) {
        if (!from.equals(to)) {
          c.proxy(from, to).setMode(FaultProxy.Mode.PASS);
        }
      }
    }
    acked.assertHeldBy("converged state after healing", c.awaitConverged());

    for (String key : conflictKeys) {
      Write w = acked.winner(key);
      Optional<String> expected = w.isDelete() ? Optional.empty() : Optional.of(w.value());
      for (NodeProcess n : c.nodes()) {
        assertEquals(expected, n.http().get(key), n.id() + " GET " + key + " (winner " + w + ")");
      }
    }
  }
}
