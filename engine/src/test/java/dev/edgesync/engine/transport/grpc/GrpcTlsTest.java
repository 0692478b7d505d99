package dev.edgesync.engine.transport.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.replication.ReplicationSettings;
import dev.edgesync.engine.replication.TestNode;
import dev.edgesync.engine.security.SecuritySettings;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import dev.edgesync.testing.TestPki;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS between engines over real loopback sockets, with a CA and node certificates made for
 * the test: nodes with valid certificates converge; a server or client certificate for another
 * node id, one from another CA, or none at all is refused on the side that checks it, and nothing
 * is applied; a rotated certificate is used by the next handshake without a restart.
 */
class GrpcTlsTest {
  @TempDir Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private ScheduledExecutorService scheduler;
  private TestPki.Ca ca;
  private Path caFile;

  /** A node under test and the metrics of its transport. */
  private record Node(TestNode node, EngineMetrics transportMetrics) {}

  @BeforeEach
  void pki() {
    scheduler = Executors.newScheduledThreadPool(2);
    ca = TestPki.newCa("edgesync test CA");
    caFile = dir.resolve("ca.pem");
    TestPki.writeBundle(caFile, ca);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    scheduler.shutdownNow();
  }

  private SecuritySettings.Tls files(String nodeId, TestPki.Issued issued) {
    Path cert = dir.resolve(nodeId + ".crt");
    Path key = dir.resolve(nodeId + ".key");
    issued.write(cert, key);
    return new SecuritySettings.Tls(cert, key, caFile);
  }

