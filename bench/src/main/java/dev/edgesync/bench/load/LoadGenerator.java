package dev.edgesync.bench.load;

import static dev.edgesync.bench.load.Percentiles.round;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * Runs one end-to-end scenario against real node processes and reports one JSON object.
 *
 * <p>Lifecycle: {@link #run()} creates a {@link Workspace} (temporary data dirs, a private copy of
 * the node jar), runs the scenario, stops every node (reading its memory peaks first), copies node
 * logs and GC logs to {@code --out}, writes {@code <out>/<name>.json} (and, for live, {@code
 * <name>-lag.svg}) and deletes the workspace, also when the scenario fails.
 *
 * <p>This class owns the run and its JSON result (the header with the machine, the baseline, the
 * file at the end); {@link CatchupScenario}, {@link LiveScenario} and {@link MeshScenario} are the
 * scenarios, and {@link BenchCluster} the node processes they use.
 */
public final class LoadGenerator {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final java.util.regex.Pattern WHITESPACE = java.util.regex.Pattern.compile("\\s+");

  private final Options options;
  private final PrintStream out;
  private final PrintStream err;
  private final ProgressLog log;
  private final Workload workload;
  private final ObjectNode result = JSON.createObjectNode();
  private final String name;
  private Workspace workspace;
  private BenchCluster cluster;

  public LoadGenerator(Options options, PrintStream out, PrintStream err) {
    this.options = options;
    this.out = out;
    this.err = err;
    this.log = new ProgressLog(err);
    this.workload = new Workload(options.valueBytes());
    String rate = options.scenario().equals("live") ? "-" + (options.maxRate() ? "max" : options.rate()) : "";
    this.name =
        options.scenario() + rate + "-" + options.durability() + "-"
            + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
  }

  /** Runs the scenario; returns the exit code. */
  public int run() {
    Instant started = Instant.now();
    header(started);
    int code = 0;
    try (Workspace ws = new Workspace(options.workDir(), options.keep())) {
      workspace = ws;
      cluster = new BenchCluster(options, ws, log);
      try {
        switch (options.scenario()) {
          case "baseline" -> baselineScenario();
          case "catchup" -> new CatchupScenario(options, workload, cluster, result, log).run(optionalBaseline());
          case "live" -> {
            optionalBaseline();
            new LiveScenario(options, workload, cluster, result, log, name).run();
          }
          case "mesh" -> new MeshScenario(options, workload, cluster, result, log).run(optionalBaseline());
          case "churn" -> new ChurnScenario(options, workload, cluster, result, log).run();
          default -> throw new IllegalStateException("unknown scenario " + options.scenario());
        }
      } catch (Exception e) {
        code = 1;
        result.put("error", String.valueOf(e.getMessage() == null ? e : e.getMessage()));
        log.line("FAILED: " + e);
        if (!(e instanceof IOException || e instanceof IllegalStateException)) {
          e.printStackTrace(err);
        }
        for (NodeProcess n : cluster.nodes()) {
          log.line("---- last lines of node " + n.id + " (" + n.logFile() + "):\n" + n.tail(15));
        }
      } finally {
        cluster.stopAll(result, name);
      }
    } catch (RuntimeException e) {
      code = 1;
      result.put("error", String.valueOf(e.getMessage()));
      log.line("FAILED: " + e);
    }
    finish(started);
    return code;
  }

  // ------------------------------------------------------------------ baseline

  private void baselineScenario() {
    Baseline.Result b = baseline();
    result.put("entriesPerSecond", round(b.entriesPerSecond()));
    result.put("achievedRate", round(b.entriesPerSecond()));
    result.put("ratioToBaseline", 1.0);
  }

  /** The raw LevelDB baseline when {@code --baseline} asks for it, else null. */
  private Baseline.Result optionalBaseline() {
    return options.baseline() ? baseline() : null;
  }

  private Baseline.Result baseline() {
    log.line(String.format(Locale.ROOT, "baseline: %,d entries into raw iq80 LevelDB, batches of %d, sync %s",
        options.entries(), Baseline.BATCH, options.fsync()));
    Path dir = workspace.dir("baseline-db");
    Baseline.Result b = Baseline.run(dir, options.entries(), workload, options.fsync());
    Workspace.deleteTree(dir);
    log.line(String.format(Locale.ROOT, "baseline: %,.0f entries/s (%.2f s)", b.entriesPerSecond(), b.seconds()));
    result.put("baselineEntriesPerSecond", round(b.entriesPerSecond()));
    ObjectNode j = result.putObject("baseline");
    j.put("entries", b.entries());
    j.put("seconds", round(b.seconds()));
    j.put("entriesPerSecond", round(b.entriesPerSecond()));
    j.put("batchEntries", b.batch());
    j.put("syncEveryBatch", b.sync());
    j.put("loadAverageAfter", loadAverage());
    return b;
  }

  // ------------------------------------------------------------------ output

  private void header(Instant started) {
    result.put("scenario", options.scenario());
    result.put("entries", options.entries());
    result.put("keyBytes", Workload.KEY_BYTES);
    result.put("valueBytes", options.valueBytes());
    result.put("durability", options.durability());
    if (options.scenario().equals("mesh")) {
      result.put("nodeCount", options.nodes());
    }
    for (String f : List.of("entriesPerSecond", "baselineEntriesPerSecond", "ratioToBaseline", "achievedRate",
        "lagP50Millis", "lagP99Millis", "lagP999Millis", "lagMaxMillis", "peakHeapBytes", "peakRssBytes")) {
      result.putNull(f);
    }
    result.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    result.put("cores", Runtime.getRuntime().availableProcessors());
    result.put("nodeHeap", options.nodeHeap());
    result.put("nodeJvmOptions", options.nodeJvmOptions());
    ObjectNode m = result.putObject("machine");
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
    m.put("memTotalBytes", memTotal());
    m.put("loadAverageAtStart", loadAverage());
    result.put("startedAt", started.toString());
    log.line(String.format(Locale.ROOT, "%s: %d cores, load average %.2f, %s", options.scenario(),
        Runtime.getRuntime().availableProcessors(), loadAverage(), result.path("jvm").asText()));
  }

  private void finish(Instant started) {
    Instant finished = Instant.now();
    result.put("finishedAt", finished.toString());
    result.put("runSeconds", round(Duration.between(started, finished).toNanos() / 1e9));
    ((ObjectNode) result.get("machine")).put("loadAverageAtEnd", loadAverage());
    String text;
    try {
      text = JSON.writeValueAsString(result);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path file = options.out().resolve(name + ".json");
    try {
      Files.createDirectories(options.out());
      Files.writeString(file, text + "\n", StandardCharsets.UTF_8);
      log.line("result: " + file);
    } catch (IOException e) {
      log.line("cannot write " + file + ": " + e);
    }
    if (options.json()) {
      out.println(text);
    }
  }

  /** The 1-minute load average from {@code /proc/loadavg}, or -1. */
  static double loadAverage() {
    try {
      String s = Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII);
      return Double.parseDouble(WHITESPACE.split(s.trim(), -1)[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long memTotal() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
