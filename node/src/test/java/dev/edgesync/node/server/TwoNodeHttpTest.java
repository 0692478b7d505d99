package dev.edgesync.node.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.node.client.NodeClient;
import dev.edgesync.node.config.ConfigLoader;
import dev.edgesync.node.config.ConfigOverrides;
import dev.edgesync.node.config.NodeConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two in-process nodes replicating through their real gRPC servers on loopback. */
class TwoNodeHttpTest {
  @TempDir Path dir;

  private NodeServer a;
  private NodeServer b;

  @AfterEach
  void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
  }

  private NodeServer start(String id, String peers, Path configFile) {
    NodeConfig c =
        ConfigLoader.load(
            new ConfigOverrides(
                configFile == null ? null : configFile.toString(),
                id,
                "test",
                "127.0.0.1:0",
                "127.0.0.1:0",
                dir.resolve(id).toString(),
                peers,
                "buffered",
                null),
            Map.of());
    return NodeServer.start(c);
  }

  private static NodeClient client(NodeServer s) {
    return new NodeClient(
        URI.create("http://127.0.0.1:" + s.httpAddress().getPort()), Duration.ofSeconds(10));
  }

  private void startPair() {
    a = start("site-a", null, null);
    b = start("site-b", "site-a=127.0.0.1:" + a.grpcPort(), null);
    a.node().setPeers(List.of(new PeerSpec("site-b", "127.0.0.1", b.grpcPort())));
  }

  @Test
  void writesReplicateAndStatusAndMetricsShowThePeers() throws Exception {
    startPair();
    NodeClient ca = client(a);
    NodeClient cb = client(b);
    assertEquals(
        200, ca.put("hello", "from a".getBytes(StandardCharsets.UTF_8), null, null).status());
    await().atMost(Duration.ofSeconds(30)).until(() -> cb.get("hello").status() == 200);
    assertEquals("from a", cb.get("hello").text());
    // The version travels with the value.
    assertEquals(ca.get("hello").version(), cb.get("hello").version());

    // A write that waits for the peer's acknowledgement.
    NodeClient.Response acked = cb.put("acked", "v".getBytes(StandardCharsets.UTF_8), 1, "10s");
    assertEquals(200, acked.status(), acked.text());
    assertEquals("v", ca.get("acked").text(), "acknowledged means the peer has it");

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> ca.status().path("digest").asText().equals(cb.status().path("digest").asText()));
    JsonNode s = cb.status();
    JsonNode peer = s.path("peers").get(0);
    for (String field :
        List.of(
            "id",
            "address",
            "connected",
            "watermark",
            "peerHeadSeq",
            "lagEntries",
            "lagSeconds",
            "entriesApplied",
            "duplicates",
            "conflicts",
            "entriesSent",
            "ackedSeq",
            "reconnects",
            "lastError",
            "lastErrorAt",
            "stalledSince",
            "repairs",
            "keysRepaired",
            "lastDivergenceAt")) {
      assertTrue(peer.has(field), field + " missing from /status peers[]: " + peer);
    }
    assertEquals("site-a", peer.path("id").asText());
    assertEquals("127.0.0.1:" + a.grpcPort(), peer.path("address").asText());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> cb.status().path("peers").get(0).path("connected").asBoolean());
    assertTrue(cb.status().path("peers").get(0).path("entriesApplied").asLong() >= 1);

    String metrics = cb.getPath("/metrics").text();
    for (String name :
        List.of(
            "edgesync_replication_lag_entries{",
            "edgesync_replication_lag_seconds{",
            "edgesync_replication_connected{",
            "edgesync_replication_entries_applied_total{",
            "edgesync_replication_entries_sent_total{",
            "edgesync_replication_reconnects_total{",
            "edgesync_conflicts_total",
            "edgesync_local_writes_total",
            "edgesync_head_seq",
            "edgesync_replication_batch_entries_bucket{",
            "edgesync_replication_apply_latency_seconds_bucket{")) {
      assertTrue(metrics.contains(name), name + " missing from /metrics of site-b");
    }
    assertTrue(metrics.contains("peer=\"site-a\""));
  }

  @Test
  void ackTimeoutIs504AndSaysTheWriteIsCommittedLocally() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    a = start("site-a", "site-b=127.0.0.1:" + deadPort, null);
    NodeClient ca = client(a);
    NodeClient.Response r = ca.put("lonely", "v".getBytes(StandardCharsets.UTF_8), 1, "200ms");
    assertEquals(504, r.status(), r.text());
    assertTrue(r.json().path("error").asText().contains("committed locally"), r.text());
    assertEquals("v", ca.get("lonely").text(), "the write is there despite the timeout");
  }

  @Test
  void peersChangeWhenTheConfigFileChanges() throws IOException {
    Path file = dir.resolve("a.yaml");
    Files.writeString(file, "peers: []\n");
    a = start("site-a", null, file);
    assertTrue(a.node().status().peers().isEmpty());
    Files.writeString(file, "peers:\n  - id: site-x\n    address: \"127.0.0.1:1\"\n");
    await().atMost(Duration.ofSeconds(30)).until(() -> a.node().status().peers().size() == 1);
    assertEquals("site-x", a.node().status().peers().get(0).id());
    Files.writeString(file, "peers: []\n");
    await().atMost(Duration.ofSeconds(30)).until(() -> a.node().status().peers().isEmpty());
  }

  @Test
  void afterStopAcceptingWritesWritesAre503AndHealthSaysStopping() throws Exception {
    a = start("site-a", null, null);
    NodeClient ca = client(a);
    assertEquals(200, ca.put("before", "v".getBytes(StandardCharsets.UTF_8), null, null).status());
    a.httpApiForTest().stopAcceptingWrites();
    NodeClient.Response r = ca.put("after", "v".getBytes(StandardCharsets.UTF_8), null, null);
    assertEquals(503, r.status());
    assertTrue(r.json().path("error").asText().contains("shutting down"));
    NodeClient.Response h = ca.getPath("/health");
    assertEquals(503, h.status());
    assertEquals("stopping", h.json().path("status").asText());
    assertFalse(h.json().path("reason").asText().isEmpty());
    assertEquals("v", ca.get("before").text(), "reads still work");
  }
}
