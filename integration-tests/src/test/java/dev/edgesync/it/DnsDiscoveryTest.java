package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.edgesync.testing.TestDnsServer;
import dev.edgesync.testing.TestDnsServer.Srv;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three node processes find their peers in the SRV records of one name, served by a test DNS
 * server, as a Kubernetes StatefulSet's headless service would list them: peers appear and
 * disappear as the records change, and data flows to the peers found.
 */
class DnsDiscoveryTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  private static final String SRV = "_grpc._tcp.edgesync.it.test";

  @Test
  void peersFollowTheSrvRecords() {
    try (TestDnsServer dns = new TestDnsServer(Loopback.randomAddress());
        Cluster c = cleanup.newCluster("dns", false)) {
      for (String id : List.of("a", "b", "c")) {
        c.add(
            id,
            spec -> {
              spec.extraEnv.put("EDGESYNC_DNS_SRV", SRV);
              spec.extraEnv.put("EDGESYNC_DNS_INTERVAL", "500ms");
              spec.extraEnv.put("EDGESYNC_DNS_SERVERS", dns.address());
            });
      }
      for (String id : List.of("a", "b", "c")) {
        dns.setA(id + ".edgesync.it.test", c.node(id).spec.ip);
      }
      dns.setSrv(SRV, List.of(srv(c, "a"), srv(c, "b")));
      c.startAll();
      NodeClient a = c.node("a").http();
      NodeClient b = c.node("b").http();

      awaitPeers(c, "a", List.of("b"));
      awaitPeers(c, "b", List.of("a"));
      b.put("from-b", "1");
      await("a pulls from b, found in DNS").atMost(Duration.ofSeconds(30)).until(() -> a.get("from-b").isPresent());

      assertEquals("dns", a.send("GET", "/peers", null).json().path("peers").get(0).path("source").asText(), "GET /peers says where b comes from");

      // c appears in the records: a and b find it, and pull its writes.
      dns.setSrv(SRV, List.of(srv(c, "a"), srv(c, "b"), srv(c, "c")));
      awaitPeers(c, "a", List.of("b", "c"));
      c.node("c").http().put("from-c", "1");
      await("a pulls from c").atMost(Duration.ofSeconds(30)).until(() -> a.get("from-c").isPresent());

      // b leaves the records: its peers drop it.
      dns.setSrv(SRV, List.of(srv(c, "a"), srv(c, "c")));
      awaitPeers(c, "a", List.of("c"));
      awaitPeers(c, "c", List.of("a"));
    }
  }

  private static Srv srv(Cluster c, String id) {
    return new Srv(id + ".edgesync.it.test", c.node(id).spec.grpcPort);
  }

  private static void awaitPeers(Cluster c, String node, List<String> expected) {
    await(node + "'s peers become " + expected)
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<String> ids = new ArrayList<>();
              c.node(node).http().statusJson().path("peers").forEach(p -> ids.add(p.path("id").asText()));
              assertEquals(expected, ids.stream().sorted().toList());
            });
  }
}