  private Node start(String id, SecuritySettings.Tls tls, Duration reload) {
    SecuritySettings security = SecuritySettings.none().withTls(tls).withReloadInterval(reload);
    ReplicationSettings settings =
        ReplicationSettings.defaults(id, "prod")
            .withListen("127.0.0.1", 0)
            .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(2))
            .withReconnect(Duration.ofMillis(20), Duration.ofMillis(300))
            .withSecurity(security);
    EngineMetrics transportMetrics = EngineMetrics.noRegistry();
    TestNode n =
        new TestNode(
            id, dir.resolve(id), new MemoryKvStore(), Clock.systemUTC(), settings,
            new GrpcTransport(id, security, transportMetrics), "127.0.0.1", scheduler, id.hashCode());
    toClose.add(n);
    n.engine.start();
    return new Node(n, transportMetrics);
  }

  private Node start(String id, TestPki.Issued issued) {
    return start(id, files(id, issued), Defaults.SECURITY_RELOAD_INTERVAL);
  }

  @Test
  void nodesWithCertificatesOfTheirIdsConverge() {
    Node a = start("site-a", ca.issue("site-a"));
    Node b = start("site-b", ca.issue("site-b"));
    a.node.engine.addPeer(b.node.spec());
    b.node.engine.addPeer(a.node.spec());
    a.node.put("from-a", "1");
    b.node.put("from-b", "2");
    await().atMost(Duration.ofSeconds(20)).until(() -> a.node.value("from-b").isPresent() && b.node.value("from-a").isPresent());
    assertEquals(a.node.store.digest(), b.node.store.digest());
  }

  @Test
  void serverWhoseCertificateNamesAnotherNodeIsRefusedByTheClient() {
    Node a = start("site-a", ca.issue("site-a"));
    Node b = start("site-b", files("site-b", ca.issue("mallory")), Defaults.SECURITY_RELOAD_INTERVAL);
    b.node.put("from-b", "x");
    a.node.engine.addPeer(b.node.spec());
    await().atMost(Duration.ofSeconds(20)).until(() -> a.transportMetrics.errors("site-b", "tls_server_identity").count() >= 1);
    await().atMost(Duration.ofSeconds(20)).until(() -> a.node.status("site-b").lastError() != null);
    assertTrue(a.node.status("site-b").lastError().contains("does not name 'site-b'"), a.node.status("site-b").lastError());
    assertTrue(a.node.value("from-b").isEmpty());
  }

  @Test
  void clientWhoseCertificateNamesAnotherNodeIsRefusedByTheServer() {
    Node a = start("site-a", ca.issue("site-a"));
    a.node.put("secret", "x");
    Node c = start("site-c", files("site-c", ca.issue("site-b")), Defaults.SECURITY_RELOAD_INTERVAL);
    c.node.engine.addPeer(a.node.spec());
    await().atMost(Duration.ofSeconds(20)).until(() -> a.node.metrics.refused("identity_mismatch").count() >= 1);
    await().atMost(Duration.ofSeconds(20)).until(() -> c.node.status("site-a").lastError() != null);
    String error = c.node.status("site-a").lastError();
    assertTrue(error.contains("'site-c'") && error.contains("[site-b]"), error);
    assertTrue(c.node.value("secret").isEmpty());
  }

  @Test
  void perPeerCaAndServerNameLetAPartnerWithItsOwnPkiIn() {
    TestPki.Ca partnerCa = TestPki.newCa("partner CA");
    Path partnerCaFile = dir.resolve("partner-ca.pem");
    TestPki.writeBundle(partnerCaFile, partnerCa);
    Path bothCas = dir.resolve("both.pem");
    TestPki.writeBundle(bothCas, ca, partnerCa);
    // The partner's certificate names its node id and its DNS name; a checks the DNS name.
    TestPki.Issued partnerCert = partnerCa.issue("partner", List.of("partner", "sync.partner.example"), Duration.ofDays(1));
    Path cert = dir.resolve("partner.crt");
    Path key = dir.resolve("partner.key");
    partnerCert.write(cert, key);
    Node partner = start("partner", new SecuritySettings.Tls(cert, key, bothCas), Defaults.SECURITY_RELOAD_INTERVAL);
    partner.node.put("from-partner", "p");

    SecuritySettings.Tls aFiles = files("site-a", ca.issue("site-a"));
    // a trusts the partner CA for partner's server certificate only, and expects its DNS name.
    SecuritySettings security =
        SecuritySettings.none()
            .withTls(aFiles)
            .withPeerTls(Map.of("partner", new SecuritySettings.PeerTls(partnerCaFile, "sync.partner.example")));
    ReplicationSettings settings =
        ReplicationSettings.defaults("site-a", "prod")
            .withListen("127.0.0.1", 0)
            .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(2))
            .withReconnect(Duration.ofMillis(20), Duration.ofMillis(300))
            .withSecurity(security);
    TestNode a =
        new TestNode(
            "site-a", dir.resolve("site-a"), new MemoryKvStore(), Clock.systemUTC(), settings,
            new GrpcTransport("site-a", security, EngineMetrics.noRegistry()), "127.0.0.1", scheduler, 7);
    toClose.add(a);
    a.engine.start();
    a.engine.addPeer(partner.node.spec());
    await().atMost(Duration.ofSeconds(20)).until(() -> a.value("from-partner").isPresent());
  }

  @Test
  void clientCertificateFromAnotherCaFailsTheHandshake() {
    Node a = start("site-a", ca.issue("site-a"));
    a.node.put("secret", "x");
    TestPki.Ca other = TestPki.newCa("another CA");
    // d trusts a's CA (it is public) but its own certificate comes from another CA.
    Node d = start("site-d", files("site-d", other.issue("site-d")), Defaults.SECURITY_RELOAD_INTERVAL);
    d.node.engine.addPeer(a.node.spec());
    await().atMost(Duration.ofSeconds(20)).until(() -> a.transportMetrics.refused("untrusted_certificate").count() >= 1);
    assertTrue(a.node.engine.peerStatuses().isEmpty());
    assertTrue(d.node.value("secret").isEmpty());
  }

  @Test
  void clientWithoutCertificateIsRefusedUnauthenticated() throws Exception {
    Node a = start("site-a", ca.issue("site-a"));
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", a.node.engine.boundPort())
            .overrideAuthority("site-a")
            .sslContext(GrpcSslContexts.forClient().trustManager(caFile.toFile()).build())
            .build();
    toClose.add(channel::shutdownNow);
    Status s = GrpcTransportSecurityTest.sendRaw(channel, new byte[] {0x0a, 0x00});
    assertEquals(Status.Code.UNAUTHENTICATED, s.getCode(), s.toString());
    assertTrue(s.getDescription().contains("requires a client certificate"), s.toString());
    assertEquals(1, a.transportMetrics.refused("no_client_certificate").count());
  }

  @Test
  void plaintextClientNeverGetsAStream() {
    Node a = start("site-a", ca.issue("site-a"));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", a.node.engine.boundPort()).usePlaintext().build();
    toClose.add(channel::shutdownNow);
    Status s = GrpcTransportSecurityTest.sendRaw(channel, new byte[] {0x0a, 0x00});
    assertEquals(Status.Code.UNAVAILABLE, s.getCode(), s.toString());
    await().atMost(Duration.ofSeconds(10)).until(() -> a.transportMetrics.inboundConnectionsFailed().count() >= 1);
  }

  @Test
  void rotatedCertificateIsUsedByTheNextHandshakeAndSyncGoesOn() throws Exception {
    TestPki.Issued first = ca.issue("site-a");
    SecuritySettings.Tls aFiles = files("site-a", first);
    Node a = start("site-a", aFiles, Duration.ofMillis(100));
    assertEquals(first.cert().getSerialNumber(), serverCertificate(a).getSerialNumber());

    TestPki.Issued second = ca.issue("site-a");
    // Key first would pair the old certificate with the new key for a moment; the reload must
    // wait for a matching pair either way.
    second.write(aFiles.certChain(), aFiles.privateKey());
    await().atMost(Duration.ofSeconds(10)).until(() -> a.transportMetrics.securityReloads("identity", "ok").count() >= 1);
    BigInteger served = serverCertificate(a).getSerialNumber();
    assertEquals(second.cert().getSerialNumber(), served);

    Node b = start("site-b", ca.issue("site-b"));
    b.node.engine.addPeer(a.node.spec());
    a.node.engine.addPeer(b.node.spec());
    a.node.put("after-rotation", "1");
    b.node.put("b-after-rotation", "2");
    await().atMost(Duration.ofSeconds(20)).until(() -> b.node.value("after-rotation").isPresent() && a.node.value("b-after-rotation").isPresent());
  }

  @Test
  void brokenRotationKeepsTheCertificateInForce() throws Exception {
    TestPki.Issued first = ca.issue("site-a");
    SecuritySettings.Tls aFiles = files("site-a", first);
    Node a = start("site-a", aFiles, Duration.ofMillis(100));
    // A certificate without its key: the pair does not match.
    TestPki.writeAtomically(aFiles.certChain(), TestPki.pem("CERTIFICATE", ca.issue("site-a").cert().getEncoded()));
    await().atMost(Duration.ofSeconds(10)).until(() -> a.transportMetrics.securityReloads("identity", "failed").count() >= 1);
    assertEquals(first.cert().getSerialNumber(), serverCertificate(a).getSerialNumber());
  }

  @Test
  void unusableFilesAreConfigErrorsNamingTheSetting() throws Exception {
    TestPki.Issued issued = ca.issue("site-a");
    SecuritySettings.Tls good = files("site-a", issued);
    Path pkcs1 = dir.resolve("traditional.key");
    Files.writeString(pkcs1, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    ConfigException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ConfigException.class,
            () -> new GrpcTransport("site-a", SecuritySettings.none().withTls(new SecuritySettings.Tls(good.certChain(), pkcs1, caFile)), EngineMetrics.noRegistry()));
    assertTrue(e.getMessage().contains("security.tls.key") && e.getMessage().contains("openssl pkcs8"), e.getMessage());
    e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ConfigException.class,
            () -> new GrpcTransport("site-a", SecuritySettings.none().withTls(new SecuritySettings.Tls(good.certChain(), good.privateKey(), dir.resolve("missing.pem"))), EngineMetrics.noRegistry()));
    assertTrue(e.getMessage().contains("security.tls.ca"), e.getMessage());
    Path otherKey = dir.resolve("other.key");
    ca.issue("site-a").write(dir.resolve("other.crt"), otherKey);
    e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ConfigException.class,
            () -> new GrpcTransport("site-a", SecuritySettings.none().withTls(new SecuritySettings.Tls(good.certChain(), otherKey, caFile)), EngineMetrics.noRegistry()));
    assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
  }

  /** The certificate a node's replication port presents to a new TLS connection. */
  private X509Certificate serverCertificate(Node n) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.cert());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", n.node.engine.boundPort())) {
      SSLParameters p = socket.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2"});
      socket.setSSLParameters(p);
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }
}
