package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.testing.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two sites, {@code a} and {@code b}, that sync over mutual TLS with a cluster token, and four
 * intruders that each lack one thing: {@code nocert} has no certificate (plaintext), {@code
 * foreign} a certificate from another CA, {@code impostor} a certificate of the right CA issued to
 * {@code b}, and {@code wrongtoken} a valid certificate but the wrong token. {@code a} lists every
 * intruder as a peer and every intruder lists {@code a}, so both directions are tried: the
 * intruders receive nothing from {@code a}, and nothing of theirs is written on {@code a}; each
 * refusal is in {@code a}'s log and metrics. The certificates are made during the run.
 */
class MutualTlsSitesTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  static final List<String> INTRUDERS = List.of("nocert", "foreign", "impostor", "wrongtoken");
  static final String TOKEN = "it-" + HexFormat.of().formatHex(randomBytes(24));
  static final String WRONG_TOKEN = "it-" + HexFormat.of().formatHex(randomBytes(24));
  static Cluster c;
  /** Every write acknowledged by a or b, across the tests of this class (they share the sites). */
  static final AckedWrites ACKED = new AckedWrites();

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    ThreadLocalRandom.current().nextBytes(b);
    return b;
  }

  /** Gives {@code s} a certificate and key (written into its directory), a CA bundle and a token file. */
  static void secure(NodeSpec s, TestPki.Issued identity, Path caBundle, Path tokenFile) {
    Path cert = s.dir.resolve(s.id + ".crt");
    Path key = s.dir.resolve(s.id + ".key");
    identity.write(cert, key);
    s.extraEnv.put("EDGESYNC_TLS_CERT", cert.toString());
    s.extraEnv.put("EDGESYNC_TLS_KEY", key.toString());
    s.extraEnv.put("EDGESYNC_TLS_CA", caBundle.toString());
    if (tokenFile != null) {
      s.extraEnv.put("EDGESYNC_TOKEN_FILE", tokenFile.toString());
    }
  }

  @BeforeAll
  static void startSites() {
    Path pki = cleanup.newDir("pki");
    TestPki.Ca ca = TestPki.newCa("sites CA");
    TestPki.Ca stranger = TestPki.newCa("stranger CA");
    Path caFile = pki.resolve("ca.pem");
    TestPki.writeBundle(caFile, ca);
    Path bothCas = pki.resolve("both.pem");
    TestPki.writeBundle(bothCas, ca, stranger);
    Path token = pki.resolve("token");
    TestPki.writeAtomically(token, TOKEN + "\n");
    Path wrongToken = pki.resolve("wrong-token");
    TestPki.writeAtomically(wrongToken, WRONG_TOKEN + "\n");

    c = cleanup.newCluster("mtls", false);
    c.add("a", s -> secure(s, ca.issue("a"), caFile, token));
    c.add("b", s -> secure(s, ca.issue("b"), caFile, token));
    // No certificate at all: a plaintext node that knows the token.
    c.add("nocert", s -> s.extraEnv.put("EDGESYNC_TOKEN_FILE", token.toString()));
    // Trusts a's CA (it is public), but its own certificate comes from a CA a does not trust.
    c.add("foreign", s -> secure(s, stranger.issue("foreign"), bothCas, token));
    // A certificate a's CA issued, but to node b.
    c.add("impostor", s -> secure(s, ca.issue("b"), caFile, token));
    c.add("wrongtoken", s -> secure(s, ca.issue("wrongtoken"), caFile, wrongToken));
    c.connect("a", "b");
    for (String i : INTRUDERS) {
      c.connect("a", i);
    }
    c.startAll();
    for (String i : INTRUDERS) {
      c.node(i).http().bulk(Data.keys("intruder/" + i + "/", 20, i));
    }
  }

  private static double metric(String node, String name, String... labels) {
    return PrometheusText.value(c.node(node).http().metrics(), name, labels);
  }

  private static void awaitMetric(String node, String what, double atLeast, String name, String... labels) {
    await(node + ": " + what)
        .atMost(Cluster.CONVERGENCE)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> metric(node, name, labels) >= atLeast);
  }

  @Test
  void sitesWithCertificatesOfTheirIdsConverge() {
    AckedWrites acked = ACKED;
    Data.bulk(c.node("a").http(), Data.keys("a/", 200, "from-a"), acked);
    Data.bulk(c.node("b").http(), Data.keys("b/", 200, "from-b"), acked);
    acked.assertHeldBy("a and b over mutual TLS", c.awaitConverged(Cluster.CONVERGENCE, List.of("a", "b")));
    assertTrue(c.node("a").log().contains("replication mutual TLS"), "a's log names its security");
  }

  @Test
  void intrudersReceiveNothingAndWriteNothingOnTheProtectedNode() {
    AckedWrites acked = ACKED;
    Data.bulk(c.node("a").http(), Data.keys("protected/", 50, "a"), acked);
    Map<String, JsonNode> state = c.awaitConverged(Cluster.CONVERGENCE, List.of("a", "b"));
    acked.assertHeldBy("a and b", state);

    // Every way in was tried and refused, each on the side that checks it.
    awaitMetric("a", "a plaintext client's failed handshakes", 2, "edgesync_replication_inbound_connections_failed_total");
    awaitMetric("a", "foreign's client certificate refused", 2, "edgesync_replication_refused_total", "reason=untrusted_certificate");
    awaitMetric("a", "impostor's Hello refused", 2, "edgesync_replication_refused_total", "reason=identity_mismatch");
    awaitMetric("a", "wrongtoken's token refused", 2, "edgesync_replication_refused_total", "reason=bad_token");
    awaitMetric("a", "foreign's server certificate refused", 2, "edgesync_replication_errors_total", "peer=foreign", "kind=tls_untrusted_server");
    awaitMetric("a", "impostor's server certificate refused", 2, "edgesync_replication_errors_total", "peer=impostor", "kind=tls_server_identity");
    awaitMetric("a", "wrongtoken refusing a's token", 2, "edgesync_replication_errors_total", "peer=wrongtoken", "kind=transport_unauthenticated");
    awaitMetric("a", "no stream to the plaintext nocert", 2, "edgesync_replication_errors_total", "peer=nocert");

    // The protected node's state did not move while the intruders kept trying.
    String digest = c.node("a").http().status().digest();
    long head = c.node("a").http().status().headSeq();
    double before = metric("a", "edgesync_replication_refused_total");
    await("more refusals on a").atMost(Cluster.CONVERGENCE).until(() -> metric("a", "edgesync_replication_refused_total") >= before + 4);
    Status a = c.node("a").http().status();
    assertEquals(digest, a.digest(), "a's digest is unchanged by the intruders");
    assertEquals(head, a.headSeq(), "a committed nothing from the intruders");
    assertEquals(c.node("b").http().status().digest(), a.digest(), "a still equals b");
    for (String key : c.node("a").http().scanAll().keySet()) {
      assertFalse(key.startsWith("intruder/"), "intruder data on a: " + key);
    }
    for (String i : INTRUDERS) {
      for (String key : c.node(i).http().scanAll().keySet()) {
        assertTrue(key.startsWith("intruder/" + i + "/"), i + " received a key of the cluster: " + key);
      }
      Status.Peer seenByA = a.peer(i);
      assertFalse(seenByA.connected(), "a is not connected to " + i);
      assertEquals(0, seenByA.entriesApplied(), "a applied nothing from " + i);
      assertTrue(seenByA.lastError() != null, "a's status names the problem with " + i);
    }

    // Each refusal is explained in a's log; the token never is.
    String log = c.node("a").log();
    for (String expected :
        List.of(
            "ended before its TLS handshake completed",
            "not signed by a CA in security.tls.ca",
            "presented a client certificate for [b]",
            "the cluster token is wrong",
            "does not name 'impostor'")) {
      assertTrue(log.contains(expected), "a's log lacks '" + expected + "'; log " + c.node("a").logFile());
    }
    for (String n : c.ids()) {
      assertFalse(
          c.node(n).log().lines().filter(l -> !l.startsWith("==== start")).anyMatch(l -> l.contains(TOKEN) || l.contains(WRONG_TOKEN)),
          n + "'s log shows a token");
    }
    String status = c.node("a").http().statusJson().toString() + c.node("a").http().metrics();
    assertFalse(status.contains(TOKEN), "a's /status or /metrics shows the token");
  }
}
