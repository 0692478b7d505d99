package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two sites, each configured only by its YAML config file, both writing, converge. */
class TwoSitesByConfigFileTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void sitesConfiguredByFileBothWritingConverge() {
    Cluster c = cleanup.newCluster("file-sites", false);
    c.add("site-a", s -> s.style = NodeSpec.Style.FILE);
    c.add("site-b", s -> s.style = NodeSpec.Style.FILE);
    c.connect("site-a", "site-b").startAll();
    NodeClient a = c.node("site-a").http();
    NodeClient b = c.node("site-b").http();
    AckedWrites acked = new AckedWrites();

    Data.bulk(a, Data.keys("a/", 500, "from-a"), acked);
    Data.bulk(b, Data.keys("b/", 500, "from-b"), acked);
    // Overlapping keys, written on both sites in alternating order, some deleted on one side;
    // the names exercise URL encoding (space, slash, plus, non-ASCII).
    for (int i = 0; i < 40; i++) {
      String key = "shared/ü " + i + "+x";
      NodeClient first = i % 2 == 0 ? a : b;
      NodeClient second = i % 2 == 0 ? b : a;
      acked.add(first.put(key, "first-" + i));
      if (i % 5 == 0) {
        acked.add(second.delete(key));
      } else {
        acked.add(second.put(key, "second-" + i));
      }
    }

    // Keys that need care in a URL path and in the paging cursor.
    for (String key : new String[] {"odd/100% sure", "odd/what?x=1&y=2", "odd/#fragment", "odd/a+b", "odd/🎉 emoji", "odd/%2F", "odd/back\\slash"}) {
      acked.add(a.put(key, "value of " + key));
    }

    Map<String, JsonNode> state = c.awaitConverged();
    acked.assertHeldBy("converged state", state);
    assertEquals(java.util.Optional.of("value of odd/a+b"), b.get("odd/a+b"));
    // Paging two at a time puts the odd keys into the cursor.
    Map<String, JsonNode> odd = new java.util.TreeMap<>();
    state.forEach((k, v) -> {
      if (k.startsWith("odd/")) {
        odd.put(k, v);
      }
    });
    assertEquals(odd, new java.util.TreeMap<>(b.scanAll("odd/", 2)), "paging by 2 under odd/");
    assertEquals(java.util.Optional.of("value of odd/🎉 emoji"), b.get("odd/🎉 emoji"));
  }

  /** Peers listed in the config file are re-read while the node runs: streams open and close to match. */
  @Test
  void peersAddedAndRemovedByEditingTheConfigFile() {
    Cluster c = cleanup.newCluster("file-reload", false);
    NodeProcess north = c.add("north", s -> s.style = NodeSpec.Style.FILE);
    NodeProcess south = c.add("south", s -> s.style = NodeSpec.Style.FILE);
    c.startAll();
    AckedWrites acked = new AckedWrites();
    Data.bulk(north.http(), Data.keys("north/", 100, "n"), acked);
    Data.bulk(south.http(), Data.keys("south/", 100, "s"), acked);

    north.spec.peer("south", south.grpcAddress()).rewriteConfigFile();
    south.spec.peer("north", north.grpcAddress()).rewriteConfigFile();
    acked.assertHeldBy("state after both files list the other site", c.awaitConverged());

    north.spec.peers.clear();
    north.spec.rewriteConfigFile();
    c.awaitStatus("north", "without peers after its file dropped them", Cluster.CONVERGENCE, st -> st.peers().isEmpty());
  }
}
