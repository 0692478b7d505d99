package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.testing.TestPki;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Rotation without a restart of the rotated node: two sites sync over mutual TLS with
 * certificates of an old CA; the CA bundle of both grows to old + new CA, then site {@code r1}'s
 * certificate and key files are replaced by ones of the new CA. {@code r1} reloads them, a new
 * connection to it is served the new certificate, and after the other site reconnects (it is
 * restarted, so both directions use new connections) the two still converge.
 */
class CertificateRotationTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  private static double metric(Cluster c, String node, String name, String... labels) {
    return PrometheusText.value(c.node(node).http().metrics(), name, labels);
  }

  @Test
  void rotatedCertificateOfANewCaKeepsSyncing() throws Exception {
    Path pki = cleanup.newDir("pki");
    TestPki.Ca oldCa = TestPki.newCa("old CA");
    TestPki.Ca newCa = TestPki.newCa("new CA");
    Path bundle = pki.resolve("ca.pem");
    TestPki.writeBundle(bundle, oldCa);
    TestPki.Issued r1First = oldCa.issue("r1");

    Cluster c = cleanup.newCluster("rotation", false);
    c.add("r1", s -> MutualTlsSitesTest.secure(s, r1First, bundle, null));
    c.add("r2", s -> MutualTlsSitesTest.secure(s, oldCa.issue("r2"), bundle, null));
    c.connect("r1", "r2").startAll();
    AckedWrites acked = new AckedWrites();
    Data.bulk(c.node("r1").http(), Data.keys("before/r1/", 100, "r1"), acked);
    Data.bulk(c.node("r2").http(), Data.keys("before/r2/", 100, "r2"), acked);
    acked.assertHeldBy("before the rotation", c.awaitConverged());
    assertEquals(r1First.cert().getSerialNumber(), servedCertificate(c.node("r1"), oldCa).getSerialNumber());

    // 1. Both sites learn to trust the new CA, next to the old one.
    TestPki.writeBundle(bundle, oldCa, newCa);
    for (String n : List.of("r1", "r2")) {
      await(n + " reloads the CA bundle")
          .atMost(Duration.ofSeconds(30))
          .until(() -> metric(c, n, "edgesync_security_reloads_total", "what=trust", "result=ok") >= 1);
    }

    // 2. r1 gets a certificate of the new CA: replaced in place, no restart.
    TestPki.Issued r1Second = newCa.issue("r1");
    r1Second.write(c.node("r1").spec.dir.resolve("r1.crt"), c.node("r1").spec.dir.resolve("r1.key"));
    await("r1 reloads its certificate")
        .atMost(Duration.ofSeconds(30))
        .until(() -> metric(c, "r1", "edgesync_security_reloads_total", "what=identity", "result=ok") >= 1);
    await("r1's log tells of the reload")
        .atMost(Duration.ofSeconds(10))
        .until(() -> c.node("r1").log().contains("reloaded its TLS identity"));
    BigInteger served = servedCertificate(c.node("r1"), newCa).getSerialNumber();
    assertEquals(r1Second.cert().getSerialNumber(), served, "a new connection to r1 gets the new certificate");

    // 3. New connections both ways: r2 restarts; r1 (not restarted) reconnects to it with its new certificate.
    assertEquals(0, c.node("r2").terminate());
    c.node("r2").start();
    Data.bulk(c.node("r1").http(), Data.keys("after/r1/", 100, "r1"), acked);
    Data.bulk(c.node("r2").http(), Data.keys("after/r2/", 100, "r2"), acked);
    acked.assertHeldBy("after the rotation", c.awaitConverged());
    Status r2 = c.awaitStatus("r2", "connected to r1", Cluster.CONVERGENCE, s -> s.peer("r1").connected());
    assertTrue(r2.peer("r1").connected());
    c.awaitStatus("r1", "connected to r2", Cluster.CONVERGENCE, s -> s.peer("r2").connected());
    assertEquals(0, metric(c, "r1", "edgesync_security_reloads_total", "result=failed"), "no reload failed on r1");
  }

  /** The certificate {@code node}'s replication port presents to a new TLS connection. */
  static X509Certificate servedCertificate(NodeProcess node, TestPki.Ca trusted) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("ca", trusted.cert());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket(node.spec.ip, node.spec.grpcPort)) {
      SSLParameters p = socket.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2"});
      socket.setSSLParameters(p);
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }
}
