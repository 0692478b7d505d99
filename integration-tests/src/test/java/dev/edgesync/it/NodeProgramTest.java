package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node program as an operator meets it: a bad configuration exits 2 with one line naming the
 * key and its source; SIGTERM exits 0 with the watermarks persisted; {@code /status}, {@code
 * /health} and {@code /metrics} carry the documented fields; {@code demo} runs to completion.
 */
class NodeProgramTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  /** Exit code and separate stdout/stderr of a program run to completion. */
  record Run(int exit, String stdout, String stderr) {
    List<String> stderrLines() {
      return stderr.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  static Run runToCompletion(Path dir, List<String> args, Map<String, String> env, int timeoutSeconds) throws Exception {
    Files.createDirectories(dir);
    Path out = dir.resolve("stdout.txt");
    Path err = dir.resolve("stderr.txt");
    List<String> command = new ArrayList<>(List.of(NodeProcess.javaBinary(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m", "-jar", NodeProcess.jar().toString()));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("EDGESYNC_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        throw new AssertionError("'" + String.join(" ", args) + "' did not finish within " + timeoutSeconds + " s; output in " + dir);
      }
    } finally {
      p.destroyForcibly();
    }
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }

  private static void assertRefused(Run run, String... mustMention) {
    assertEquals(2, run.exit(), "exit code of a bad configuration; stderr: " + run.stderr() + " stdout: " + run.stdout());
    List<String> lines = run.stderrLines();
    assertEquals(1, lines.size(), "a bad configuration is one line on stderr, got: " + run.stderr());
    for (String word : mustMention) {
      assertTrue(lines.get(0).contains(word), "the error must mention '" + word + "': " + lines.get(0));
    }
  }

  @Test
  void badDurationInConfigFileExits2NamingKeyAndFile() throws Exception {
    Path dir = cleanup.newDir("bad-file");
    Path config = dir.resolve("site.yaml");
    Files.writeString(
        config,
        "id: site-a\ncluster: it\nlisten: 127.0.0.1:0\nhttp: 127.0.0.1:0\ndataDir: " + dir.resolve("data") + "\nreplication:\n  heartbeatInterval: soon\n");
    Run run = runToCompletion(dir, List.of("run", "--config", config.toString()), Map.of(), 60);
    assertRefused(run, "replication.heartbeatInterval", config.toString(), "soon");
    assertFalse(Files.exists(dir.resolve("data")), "nothing is started (no data dir made) for a bad configuration");
  }

  @Test
  void badPeersVariableExits2NamingTheVariable() throws Exception {
    Path dir = cleanup.newDir("bad-env");
    Run run =
        runToCompletion(
            dir,
            List.of("run"),
            Map.of(
                "EDGESYNC_NODE_ID", "site-a",
                "EDGESYNC_DATA_DIR", dir.resolve("data").toString(),
                "EDGESYNC_LISTEN", "127.0.0.1:0",
                "EDGESYNC_HTTP", "127.0.0.1:0",
                "EDGESYNC_PEERS", "site-b=nowhere"),
            60);
    assertRefused(run, "EDGESYNC_PEERS", "nowhere");
  }

  @Test
  void badListenFlagExits2NamingTheFlag() throws Exception {
    Path dir = cleanup.newDir("bad-flag");
    Run run =
        runToCompletion(
            dir,
            List.of("run", "--id", "site-a", "--data-dir", dir.resolve("data").toString(), "--listen", "127.0.0.1:http", "--http", "127.0.0.1:0"),
            Map.of(),
            60);
    assertRefused(run, "--listen", "127.0.0.1:http");
  }

  @Test
  void sigtermExitsZeroWithWatermarksPersistedAndEndpointsCarryDocumentedFields() throws IOException {
    Cluster c = cleanup.newCluster("program", false);
    c.add("alpha");
    c.add("beta");
    c.connect("alpha", "beta").startAll();
    NodeClient alpha = c.node("alpha").http();
    NodeClient beta = c.node("beta").http();
    Data.bulk(beta, Data.keys("beta/", 300, "b"), new AckedWrites());
    alpha.put("alpha/1", "a");
    c.awaitConverged();
    c.awaitWatermarkAtHead("alpha", "beta");
    c.awaitWatermarkAtHead("beta", "alpha");

    assertEquals(200, alpha.health(), "/health of a serving node");
    JsonNode status = alpha.statusJson();
    for (String field : List.of("nodeId", "cluster", "logId", "headSeq", "digest", "state", "failure", "grpcPort", "httpPort", "peers")) {
      assertTrue(status.has(field), "/status has " + field + ": " + status);
    }
    assertEquals("alpha", status.path("nodeId").asText());
    assertEquals("it", status.path("cluster").asText());
    assertEquals(c.node("alpha").spec.grpcPort, status.path("grpcPort").asInt());
    assertEquals(c.node("alpha").spec.httpPort, status.path("httpPort").asInt());
    JsonNode peer = status.path("peers").path(0);
    for (String field : List.of("id", "address", "connected", "watermark", "peerHeadSeq", "lagEntries", "lagSeconds", "entriesApplied", "duplicates", "conflicts", "entriesSent", "ackedSeq", "reconnects", "lastError", "lastErrorAt", "stalledSince", "repairs", "keysRepaired", "lastDivergenceAt")) {
      assertTrue(peer.has(field), "/status peers[] has " + field + ": " + peer);
    }
    assertEquals("beta", peer.path("id").asText());
    assertTrue(peer.path("connected").asBoolean(), "alpha is connected to beta: " + peer);
    assertEquals(0, peer.path("lagEntries").asLong(), "caught up: " + peer);

    String metrics = alpha.metrics();
    for (String name :
        List.of(
            "edgesync_replication_lag_entries",
            "edgesync_replication_lag_seconds",
            "edgesync_replication_connected",
            "edgesync_replication_entries_applied_total",
            "edgesync_replication_entries_sent_total",
            "edgesync_replication_reconnects_total",
            "edgesync_conflicts_total",
            "edgesync_local_writes_total",
            "edgesync_head_seq")) {
      assertTrue(Pattern.compile("(?m)^" + name + "[{ ]").matcher(metrics).find(), "/metrics has a sample of " + name + "; got:\n" + metrics);
    }
    assertTrue(Pattern.compile("(?m)^edgesync_replication_connected\\{[^}]*peer=\"beta\"[^}]*} 1(\\.0)?$").matcher(metrics).find(), "connected gauge for beta is 1:\n" + metrics);
    assertTrue(Pattern.compile("(?m)^edgesync_replication_entries_applied_total\\{[^}]*peer=\"beta\"[^}]*} 300(\\.0)?$").matcher(metrics).find(), "applied counter for beta is 300:\n" + metrics);
    assertTrue(Pattern.compile("(?m)^# TYPE edgesync_\\w+ histogram$").matcher(metrics).find(), "/metrics has the batch size / apply latency histograms:\n" + metrics);

    long betaHead = beta.status().headSeq();
    String betaLog = beta.status().logId();
    NodeProcess alphaNode = c.node("alpha");
    assertEquals(0, alphaNode.terminate(), "exit code after SIGTERM; log " + alphaNode.logFile());
    Path file = alphaNode.spec.dataDir.resolve(".watermarks").resolve("beta.json");
    assertTrue(Files.isRegularFile(file), "watermark file " + file + " exists after a graceful stop");
    JsonNode wm = NodeClient.JSON.readTree(file.toFile());
    assertEquals("beta", wm.path("peerId").asText(), "watermark file " + file + ": " + wm);
    assertEquals(betaLog, wm.path("peerLogId").asText(), "watermark file " + file + ": " + wm);
    assertEquals(betaHead, wm.path("seq").asLong(), "watermark file " + file + " holds beta's head seq: " + wm);
  }

  /**
   * A torn or corrupt watermark file is reported and treated as "from 0" (applying is idempotent):
   * the node starts, re-receives the peer's log as duplicates, and applies nothing twice. A data
   * dir started under another id is refused.
   */
  @Test
  void corruptWatermarkFileMeansResyncFromZeroAndAnotherIdIsRefused() throws Exception {
    Cluster c = cleanup.newCluster("watermark", false);
    c.add("alpha", s -> {
      s.limits.put("maxValueBytes", "1KiB");
    });
    c.add("beta");
    c.connect("alpha", "beta").startAll();
    NodeClient alpha = c.node("alpha").http();
    Data.bulk(c.node("beta").http(), Data.keys("beta/", 200, "b"), new AckedWrites());
    c.awaitConverged();
    c.awaitWatermarkAtHead("alpha", "beta");

    // Limits: a value or key over its limit is refused with 413 naming the limit.
    NodeClient.Response big = alpha.send("PUT", "/kv/too-big", "x".repeat(2048));
    assertEquals(413, big.status(), big.body());
    assertTrue(big.body().contains("maxValueBytes"), "names the limit: " + big.body());
    NodeClient.Response longKey = alpha.send("PUT", "/kv/" + "k".repeat(2000), "v");
    assertEquals(413, longKey.status(), longKey.body());
    assertTrue(longKey.body().contains("maxKeyBytes"), "names the limit: " + longKey.body());

    NodeProcess alphaNode = c.node("alpha");
    assertEquals(0, alphaNode.terminate());
    Path file = alphaNode.spec.dataDir.resolve(".watermarks").resolve("beta.json");
    Files.writeString(file, "{\"peerId\": \"beta\", \"peerLogId\": \"");
    alphaNode.start();
    c.awaitConverged();
    c.awaitWatermarkAtHead("alpha", "beta");
    long betaEntries = c.node("beta").http().status().headSeq();
    Status.Peer p = alpha.status().peer("beta");
    assertEquals(0, p.entriesApplied(), "nothing is new after a resync from 0: " + p);
    if (p.reconnects() == 0) {
      assertEquals(betaEntries, p.duplicates(), "beta's whole log came again, as duplicates: " + p);
    } else {
      assertTrue(p.duplicates() >= betaEntries, "beta's whole log came again, as duplicates: " + p);
    }
    assertTrue(alphaNode.log().lines().anyMatch(l -> l.contains(file.getFileName().toString()) && l.contains("WARN")),
        "the corrupt watermark file is reported (a WARN line naming it); log " + alphaNode.logFile());

    assertEquals(0, alphaNode.terminate());
    Path dir = cleanup.newDir("other-id");
    Run run =
        runToCompletion(
            dir,
            List.of("run", "--id", "gamma", "--data-dir", alphaNode.spec.dataDir.toString(), "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"),
            Map.of(),
            60);
    assertTrue(run.exit() != 0, "starting alpha's data dir as gamma must fail; stdout " + run.stdout());
    assertTrue(run.stderr().contains("alpha") && run.stderr().contains("gamma"), "the error names both ids: " + run.stderr());
  }

  @Test
  void demoRunsToCompletionShowingWinnerAndEqualDigests() throws Exception {
    Path dir = cleanup.newDir("demo");
    Run run = runToCompletion(dir, List.of("demo"), Map.of(), 180);
    String output = run.stdout() + run.stderr();
    assertEquals(0, run.exit(), "demo exit code; output in " + dir + ":\n" + output);
    // Phrases as node/src/main/java/dev/edgesync/node/demo/Demo.java prints them.
    assertTrue(output.contains("digests equal"), "demo output shows equal digests:\n" + output);
    assertTrue(Pattern.compile("winner: \".*\" from site-").matcher(output).find(), "demo output shows the conflict winner:\n" + output);
  }
}
