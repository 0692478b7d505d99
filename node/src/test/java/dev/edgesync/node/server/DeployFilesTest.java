package dev.edgesync.node.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard and the Prometheus alerts in {@code deploy/} against two running nodes: the
 * files parse, and every metric they name is one the nodes serve at {@code /metrics} (or, for a
 * counter that appears with its first event, one the README's metrics table documents).
 */
class DeployFilesTest {
  private static final Path DEPLOY = Path.of("..", "deploy");
  private static final Pattern METRIC = Pattern.compile("\\bedgesync_[a-z0-9_]+");
  /** Counters made at their first event: a healthy pair has none of them yet. */
  private static final Set<String> ON_FIRST_EVENT = Set.of("edgesync_replication_errors_total", "edgesync_http_refused_total");

  @TempDir Path dir;

  /** The metric names {@code server} serves now (histogram series as their _bucket/_count/_sum). */
  private static Set<String> served(NodeServer server) throws Exception {
    String text =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Set<String> names = new TreeSet<>();
    for (String line : text.lines().toList()) {
      if (!line.startsWith("#") && !line.isBlank()) {
        names.add(line.split("[{ ]", 2)[0]);
      }
    }
    return names;
  }

  private static Set<String> metricsIn(List<String> expressions) {
    Set<String> names = new TreeSet<>();
    for (String e : expressions) {
      Matcher m = METRIC.matcher(e);
      while (m.find()) {
        names.add(m.group());
      }
    }
    return names;
  }

  private static void assertBalanced(String expr, String where) {
    int round = 0;
    int curly = 0;
    int square = 0;
    for (char ch : expr.toCharArray()) {
      round += ch == '(' ? 1 : ch == ')' ? -1 : 0;
      curly += ch == '{' ? 1 : ch == '}' ? -1 : 0;
      square += ch == '[' ? 1 : ch == ']' ? -1 : 0;
      assertTrue(round >= 0 && curly >= 0 && square >= 0, where + ": a bracket closes before it opens in " + expr);
    }
    assertEquals(0, round + curly + square, where + ": unbalanced brackets in " + expr);
  }

  @Test
  void theDashboardAndTheAlertsNameOnlyMetricsThatNodesServe() throws Exception {
    Set<String> served;
    try (NodePair pair = new NodePair(dir, "")) {
      pair.a.node().put("k", "v");
      await().atMost(Duration.ofSeconds(30)).until(() -> pair.b.node().get("k").isPresent());
      served = served(pair.a);
    }

    // The dashboard: Grafana's JSON model, every panel with a query.
    JsonNode dash = new ObjectMapper().readTree(Files.readString(DEPLOY.resolve("grafana/edgesync.json")));
    assertEquals("edgesync", dash.path("uid").asText());
    assertTrue(dash.path("schemaVersion").asInt() >= 36, "schemaVersion");
    List<String> panelExprs = new ArrayList<>();
    Set<Integer> ids = new TreeSet<>();
    for (JsonNode panel : dash.path("panels")) {
      assertTrue(ids.add(panel.path("id").asInt()), "panel ids are unique: " + panel.path("id"));
      assertFalse(panel.path("targets").isEmpty(), "panel '" + panel.path("title").asText() + "' has a query");
      for (JsonNode t : panel.path("targets")) {
        String expr = t.path("expr").asText();
        assertBalanced(expr, "panel '" + panel.path("title").asText() + "'");
        panelExprs.add(expr);
      }
    }
    assertTrue(panelExprs.size() >= 10, "the dashboard covers lag, throughput, errors, conflicts, latency, collection");

    // The alerts: Prometheus rule groups.
    JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(DEPLOY.resolve("prometheus/alerts.yml")));
    List<String> alertExprs = new ArrayList<>();
    Set<String> alerts = new TreeSet<>();
    for (JsonNode group : rules.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        String name = rule.path("alert").asText();
        assertTrue(alerts.add(name), "alert names are unique: " + name);
        assertFalse(rule.path("labels").path("severity").asText().isEmpty(), name + " has a severity");
        assertFalse(rule.path("annotations").path("summary").asText().isEmpty(), name + " has a summary");
        if (rule.has("for")) {
          assertTrue(rule.path("for").asText().matches("\\d+[smhd]"), name + ": 'for' is a Prometheus duration");
        }
        assertBalanced(rule.path("expr").asText(), name);
        alertExprs.add(rule.path("expr").asText());
      }
    }
    assertTrue(
        alerts.containsAll(
            Set.of(
                "EdgesyncPeerDisconnected", "EdgesyncReplicationLagHigh", "EdgesyncLinkStalled",
                "EdgesyncDigestDisagreement", "EdgesyncNodeFailed", "EdgesyncTombstoneHorizonStuck")),
        "the alerts the operators need: " + alerts);

    String readme = Files.readString(Path.of("..", "README.md"));
    List<String> all = new ArrayList<>(panelExprs);
    all.addAll(alertExprs);
    for (String name : metricsIn(all)) {
      if (ON_FIRST_EVENT.contains(name)) {
        assertTrue(readme.contains("`" + name + "`"), name + " appears with its first event and is documented in the README");
      } else {
        assertTrue(served.contains(name), name + " is served at /metrics; served: " + served);
      }
    }
  }

  /** {@code promtool check rules} accepts the alerts, where Prometheus' tools are installed. */
  @Test
  void theAlertRulesPassPromtool() throws Exception {
    Path tool = Path.of("/usr/bin/promtool");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(tool), "promtool is not installed here");
    Path rules = DEPLOY.resolve("prometheus/alerts.yml").toAbsolutePath().normalize();
    Process p = new ProcessBuilder(tool.toString(), "check", "rules", rules.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "promtool ended");
    assertEquals(0, p.exitValue(), "promtool check rules " + rules + ":\n" + out);
    assertTrue(out.contains("SUCCESS"), out);
  }

  /** {@code systemd-analyze verify} accepts the unit, where the machine has systemd's tools. */
  @Test
  void theSystemdUnitVerifies() throws Exception {
    Path tool = Path.of("/usr/bin/systemd-analyze");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(tool), "systemd-analyze is not installed here");
    Path unit = DEPLOY.resolve("systemd/edgesync.service").toAbsolutePath().normalize();
    Process p = new ProcessBuilder(tool.toString(), "verify", unit.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "systemd-analyze ended");
    assertEquals(0, p.exitValue(), "systemd-analyze verify " + unit + ":\n" + out);
    String text = Files.readString(unit);
    assertTrue(text.contains("KillSignal=SIGTERM") && text.contains("RestartPreventExitStatus=2"), "graceful stop, no restart loop on a config error");
  }

  /**
   * The Kubernetes example: a headless service whose SRV name the pods resolve for their peers,
   * and a StatefulSet whose environment, with the namespace and secrets filled in, is a node
   * configuration the program accepts; the image's Dockerfile copies the jar the build makes.
   */
  @Test
  void theKubernetesExampleIsAConfigurationTheNodeAccepts() throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    try (var parser = new YAMLFactory().createParser(DEPLOY.resolve("kubernetes/edgesync.yaml").toFile())) {
      new ObjectMapper().readValues(parser, JsonNode.class).forEachRemaining(docs::add);
    }
    JsonNode service = docs.stream().filter(d -> d.path("kind").asText().equals("Service")).findFirst().orElseThrow();
    JsonNode set = docs.stream().filter(d -> d.path("kind").asText().equals("StatefulSet")).findFirst().orElseThrow();
    String serviceName = service.path("metadata").path("name").asText();
    assertEquals("None", service.path("spec").path("clusterIP").asText(), "headless: one DNS record per pod");
    assertEquals(serviceName, set.path("spec").path("serviceName").asText());
    int grpcPort = -1;
    for (JsonNode port : service.path("spec").path("ports")) {
      if (port.path("name").asText().equals("grpc")) {
        grpcPort = port.path("port").asInt();
      }
    }
    assertTrue(grpcPort > 0, "the service names its gRPC port 'grpc', the SRV service name");

    JsonNode container = set.path("spec").path("template").path("spec").path("containers").get(0);
    java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asText();
      String value;
      if (e.has("value")) {
        value = e.path("value").asText().replace("$(POD_NAMESPACE)", "shops-prod");
      } else if (e.path("valueFrom").has("secretKeyRef")) {
        value = "a-token-of-the-secret-" + e.path("valueFrom").path("secretKeyRef").path("key").asText();
      } else {
        String field = e.path("valueFrom").path("fieldRef").path("fieldPath").asText();
        value = field.equals("metadata.name") ? set.path("metadata").path("name").asText() + "-0" : "shops-prod";
      }
      env.put(name, value);
    }
    env.put("EDGESYNC_DATA_DIR", dir.resolve("data").toString());
    dev.edgesync.node.config.NodeConfig config =
        dev.edgesync.node.config.ConfigLoader.load(dev.edgesync.node.config.ConfigOverrides.none(), env);
    assertEquals("edgesync-0", config.id(), "the node id is the pod name, the first label of its SRV target");
    assertEquals("_grpc._tcp." + serviceName + ".shops-prod.svc.cluster.local", config.discovery().dnsSrv());
    assertEquals(grpcPort, config.listen().port());
    assertTrue(config.security().token() != null && config.security().httpToken() != null, "both tokens from the secret");
    for (String probe : List.of("readinessProbe", "livenessProbe")) {
      assertEquals("/health", container.path(probe).path("httpGet").path("path").asText(), probe + " asks /health, which needs no token");
    }

    String dockerfile = Files.readString(DEPLOY.resolve("container/Dockerfile"));
    String jar = "node/target/edgesync.jar";
    assertTrue(dockerfile.contains("COPY " + jar + " "), "the image takes the jar the build makes");
    assertTrue(Files.readString(Path.of("pom.xml")).contains("<outputFile>${project.build.directory}/edgesync.jar</outputFile>"),
        "the build makes " + jar);
    assertTrue(dockerfile.contains("ENTRYPOINT [\"java\", \"-Xmx256m\", \"-jar\", \"/opt/edgesync/edgesync.jar\", \"run\"]"));
  }
}
