package dev.edgesync.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast checks of the load generator's own parts: argument parsing, the bulk bodies it sends, the
 * percentile and chart code, and the JSON of a tiny in-process baseline run. No node process is
 * started and no benchmark runs here: benchmarks are not part of {@code ./mvnw verify}.
 */
class LoadGeneratorSmokeTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void parsesEveryOption() {
    Options o =
        Options.parse("live", "--entries", "5000", "--value-bytes=200", "--durability", "buffered", "--nodes", "4",
            "--rate", "max", "--duration", "90s", "--step-duration", "500ms", "--poll-interval", "2ms", "--json",
            "--out", "x", "--node-jar", "n.jar", "--node-heap", "512m", "--jfr", "--two-way", "--baseline");
    assertEquals("live", o.scenario());
    assertEquals(5000, o.entries());
    assertEquals(200, o.valueBytes());
    assertFalse(o.fsync());
    assertEquals(4, o.nodes());
    assertTrue(o.maxRate());
    assertEquals(Duration.ofSeconds(90), o.duration());
    assertEquals(Duration.ofMillis(500), o.stepDuration());
    assertEquals(Duration.ofMillis(2), o.pollInterval());
    assertTrue(o.json() && o.jfr() && o.twoWay() && o.baseline());
    assertEquals(Path.of("n.jar"), o.nodeJar());
    assertEquals("512m", o.nodeHeap());
  }

  @Test
  void defaultsFollowTheScenario() {
    Options live = Options.parse("live");
    assertEquals(10_000, live.rate());
    assertFalse(live.baseline());
    assertTrue(live.fsync());
    assertEquals(Duration.ofSeconds(60), live.duration());
    Options mesh = Options.parse("mesh");
    assertTrue(mesh.maxRate());
    assertTrue(mesh.baseline());
    assertEquals(3, mesh.nodes());
    assertEquals(1_000_000, Options.parse("catchup").entries());
  }

  @Test
  void refusesBadArgumentsWithTheirName() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Options.parse("nope")).getMessage().contains("nope"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Options.parse("live", "--rate", "fast"))
        .getMessage().contains("--rate"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Options.parse("live", "--durability", "async"))
        .getMessage().contains("--durability"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Options.parse("live", "--duration"))
        .getMessage().contains("needs a value"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Options.parse("live", "--bogus", "1"))
        .getMessage().contains("--bogus"));
  }

  @Test
  void bulkBodiesAreValidJsonWithSixteenByteKeys() throws Exception {
    Workload w = new Workload(100);
    JsonNode body = JSON.readTree(w.bulkBody("k", 998, 1003));
    assertEquals(5, body.path("entries").size());
    for (JsonNode e : body.path("entries")) {
      assertEquals(Workload.KEY_BYTES, e.path("key").asText().length());
      assertEquals(100, e.path("value").asText().length());
    }
    assertEquals("k000000000000998", body.path("entries").get(0).path("key").asText());
    assertTrue(w.bulkMaxEntries() <= 10_000);
    assertEquals(3, new Workload(3).value(123456).length);
  }

  @Test
  void percentilesAndChart() throws Exception {
    int[] lags = new int[1000];
    for (int i = 0; i < lags.length; i++) {
      lags[i] = (i + 1) * 1000; // 1..1000 ms
    }
    Percentiles p = new Percentiles(lags, lags.length);
    assertEquals(500.0, p.millis(0.5));
    assertEquals(990.0, p.millis(0.99));
    assertEquals(1000.0, p.maxMillis());
    List<LagChart.Bucket> buckets = LagChart.buckets(lags, lags.length, 100, 1.0);
    assertEquals(10, buckets.size());
    String svg = LagChart.svg("t <&>", "s", buckets, new double[] {20, 200});
    DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new java.io.ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void tinyBaselineRunPrintsOneJsonObjectWithEveryRequiredField(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Options o =
        Options.parse("baseline", "--entries", "3000", "--durability", "buffered", "--json", "--out",
            dir.resolve("out").toString(), "--work-dir", dir.resolve("work").toString());
    int code = new LoadGenerator(o, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8)).run();
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    JsonNode j = JSON.readTree(out.toByteArray());
    for (String field : List.of("scenario", "entries", "valueBytes", "durability", "entriesPerSecond",
        "baselineEntriesPerSecond", "ratioToBaseline", "achievedRate", "lagP50Millis", "lagP99Millis", "lagMaxMillis",
        "peakHeapBytes", "peakRssBytes", "jvm", "cores")) {
      assertTrue(j.has(field), "missing " + field + " in " + j);
    }
    assertEquals("baseline", j.path("scenario").asText());
    assertEquals(3000, j.path("entries").asLong());
    assertTrue(j.path("entriesPerSecond").asDouble() > 0);
    try (var files = Files.list(dir.resolve("out"))) {
      assertEquals(1, files.filter(f -> f.toString().endsWith(".json")).count());
    }
    try (var left = Files.list(dir.resolve("work"))) {
      assertEquals(0, left.count(), "the work directory is cleaned up");
    }
  }
}
