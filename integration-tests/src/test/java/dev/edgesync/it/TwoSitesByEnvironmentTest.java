package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two sites configured only by EDGESYNC_* environment variables converge through the HTTP API. */
class TwoSitesByEnvironmentTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void sitesConfiguredByEnvironmentConvergeThroughHttpApi() {
    Cluster c = cleanup.newCluster("env-sites", false);
    c.add("east", s -> s.style = NodeSpec.Style.ENV);
    c.add("west", s -> s.style = NodeSpec.Style.ENV);
    c.connect("east", "west").startAll();
    NodeClient east = c.node("east").http();
    NodeClient west = c.node("west").http();
    AckedWrites acked = new AckedWrites();

    for (int i = 0; i < 100; i++) {
      acked.add(east.put("east/" + i, "e" + i));
      acked.add(west.put("west/" + i, "w" + i));
    }
    for (int i = 0; i < 100; i += 10) {
      acked.add(west.delete("west/" + i));
    }
    for (int i = 0; i < 20; i++) {
      acked.add(east.put("both/" + i, "east-" + i));
      acked.add(west.put("both/" + i, "west-" + i));
    }

    Map<String, JsonNode> state = c.awaitConverged();
    acked.assertHeldBy("converged state", state);
    // And through single-key reads on both sides.
    for (String key : new String[] {"east/7", "west/7", "west/10", "both/3"}) {
      Write w = acked.winner(key);
      Optional<String> expected = w.isDelete() ? Optional.empty() : Optional.of(w.value());
      assertEquals(expected, east.get(key), "east GET " + key);
      assertEquals(expected, west.get(key), "west GET " + key);
    }
  }
}
