package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.testing.TestPki;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node program's HTTP API over HTTPS with a bearer token, as a real process: {@code /health}
 * answers without the token, everything else needs it, plain HTTP gets nowhere, the token never
 * shows, and a replaced certificate is served to the next connection without a restart.
 */
class HttpApiOverTlsTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  private static final String TOKEN = "https-api-token-" + Long.toHexString(System.nanoTime());

  @Test
  void httpsApiWithBearerToken() throws Exception {
    TestPki.Ca ca = TestPki.newCa("http CA");
    Cluster c = cleanup.newCluster("https", false);
    NodeProcess h =
        c.add(
            "h",
            s -> {
              ca.issueForIp("h", s.ip).write(s.dir.resolve("http.crt"), s.dir.resolve("http.key"));
              s.extraEnv.put("EDGESYNC_HTTP_TLS_CERT", s.dir.resolve("http.crt").toString());
              s.extraEnv.put("EDGESYNC_HTTP_TLS_KEY", s.dir.resolve("http.key").toString());
              s.extraEnv.put("EDGESYNC_HTTP_TOKEN", TOKEN);
            });
    // The harness's own client speaks plain HTTP; this node is reached over HTTPS below.
    h.startProcess();
    HttpClient https = HttpClient.newBuilder().sslContext(trusting(ca)).connectTimeout(Duration.ofSeconds(2)).build();
    String base = "https://" + h.spec.httpAddress();
    await("h serves HTTPS")
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> get(https, base + "/health", null).statusCode() == 200);

    HttpResponse<String> noToken = get(https, base + "/status", null);
    assertEquals(401, noToken.statusCode(), noToken.body());
    HttpResponse<String> status = get(https, base + "/status", TOKEN);
    assertEquals(200, status.statusCode(), status.body());
    assertTrue(status.body().contains("\"nodeId\":\"h\""), status.body());
    assertFalse(status.body().contains(TOKEN));
    assertEquals(401, get(https, base + "/metrics", "not-the-token-0123456789").statusCode());

    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    assertThrows(IOException.class, () -> get(plain, "http://" + h.spec.httpAddress() + "/health", null), "plain HTTP gets no answer");

    // Rotation: new files, same paths; the next TLS connection gets the new certificate.
    TestPki.Issued second = ca.issueForIp("h", h.spec.ip);
    second.write(h.spec.dir.resolve("http.crt"), h.spec.dir.resolve("http.key"));
    await("h serves the new HTTPS certificate")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> served(h, ca).getSerialNumber().equals(second.cert().getSerialNumber()));
    assertEquals(200, get(HttpClient.newBuilder().sslContext(trusting(ca)).build(), base + "/status", TOKEN).statusCode());
    // The harness's own "==== start" lines list the environment it passed; the node's lines must not.
    assertFalse(
        h.log().lines().filter(l -> !l.startsWith("==== start")).anyMatch(l -> l.contains(TOKEN)),
        "the token is not in the node's log");
  }

  private static HttpResponse<String> get(HttpClient client, String url, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static SSLContext trusting(TestPki.Ca ca) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.cert());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  private static X509Certificate served(NodeProcess h, TestPki.Ca ca) throws Exception {
    try (SSLSocket socket = (SSLSocket) trusting(ca).getSocketFactory().createSocket(h.spec.ip, h.spec.httpPort)) {
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }
}
