package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tombstone collection with real processes (issue 13): three sites in a full mesh delete 20,000
 * keys and every site's tombstones go; a site that is down holds the others' tombstones until it
 * is back, comes back holding the deleted keys, and nothing deleted reappears anywhere; a site
 * that was decommissioned and comes back with its old data is refused, naming the fix. Keys with a
 * time to live vanish on every site at their expiry, also on a site that was down meanwhile, are
 * collected like tombstones, and come back on none.
 */
class TombstoneCollectionTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  static final Duration COLLECTED = Duration.ofSeconds(60);

  private static void fastGc(NodeSpec s) {
    s.style = NodeSpec.Style.FILE;
    s.replication.put("maxClockSkew", "2s");
    s.gc.put("interval", "300ms");
    s.gc.put("minAge", "4s");
  }

  private static long tombstones(NodeProcess n) {
    return n.http().statusJson().path("gc").path("tombstones").asLong();
  }

  private static long expiring(NodeProcess n) {
    return n.http().statusJson().path("gc").path("expiring").asLong();
  }

  private static Map<String, String> deletes(Map<String, String> keys) {
    Map<String, String> d = new LinkedHashMap<>();
    keys.keySet().forEach(k -> d.put(k, null));
    return d;
  }

  private static void assertNoneVisible(Cluster c, String prefix, String when) {
    assertNoneVisible(c, prefix, when, c.ids());
  }

  private static void assertNoneVisible(Cluster c, String prefix, String when, List<String> ids) {
    for (String id : ids) {
      NodeProcess n = c.node(id);
      if (n.isAlive()) {
        Map<String, JsonNode> live = n.http().scanAll(prefix, 1000);
        assertTrue(live.isEmpty(), when + ": " + n.spec.id + " shows " + live.size() + " deleted keys under " + prefix + ", e.g. " + live.keySet().stream().limit(3).toList());
      }
    }
  }

  @Test
  void deletesAreCollectedEverywhereNotWhileASiteIsDownAndNeverComeBack() throws Exception {
    // Under target/it-work, so that a failure keeps the nodes' logs (ProcessCleanup prints them).
    try (Cluster c = cleanup.newCluster("gc-deletes", false)) {
      for (String id : List.of("a", "b", "c")) {
        c.add(id, TombstoneCollectionTest::fastGc);
      }
      c.fullMesh().startAll();
      NodeClient a = c.node("a").http();
      NodeClient b = c.node("b").http();

      // (a) All sites up: 20,000 keys written on a, deleted on b; every site ends with no tombstone.
      Map<String, String> orders = Data.keys("order/", 20_000, "v");
      Data.bulk(a, orders);
      c.awaitConverged();
      Data.bulk(b, deletes(orders));
      c.awaitConverged();
      await("every site collects the 20,000 tombstones")
          .atMost(COLLECTED)
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> c.nodes().forEach(n -> assertEquals(0, tombstones(n), n.spec.id + " tombstones")));
      assertNoneVisible(c, "order/", "after collection");
      for (NodeProcess n : c.nodes()) {
        assertTrue(n.http().statusJson().path("gc").path("purgedTotal").asLong() >= 20_000, n.spec.id + " purged them");
      }
      String metrics = a.metrics();
      assertTrue(metrics.contains("edgesync_tombstones_purged_total"), "metric edgesync_tombstones_purged_total");
      assertTrue(metrics.contains("edgesync_gc_horizon_seconds"), "metric edgesync_gc_horizon_seconds");

      // (b) c holds 5,000 carts and goes down; a deletes them. a and b keep the tombstones while
      // c is away (it may still hold the carts), and c comes back with them: none reappears.
      Map<String, String> carts = Data.keys("cart/", 5_000, "v");
      Data.bulk(a, carts);
      c.awaitConverged();
      assertEquals(0, c.node("c").terminate(), "exit code of SIGTERM");
      Data.bulk(a, deletes(carts));
      c.awaitConverged(Cluster.CONVERGENCE, List.of("a", "b"));
      await("a and b keep the carts' tombstones while c is down (about 15 collection rounds)")
          .during(Duration.ofSeconds(5))
          .atMost(Duration.ofSeconds(20))
          .until(() -> tombstones(c.node("a")) == 5_000 && tombstones(c.node("b")) == 5_000);
      c.node("c").start();
      c.awaitConverged();
      assertNoneVisible(c, "cart/", "after c came back holding the carts");
      await("the carts' tombstones are collected once c has them")
          .atMost(COLLECTED)
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> c.nodes().forEach(n -> assertEquals(0, tombstones(n), n.spec.id + " tombstones")));
      assertNoneVisible(c, "cart/", "after collection");

      // (c) c goes for good: it leaves the peer lists and is forgotten; the others collect again;
      // c's old data comes back under its id and is refused, with the fix named.
      Map<String, String> sessions = Data.keys("session/", 1_000, "v");
      Data.bulk(a, sessions);
      c.awaitConverged();
      assertEquals(0, c.node("c").terminate(), "exit code of SIGTERM");
      for (String id : List.of("a", "b")) {
        c.node(id).spec.peers.remove("c");
        c.node(id).spec.rewriteConfigFile();
      }
      await("a and b drop c from their peers").atMost(Duration.ofSeconds(30))
          .until(() -> a.status().peers().size() == 1 && b.status().peers().size() == 1);
      NodeClient.Response forgot = a.send("POST", "/admin/forget/c", null);
      assertEquals(200, forgot.status(), forgot.body());
      Data.bulk(a, deletes(sessions));
      await("a and b collect without c")
          .atMost(COLLECTED)
          .pollInterval(Duration.ofMillis(200))
          .until(() -> tombstones(c.node("a")) == 0 && tombstones(c.node("b")) == 0);
      assertTrue(b.statusJson().path("gc").path("forgotten").toString().contains("\"c\""), "the news reached b: " + b.statusJson().path("gc"));

      c.node("c").start();
      await("c is refused as decommissioned")
          .atMost(Duration.ofSeconds(30))
          .until(() -> c.node("c").log().contains("decommissioned"));
      String refusal = c.node("c").log().lines().filter(l -> l.contains("decommissioned")).findFirst().orElseThrow();
      System.out.println("c was told: " + refusal);
      assertTrue(refusal.contains("new id and an empty data dir"), "the refusal names the fix: " + refusal);
      assertNoneVisible(c, "session/", "after the decommissioned c came back", List.of("a", "b"));
      assertEquals(1_000, c.node("c").http().scanAll("session/", 1000).size(), "c keeps its own old data");
    }
  }

  @Test
  void expiringKeysVanishOnEverySiteAreCollectedAndComeBackOnNone() throws Exception {
    try (Cluster c = cleanup.newCluster("gc-ttl", false)) {
      for (String id : List.of("a", "b", "c")) {
        // Expired values go gc.minAge after their expiry: 20 s leaves the steps below, which
        // need the sessions held but not yet collected, ample time on a loaded machine.
        c.add(id, spec -> {
          fastGc(spec);
          spec.gc.put("minAge", "20s");
        });
      }
      c.fullMesh().startAll();
      NodeClient a = c.node("a").http();

      // 2,000 sessions live 4 s; 10 carts live an hour. Every site holds all of them (equal
      // digests, and each counts 2,010 expiring values, expired or not: no timing involved).
      Map<String, String> sessions = Data.keys("tmp/session/", 2_000, "v");
      Map<String, String> carts = Data.keys("tmp/cart/", 10, "v");
      a.bulk(sessions, "4s");
      a.bulk(carts, "1h");
      c.awaitConverged();
      for (NodeProcess n : c.nodes()) {
        assertEquals(2_010, expiring(n), n.spec.id + " holds every expiring value");
      }

      // c goes down; the sessions expire: a and b read them as absent without any write, and keep
      // them (as they keep tombstones) while c, which may still hold them, is away.
      assertEquals(0, c.node("c").terminate(), "exit code of SIGTERM");
      await("the sessions expire on a and b")
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> assertNoneVisible(c, "tmp/session/", "after the expiry", List.of("a", "b")));
      assertEquals(carts.keySet(), a.scanAll("tmp/", 1000).keySet(), "the carts live on");
      await("a and b keep the expired sessions while c is down")
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .until(() -> expiring(c.node("a")) == 2_010 && expiring(c.node("b")) == 2_010);

      // c comes back holding them: they are expired there too, then collected on every site.
      c.node("c").start();
      assertNoneVisible(c, "tmp/session/", "on c as soon as it is back", List.of("c"));
      c.awaitConverged();
      await("the expired sessions are collected once c is back")
          .atMost(COLLECTED)
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> c.nodes().forEach(n -> assertEquals(10, expiring(n), n.spec.id + " expiring values")));
      c.awaitConverged();

      // A restart brings none back; the carts are still there on every site.
      assertEquals(0, c.node("b").terminate(), "exit code of SIGTERM");
      c.node("b").start();
      c.awaitConverged();
      assertNoneVisible(c, "tmp/session/", "after collection and a restart");
      for (NodeProcess n : c.nodes()) {
        assertEquals(carts.keySet(), n.http().scanAll("tmp/", 1000).keySet(), n.spec.id + " keeps the carts");
        assertTrue(n.http().statusJson().path("gc").path("purgedTotal").asLong() >= 2_000, n.spec.id + " collected them");
      }
      assertTrue(a.metrics().contains("edgesync_expiring_values 10.0"), "metric edgesync_expiring_values");
    }
  }
}
