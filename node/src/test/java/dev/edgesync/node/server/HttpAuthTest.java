package dev.edgesync.node.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.node.client.NodeClient;
import dev.edgesync.node.config.ConfigLoader;
import dev.edgesync.node.config.ConfigOverrides;
import dev.edgesync.node.config.NodeConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API with a bearer token: everything but /health needs it, and it never shows. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpAuthTest {
  private static final String TOKEN = "http-token-0123456789abcdef";
  private static final String WRONG = "wrong-token-fedcba9876543210";
  private NodeServer server;
  private String base;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("node.yaml");
    Files.writeString(config, "id: site-a\nlisten: 127.0.0.1:0\nhttp: 127.0.0.1:0\ndurability: buffered\n");
    NodeConfig c =
        ConfigLoader.load(
            new ConfigOverrides(config.toString(), null, null, null, null, dir.resolve("data").toString(), null, null, null),
            Map.of("EDGESYNC_HTTP_TOKEN", TOKEN));
    server = NodeServer.start(c);
    base = "http://127.0.0.1:" + server.httpAddress().getPort();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private HttpResponse<String> send(String method, String path, String authorization) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .method(method, method.equals("PUT") ? HttpRequest.BodyPublishers.ofString("v") : HttpRequest.BodyPublishers.noBody());
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  @Test
  void healthStaysOpen() throws Exception {
    assertEquals(200, send("GET", "/health", null).statusCode());
  }

  @Test
  void everythingElseNeedsTheToken() throws Exception {
    for (String path : new String[] {"/status", "/metrics", "/kv", "/kv/k"}) {
      HttpResponse<String> r = send("GET", path, null);
      assertEquals(401, r.statusCode(), path + ": " + r.body());
      assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), path);
    }
    HttpResponse<String> r = send("PUT", "/kv/written-without-token", null);
    assertEquals(401, r.statusCode());
    assertEquals(404, send("GET", "/kv/written-without-token", "Bearer " + TOKEN).statusCode(), "nothing was written");
  }

  @Test
  void wrongTokenIsRefusedAndNeverEchoed() throws Exception {
    for (String auth : new String[] {"Bearer " + WRONG, "Basic " + TOKEN, "Bearer", "Bearer " + TOKEN + "x"}) {
      HttpResponse<String> r = send("GET", "/status", auth);
      assertEquals(401, r.statusCode(), auth);
      assertFalse(r.body().contains(WRONG) || r.body().contains(TOKEN), r.body());
    }
    String metrics = send("GET", "/metrics", "Bearer " + TOKEN).body();
    assertTrue(metrics.contains("edgesync_http_refused_total{reason=\"bad_token\"}"), metrics);
  }

  @Test
  void rightTokenWorksAndStatusHoldsNoToken() throws Exception {
    assertEquals(200, send("PUT", "/kv/k1", "Bearer " + TOKEN).statusCode());
    HttpResponse<String> status = send("GET", "/status", "bearer " + TOKEN);
    assertEquals(200, status.statusCode());
    assertFalse(status.body().contains(TOKEN), status.body());
    NodeClient client = new NodeClient(URI.create(base), Duration.ofSeconds(10), TOKEN, null);
    assertEquals(200, client.get("k1").status());
    assertEquals(401, new NodeClient(URI.create(base), Duration.ofSeconds(10)).get("k1").status());
  }
}
