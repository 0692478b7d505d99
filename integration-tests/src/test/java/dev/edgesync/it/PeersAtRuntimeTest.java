package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three sites started with no peers are wired at run time, over HTTP and with the CLI ({@code
 * edgesync peers add|remove|list}); the streams follow, the changes survive a restart, and the
 * inbound subscribers show in {@code /status} and {@code peers list}.
 */
class PeersAtRuntimeTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void peersAddedAndRemovedAtRunTimeAreFollowedAndKeptAcrossARestart() throws Exception {
    try (Cluster c = cleanup.newCluster("runtime-peers", false)) {
      c.add("a");
      c.add("b");
      c.add("x");
      c.startAll();
      NodeClient a = c.node("a").http();
      NodeClient b = c.node("b").http();
      NodeClient x = c.node("x").http();

      // a and b over HTTP, a and x with the CLI.
      assertEquals(200, a.send("PUT", "/peers/b", "{\"address\": \"" + c.node("b").grpcAddress() + "\"}").status());
      assertEquals(200, b.send("PUT", "/peers/a", "{\"address\": \"" + c.node("a").grpcAddress() + "\"}").status());
      String added = cli(c, "a", "peers", "add", "x", c.node("x").grpcAddress());
      assertTrue(added.contains("added peer 'x'"), added);
      cli(c, "x", "peers", "add", "a", c.node("a").grpcAddress());
      AckedWrites acked = new AckedWrites();
      for (int i = 0; i < 50; i++) {
        acked.add(a.put("a/" + i, "v"));
        acked.add(b.put("b/" + i, "v"));
        acked.add(x.put("x/" + i, "v"));
      }
      acked.assertHeldBy("every site, b and x through a", c.awaitConverged());

      // b lists a and a lists b: each is the other's subscriber too. x pulls from a.
      JsonNode subscribers = a.statusJson().path("subscribers");
      assertEquals(List.of("b", "x"), ids(subscribers), "a's inbound subscribers: " + subscribers);
      subscribers.forEach(s -> assertTrue(s.path("ackedSeq").asLong() > 0, "acked: " + s));
      String list = cli(c, "a", "peers", "list");
      assertTrue(list.contains("runtime") && list.contains("SUBSCRIBER"), list);

      // The changes survive a restart of a.
      assertEquals(0, c.node("a").terminate(), "exit code of SIGTERM");
      c.node("a").start();
      await("a reconnects to both peers it was given at run time")
          .atMost(Duration.ofSeconds(30))
          .until(() -> ids(a.statusJson().path("peers")).equals(List.of("b", "x"))
              && a.status().peers().stream().allMatch(Status.Peer::connected));
      acked.add(b.put("b/after-restart", "v"));
      acked.assertHeldBy("every site after a's restart", c.awaitConverged());

      // a drops x with the CLI: its stream to x closes and stays closed across a restart; x still
      // pulls from a, since x lists a.
      String removed = cli(c, "a", "peers", "remove", "x");
      assertTrue(removed.contains("removed peer 'x'"), removed);
      assertEquals(List.of("b"), ids(a.statusJson().path("peers")));
      assertEquals(0, c.node("a").terminate(), "exit code of SIGTERM");
      c.node("a").start();
      c.node("a").awaitHealthy();
      assertEquals(List.of("b"), ids(a.statusJson().path("peers")), "the removal survives the restart");
      acked.add(a.put("a/after-removal", "v"));
      await("x still pulls from a")
          .atMost(Duration.ofSeconds(30))
          .until(() -> x.get("a/after-removal").isPresent());
      JsonNode peers = a.send("GET", "/peers", null).json();
      assertEquals(List.of("x"), ids(peers.path("subscribers")).stream().filter(id -> id.equals("x")).toList());
      assertFalse(peers.path("subscribers").get(ids(peers.path("subscribers")).indexOf("x")).path("inPeers").asBoolean(),
          "x pulls from a without being in a's peers: " + peers);
    }
  }

  private static List<String> ids(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.path("id").asText()));
    return out;
  }

  /** Runs {@code edgesync ARGS --node <http of node>} and returns its output; fails on a non-zero exit. */
  private static String cli(Cluster c, String node, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--node", c.node(node).spec.httpAddress()));
    return NodeProcess.runCommand(c.dir(), 0, all.toArray(String[]::new));
  }

}
