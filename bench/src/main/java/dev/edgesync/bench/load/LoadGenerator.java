package dev.edgesync.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one end-to-end scenario against real node processes and reports one JSON object.
 *
 * <p>Lifecycle: {@link #run()} creates a {@link Workspace} (temporary data dirs, a private copy of
 * the node jar), runs the scenario, stops every node (reading its memory peaks first), copies node
 * logs and GC logs to {@code --out}, writes {@code <out>/<name>.json} (and, for live, {@code
 * <name>-lag.svg}) and deletes the workspace, also when the scenario fails.
 */
public final class LoadGenerator {
  static final String CLUSTER = "bench";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final java.util.regex.Pattern WHITESPACE = java.util.regex.Pattern.compile("\\s+");

  private final Options options;
  private final PrintStream out;
  private final PrintStream err;
  private final Workload workload;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final ObjectNode result = JSON.createObjectNode();
  private final String name;
  private Workspace workspace;
  private Path jar;
  private ScheduledExecutorService monitor;

  public LoadGenerator(Options options, PrintStream out, PrintStream err) {
    this.options = options;
    this.out = out;
    this.err = err;
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
      try {
        switch (options.scenario()) {
          case "baseline" -> baselineScenario();
          case "catchup" -> catchup();
          case "live" -> live();
          case "mesh" -> mesh();
          default -> throw new IllegalStateException("unknown scenario " + options.scenario());
        }
      } catch (Exception e) {
        code = 1;
        result.put("error", String.valueOf(e.getMessage() == null ? e : e.getMessage()));
        log("FAILED: " + e);
        if (!(e instanceof IOException || e instanceof IllegalStateException)) {
          e.printStackTrace(err);
        }
        for (NodeProcess n : nodes) {
          log("---- last lines of node " + n.id + " (" + n.logFile() + "):\n" + n.tail(15));
        }
      } finally {
        stopAll();
      }
    } catch (RuntimeException e) {
      code = 1;
      result.put("error", String.valueOf(e.getMessage()));
      log("FAILED: " + e);
    }
    finish(started);
    return code;
  }

  // ------------------------------------------------------------------ scenarios

  private void baselineScenario() {
    Baseline.Result b = baseline();
    result.put("entriesPerSecond", round(b.entriesPerSecond()));
    result.put("achievedRate", round(b.entriesPerSecond()));
    result.put("ratioToBaseline", 1.0);
  }

  private Baseline.Result baseline() {
    log(String.format(Locale.ROOT, "baseline: %,d entries into raw iq80 LevelDB, batches of %d, sync %s",
        options.entries(), Baseline.BATCH, options.fsync()));
    Path dir = workspace.dir("baseline-db");
    Baseline.Result b = Baseline.run(dir, options.entries(), workload, options.fsync());
    Workspace.deleteTree(dir);
    log(String.format(Locale.ROOT, "baseline: %,.0f entries/s (%.2f s)", b.entriesPerSecond(), b.seconds()));
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

  private void catchup() throws Exception {
    Baseline.Result base = options.baseline() ? baseline() : null;
    NodeSpecBuilder aSpec = spec("a");
    log(String.format(Locale.ROOT, "catchup: preloading %,d entries into A's data dir (in process, buffered, not timed)",
        options.entries()));
    Preload.Result pre = Preload.run("a", CLUSTER, aSpec.dataDir, options.entries(), workload);
    log(String.format(Locale.ROOT, "catchup: preloaded in %.1f s, head seq %,d, digest %s", pre.seconds(), pre.headSeq(), pre.digest()));
    result.putObject("preload").put("seconds", round(pre.seconds())).put("headSeq", pre.headSeq());
    NodeProcess a = startNode(aSpec, List.of());
    a.awaitHealthy(Duration.ofMinutes(2));
    JsonNode aStatus = a.status();
    String digest = aStatus.path("digest").asText();
    if (!digest.equals(pre.digest())) {
      throw new IllegalStateException("A's digest after restart " + digest + " differs from the preload's " + pre.digest());
    }
    startMonitor();
    log("catchup: starting B empty, subscribed to A; timing from B's subscription to equal digests");
    Instant bLaunched = Instant.now();
    NodeProcess b = startNode(spec("b"), List.of(a));
    CpuSnapshot cpuBefore = CpuSnapshot.take(nodes);
    long deadline = System.nanoTime() + options.timeout().toNanos();
    Instant converged = null;
    JsonNode bStatus = null;
    long lastLog = System.nanoTime();
    try (HttpConnection c = new HttpConnection(b.http, 30_000)) {
      while (System.nanoTime() < deadline) {
        if (!b.isAlive()) {
          throw new IllegalStateException("B exited during the catch-up; log " + b.logFile() + ":\n" + b.tail(30));
        }
        try {
          bStatus = NodeProcess.json(c.get("/status"), "B /status");
          if (digest.equals(bStatus.path("digest").asText())) {
            converged = Instant.now();
            break;
          }
          if (System.nanoTime() - lastLog > 5_000_000_000L) {
            lastLog = System.nanoTime();
            log(String.format(Locale.ROOT, "catchup: B at head seq %,d of %,d", bStatus.path("headSeq").asLong(), options.entries()));
          }
        } catch (IOException e) {
          // B's HTTP API is not up yet.
        }
        Thread.sleep(20);
      }
    }
    if (converged == null) {
      throw new IllegalStateException("B did not reach A's digest within " + options.timeout());
    }
    CpuSnapshot.describe(result.putObject("cpu").put("interval", "B's launch to convergence"), cpuBefore,
        CpuSnapshot.take(nodes), 6);
    Instant subscribed = b.subscribedAt("a");
    String from = "B's log line 'peer a: connected' (Welcome received, ms resolution)";
    if (subscribed == null) {
      subscribed = bLaunched;
      from = "B's process launch (the subscription log line was not found)";
    }
    double seconds = Duration.between(subscribed, converged).toNanos() / 1e9;
    double rate = options.entries() / seconds;
    JsonNode peer = NodeProcess.peer(bStatus, "a");
    log(String.format(Locale.ROOT, "catchup: B converged in %.2f s after subscribing (%.2f s after launch): %,.0f entries/s",
        seconds, Duration.between(bLaunched, converged).toNanos() / 1e9, rate));
    result.put("entriesPerSecond", round(rate));
    result.put("achievedRate", round(rate));
    result.put("catchupSeconds", round(seconds));
    result.put("secondsFromLaunch", round(Duration.between(bLaunched, converged).toNanos() / 1e9));
    result.put("timedFrom", from);
    result.put("timedTo", "first B /status (polled every 20 ms) whose digest equals A's");
    result.put("digest", digest);
    result.put("bHeadSeq", bStatus.path("headSeq").asLong());
    result.put("bEntriesApplied", peer == null ? -1 : peer.path("entriesApplied").asLong());
    if (base != null) {
      result.put("ratioToBaseline", round(rate / base.entriesPerSecond()));
    }
    result.put("bWithinHeap", b.isAlive() && !b.ranOutOfMemory());
  }

  private void live() throws Exception {
    if (options.baseline()) {
      baseline();
    }
    NodeSpecBuilder aSpec = spec("a");
    NodeSpecBuilder bSpec = spec("b");
    NodeProcess a = startNode(aSpec, options.twoWay() ? List.of(bSpec) : List.of());
    NodeProcess b = startNode(bSpec, List.of(aSpec));
    a.awaitHealthy(Duration.ofMinutes(2));
    b.awaitHealthy(Duration.ofMinutes(2));
    awaitConnected(b, "a");
    if (options.twoWay()) {
      awaitConnected(a, "b");
    }
    startMonitor();
    result.put("twoWay", options.twoWay());
    result.put("pollIntervalMillis", options.pollInterval().toNanos() / 1e6);
    result.put("connections", options.connections());
    long index = 0;
    if (!options.warmup().isZero()) {
      long rate = options.maxRate() ? options.rateStart() : options.rate();
      log(String.format(Locale.ROOT, "live: warm-up, %,d writes/s for %d s (not measured)", rate, options.warmup().toSeconds()));
      LivePhase.Result w = phase(a, b, rate, options.warmup(), index, options.timeout());
      index += w.committed;
      awaitCaughtUp(a, b);
      result.put("warmup", String.format(Locale.ROOT, "%,d writes/s for %d s before measuring (fresh node JVMs compile"
          + " their hot paths); its lag p99 was %.1f ms and is not counted", rate, options.warmup().toSeconds(), w.lagMillis(0.99)));
    }
    LivePhase.Result main;
    if (!options.maxRate()) {
      log(String.format(Locale.ROOT, "live: %,d writes/s on A for %d s, %s", options.rate(), options.duration().toSeconds(), options.durability()));
      main = phase(a, b, options.rate(), options.duration(), index, options.timeout());
      index += main.committed;
      judge(main);
      result.put("targetRate", options.rate());
    } else {
      ArrayNode steps = result.putArray("steps");
      LivePhase.Result bestStep = null;
      long best = 0;
      long firstFail = 0;
      long rate = options.rateStart();
      while (rate <= 5_000_000) {
        LivePhase.Result step = phase(a, b, rate, options.stepDuration(), index, stepCoverWait());
        index += step.committed;
        judge(step);
        steps.add(stepJson(step, "step"));
        awaitCaughtUp(a, b);
        if (step.keptUp) {
          best = rate;
          bestStep = step;
          rate = roundRate(rate * 3 / 2);
        } else {
          firstFail = rate;
          break;
        }
      }
      if (best == 0) {
        // Not even the first step: walk down until one is kept up (or give up at 1,000/s).
        for (rate = roundRate(firstFail / 2); rate >= 1000 && best == 0; rate = roundRate(rate / 2)) {
          LivePhase.Result step = phase(a, b, rate, options.stepDuration(), index, stepCoverWait());
          index += step.committed;
          judge(step);
          steps.add(stepJson(step, "step-down"));
          awaitCaughtUp(a, b);
          if (step.keptUp) {
            best = rate;
            bestStep = step;
          } else {
            firstFail = rate;
          }
        }
      }
      for (int bisect = 0; bisect < 2 && best > 0 && firstFail > best; bisect++) {
        long mid = roundRate((best + firstFail) / 2);
        if (mid <= best || mid >= firstFail || mid - best < best / 20) {
          break;
        }
        LivePhase.Result step = phase(a, b, mid, options.stepDuration(), index, stepCoverWait());
        index += step.committed;
        judge(step);
        steps.add(stepJson(step, "bisect"));
        awaitCaughtUp(a, b);
        if (step.keptUp) {
          best = mid;
          bestStep = step;
        } else {
          firstFail = mid;
        }
      }
      result.put("maxRateSearch", String.format(Locale.ROOT,
          "steps of %d s from %,d/s, x1.5 until one is not kept up, then two bisections; kept up = achieved >= 95%% of"
              + " the rate, every entry on B within the step + %d s, lag p99 <= %d ms, max <= %d ms",
          options.stepDuration().toSeconds(), options.rateStart(), stepCoverWait().toSeconds(),
          options.keepUpP99().toMillis(), options.keepUpMax().toMillis()));
      result.put("maxKeptUpStepRate", best);
      result.put("firstNotKeptUpRate", firstFail == 0 ? null : firstFail);
      if (best == 0) {
        throw new IllegalStateException("B did not keep up even at 1,000 writes/s");
      }
      if (options.confirm()) {
        log(String.format(Locale.ROOT, "live: confirming %,d writes/s for %d s", best, options.duration().toSeconds()));
        main = phase(a, b, best, options.duration(), index, stepCoverWait());
        judge(main);
        steps.add(stepJson(main, "confirm"));
        if (!main.keptUp) {
          long lower = roundRate(best * 9 / 10);
          log(String.format(Locale.ROOT, "live: not kept up for the whole run; confirming %,d writes/s", lower));
          awaitCaughtUp(a, b);
          index += main.committed;
          main = phase(a, b, lower, options.duration(), index, stepCoverWait());
          judge(main);
          steps.add(stepJson(main, "confirm"));
        }
      } else {
        main = bestStep;
      }
      result.put("targetRate", main.rate);
      result.put("maxSustainedRate", main.keptUp ? main.rate : null);
    }
    putLag(main);
    writeChart(main);
  }

  private Duration stepCoverWait() {
    return options.keepUpMax().plusSeconds(5);
  }

  private static long roundRate(long rate) {
    return rate < 10_000 ? Math.max(1000, rate / 500 * 500) : rate / 1000 * 1000;
  }

  private LivePhase.Result phase(NodeProcess a, NodeProcess b, long rate, Duration duration, long index, Duration coverWait)
      throws IOException, InterruptedException {
    double load = loadAverage();
    log(String.format(Locale.ROOT, "live: %,d writes/s for %d s (load average %.2f)", rate, duration.toSeconds(), load));
    CpuSnapshot before = CpuSnapshot.take(nodes);
    LivePhase.Result r =
        LivePhase.run(a, b, "a", workload, rate, duration.toNanos(), index, options.pollInterval().toNanos(), coverWait.toNanos(),
            options.connections());
    r.cpu = JSON.createObjectNode().put("interval", "the phase: writes and B covering them");
    CpuSnapshot.describe(r.cpu, before, CpuSnapshot.take(nodes), 6);
    r.verdict = null;
    log(String.format(Locale.ROOT,
        "live: %,d writes/s -> achieved %,.0f/s; lag p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms; write p99 %.1f ms;"
            + " poll gap p50 %.2f ms p99 %.2f ms%s",
        rate, r.achievedRate, r.lagMillis(0.5), r.lagMillis(0.99), r.lagMillis(0.999), r.lag.maxMillis(),
        r.write.millis(0.99), r.pollGap.millis(0.5), r.pollGap.millis(0.99),
        r.uncovered > 0 ? String.format(Locale.ROOT, "; %,d entries not on B in time", r.uncovered) : ""));
    if (r.error != null) {
      log("live: " + r.error);
    }
    return r;
  }

  private void judge(LivePhase.Result r) {
    List<String> why = new ArrayList<>();
    if (r.error != null) {
      why.add(r.error);
    }
    if (r.achievedRate < 0.95 * r.rate) {
      why.add(String.format(Locale.ROOT, "achieved %.0f/s < 95%% of %d/s", r.achievedRate, r.rate));
    }
    if (r.uncovered > 0) {
      why.add(r.uncovered + " entries not on B in time");
    }
    if (r.lagMillis(0.99) > options.keepUpP99().toMillis()) {
      why.add(String.format(Locale.ROOT, "lag p99 %.0f ms > %d ms", r.lagMillis(0.99), options.keepUpP99().toMillis()));
    }
    if (r.lag.maxMillis() > options.keepUpMax().toMillis()) {
      why.add(String.format(Locale.ROOT, "lag max %.0f ms > %d ms", r.lag.maxMillis(), options.keepUpMax().toMillis()));
    }
    r.keptUp = why.isEmpty();
    r.verdict = r.keptUp ? "kept up" : String.join("; ", why);
  }

  private ObjectNode stepJson(LivePhase.Result r, String kind) {
    ObjectNode s = JSON.createObjectNode();
    s.put("kind", kind);
    s.put("rate", r.rate);
    s.put("seconds", round(r.seconds));
    s.put("entries", r.committed);
    s.put("achievedRate", round(r.achievedRate));
    s.put("lagP50Millis", round(r.lagMillis(0.5)));
    s.put("lagP99Millis", round(r.lagMillis(0.99)));
    s.put("lagP999Millis", round(r.lagMillis(0.999)));
    s.put("lagMaxMillis", round(r.lag.maxMillis()));
    s.put("writeP99Millis", round(r.write.millis(0.99)));
    s.put("keptUp", r.keptUp);
    s.put("verdict", r.verdict);
    s.put("loadAverageAfter", loadAverage());
    s.set("cpu", r.cpu);
    return s;
  }

  private void putLag(LivePhase.Result r) {
    result.put("entries", r.committed);
    result.put("durationSeconds", round(r.seconds));
    result.put("entriesPerSecond", round(r.achievedRate));
    result.put("achievedRate", round(r.achievedRate));
    result.put("lagP50Millis", round(r.lagMillis(0.5)));
    result.put("lagP90Millis", round(r.lagMillis(0.9)));
    result.put("lagP99Millis", round(r.lagMillis(0.99)));
    result.put("lagP999Millis", round(r.lagMillis(0.999)));
    result.put("lagMaxMillis", round(r.lag.maxMillis()));
    result.put("lagMeanMillis", round(r.lag.meanMillis()));
    result.put("entriesNotOnBInTime", r.uncovered);
    ObjectNode w = result.putObject("writeLatencyOnA");
    w.put("what", "scheduled send time -> bulk answer from A (commit on A, includes waiting in the generator)");
    w.put("p50Millis", round(r.write.millis(0.5)));
    w.put("p99Millis", round(r.write.millis(0.99)));
    w.put("maxMillis", round(r.write.maxMillis()));
    w.put("requests", r.requests);
    w.put("requestsWithoutConsecutiveSeqs", r.inexactRequests);
    ObjectNode p = result.putObject("lagResolution");
    p.put("what", "lag is measured up to the arrival of the first B status answer showing the entry: it over-states"
        + " the true lag by at most one poll gap plus one status round trip");
    p.put("polls", r.polls);
    p.put("pollGapP50Millis", round(r.pollGap.millis(0.5)));
    p.put("pollGapP99Millis", round(r.pollGap.millis(0.99)));
    p.put("pollGapMaxMillis", round(r.pollGap.maxMillis()));
    result.put("keptUp", r.keptUp);
    result.put("verdict", r.verdict);
    result.set("cpu", r.cpu);
    if (!options.maxRate()) {
      result.put("lagP99Target", "<= 20 ms");
      result.put("lagMaxTarget", "<= 200 ms");
    }
  }

  private void writeChart(LivePhase.Result r) {
    double bucket = Math.max(0.1, r.seconds / 600);
    List<LagChart.Bucket> buckets = LagChart.buckets(r.lagMicros, r.measured, r.rate, bucket);
    String title = String.format(Locale.ROOT, "edgesync live: lag on B of writes to A at %,d/s (%s)", r.rate, options.durability());
    // The load average at the end includes this run's own nodes: the chart shows it at the start,
    // and what other processes took during the run.
    String sub = String.format(Locale.ROOT,
        "p50 %.1f ms, p99 %.1f ms, max %.1f ms; %s buckets; %s; %d cores, load avg %.2f at start, other processes %.2f cores",
        r.lagMillis(0.5), r.lagMillis(0.99), r.lag.maxMillis(), trimSeconds(bucket),
        DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)),
        Runtime.getRuntime().availableProcessors(), result.path("machine").path("loadAverageAtStart").asDouble(),
        r.cpu == null ? Double.NaN : r.cpu.path("otherProcessesCores").asDouble());
    double[] targets = options.maxRate() ? new double[0] : new double[] {20, 200};
    Path svg = options.out().resolve(name + "-lag.svg");
    try {
      Files.createDirectories(options.out());
      Files.writeString(svg, LagChart.svg(title, sub, buckets, targets), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + svg, e);
    }
    result.put("chart", svg.toString());
    log("live: chart " + svg);
  }

  private static String trimSeconds(double s) {
    return s < 1 ? Math.round(s * 1000) + " ms" : String.format(Locale.ROOT, "%.1f s", s);
  }

  private void mesh() throws Exception {
    Baseline.Result base = options.baseline() ? baseline() : null;
    int k = options.nodes();
    List<NodeSpecBuilder> specs = new ArrayList<>();
    for (int i = 1; i <= k; i++) {
      specs.add(spec(String.format(Locale.ROOT, "n%d", i)));
    }
    List<NodeProcess> mesh = new ArrayList<>();
    for (NodeSpecBuilder s : specs) {
      List<NodeSpecBuilder> others = specs.stream().filter(o -> o != s).toList();
      mesh.add(startNode(s, others));
    }
    for (NodeProcess n : mesh) {
      n.awaitHealthy(Duration.ofMinutes(2));
    }
    for (NodeProcess n : mesh) {
      for (NodeProcess o : mesh) {
        if (o != n) {
          awaitConnected(n, o.id);
        }
      }
    }
    startMonitor();
    long total = options.entries();
    log(String.format(Locale.ROOT, "mesh: %d nodes in full mesh, %,d entries in all (%,d per node), rate %s", k, total, total / k,
        options.maxRate() ? "max" : options.rate() + "/s"));
    long perNodeRate = options.maxRate() ? 0 : Math.max(1, options.rate() / k);
    long[] written = new long[k];
    long[] finished = new long[k];
    String[] errors = new String[k];
    CpuSnapshot cpuBefore = CpuSnapshot.take(nodes);
    long t0 = System.nanoTime() + 50_000_000L;
    List<Thread> writers = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      final int node = i;
      long count = total / k + (i == k - 1 ? total % k : 0);
      Thread t = new Thread(() -> {
        try (HttpConnection c = new HttpConnection(mesh.get(node).http, 120_000)) {
          String prefix = String.format(Locale.ROOT, "m%02d", node + 1);
          int maxBatch = workload.bulkMaxEntries();
          long sent = 0;
          while (sent < count) {
            long now = System.nanoTime();
            long due;
            if (now < t0) {
              LockSupport.parkNanos(t0 - now);
              continue;
            }
            due = perNodeRate == 0 ? count : Math.min(count, (now - t0) * perNodeRate / 1_000_000_000L + 1);
            if (due <= sent) {
              LockSupport.parkNanos(LivePhase.scheduled(t0, sent, perNodeRate) - now);
              continue;
            }
            long to = Math.min(due, sent + maxBatch);
            JsonNode j = NodeProcess.json(c.post("/kv", workload.bulkBody(prefix, sent, to)), "POST /kv to " + mesh.get(node).id);
            if (j.path("committed").asLong() != to - sent) {
              throw new IOException("node committed " + j.path("committed") + " of " + (to - sent));
            }
            sent = to;
            written[node] = sent;
          }
        } catch (IOException | RuntimeException e) {
          errors[node] = e.toString();
        }
        finished[node] = System.nanoTime();
      }, "bench-writer-" + (i + 1));
      t.setDaemon(true);
      writers.add(t);
      t.start();
    }
    // Converged: every node holds every entry (head seq == total, since each key is written once
    // and duplicates get no seq) and all digests are equal.
    long deadline = System.nanoTime() + options.timeout().toNanos();
    long convergedAt = 0;
    List<HttpConnection> conns = mesh.stream().map(n -> new HttpConnection(n.http, 30_000)).toList();
    JsonNode[] last = new JsonNode[k];
    long lastLog = System.nanoTime();
    try {
      while (System.nanoTime() < deadline) {
        boolean done = true;
        String digest = null;
        for (int i = 0; i < k; i++) {
          if (!mesh.get(i).isAlive()) {
            throw new IllegalStateException("node " + mesh.get(i).id + " exited; log:\n" + mesh.get(i).tail(30));
          }
          last[i] = NodeProcess.json(conns.get(i).get("/status"), "/status of " + mesh.get(i).id);
          done &= last[i].path("headSeq").asLong() == total;
          String d = last[i].path("digest").asText();
          done &= digest == null || digest.equals(d);
          digest = d;
        }
        if (done) {
          convergedAt = System.nanoTime();
          break;
        }
        for (String e : errors) {
          if (e != null) {
            throw new IOException("a writer failed: " + e);
          }
        }
        if (System.nanoTime() - lastLog > 5_000_000_000L) {
          lastLog = System.nanoTime();
          StringBuilder line = new StringBuilder("mesh: head seqs");
          for (int i = 0; i < k; i++) {
            line.append(String.format(Locale.ROOT, " %s=%,d", mesh.get(i).id, last[i].path("headSeq").asLong()));
          }
          log(line.toString());
        }
        Thread.sleep(50);
      }
    } finally {
      conns.forEach(HttpConnection::close);
    }
    for (Thread t : writers) {
      t.join(60_000);
    }
    if (convergedAt == 0) {
      throw new IllegalStateException("the mesh did not converge within " + options.timeout());
    }
    CpuSnapshot.describe(result.putObject("cpu").put("interval", "first write to convergence"), cpuBefore,
        CpuSnapshot.take(nodes), 6);
    double convergence = (convergedAt - t0) / 1e9;
    long lastWrite = 0;
    ArrayNode perNode = result.putArray("perNode");
    for (int i = 0; i < k; i++) {
      lastWrite = Math.max(lastWrite, finished[i]);
      double ws = (finished[i] - t0) / 1e9;
      long applied = 0;
      for (JsonNode p : last[i].path("peers")) {
        applied += p.path("entriesApplied").asLong();
      }
      ObjectNode o = perNode.addObject();
      o.put("id", mesh.get(i).id);
      o.put("written", written[i]);
      o.put("writeSeconds", round(ws));
      o.put("writeRate", round(written[i] / ws));
      o.put("appliedFromPeers", applied);
      o.put("applyRate", round(applied / convergence));
      o.put("headSeq", last[i].path("headSeq").asLong());
    }
    double writeSeconds = (lastWrite - t0) / 1e9;
    double rate = total / convergence;
    log(String.format(Locale.ROOT, "mesh: all writes done after %.2f s, converged after %.2f s: %,.0f entries/s", writeSeconds,
        convergence, rate));
    result.put("convergenceSeconds", round(convergence));
    result.put("writeSeconds", round(writeSeconds));
    result.put("convergedAfterLastWriteSeconds", round(convergence - writeSeconds));
    result.put("entriesPerSecond", round(rate));
    result.put("achievedRate", round(total / writeSeconds));
    result.put("targetRate", options.maxRate() ? null : options.rate());
    result.put("digest", last[0].path("digest").asText());
    if (base != null) {
      result.put("ratioToBaseline", round(rate / base.entriesPerSecond()));
    }
  }

  // ------------------------------------------------------------------ nodes

  /** Addresses and directories of a node, before it starts. */
  private final class NodeSpecBuilder {
    final String id;
    final String ip;
    final int grpcPort;
    final int httpPort;
    final Path dir;
    final Path dataDir;

    NodeSpecBuilder(String id) {
      this.id = id;
      this.ip = workspace.loopbackAddress();
      this.grpcPort = Workspace.freePort(ip);
      this.httpPort = Workspace.freePort(ip);
      this.dir = workspace.dir(id);
      this.dataDir = dir.resolve("data");
    }

    String peerSpec() {
      return id + "=" + ip + ":" + grpcPort;
    }
  }

  private NodeSpecBuilder spec(String id) {
    return new NodeSpecBuilder(id);
  }

  private NodeProcess startNode(NodeSpecBuilder s, List<?> peers) {
    if (jar == null) {
      jar = workspace.copyJar(options.nodeJar());
    }
    List<String> peerSpecs = new ArrayList<>();
    for (Object p : peers) {
      peerSpecs.add(p instanceof NodeProcess n ? n.id + "=" + n.grpcAddress : ((NodeSpecBuilder) p).peerSpec());
    }
    NodeProcess n =
        NodeProcess.start(
            jar,
            new NodeProcess.Spec(s.id, CLUSTER, s.ip, s.grpcPort, s.httpPort, s.dir, s.dataDir, peerSpecs,
                options.durability(), options.nodeHeap(), options.nodeJvmOptions(), options.jfr()),
            workspace);
    nodes.add(n);
    log("started node " + s.id + " (pid " + n.pid() + ", grpc " + s.ip + ":" + s.grpcPort + ", http " + s.ip + ":" + s.httpPort
        + (peerSpecs.isEmpty() ? "" : ", peers " + String.join(",", peerSpecs)) + ")");
    return n;
  }

  private void awaitConnected(NodeProcess n, String peerId) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      JsonNode p = NodeProcess.peer(n.status(), peerId);
      if (p != null && p.path("connected").asBoolean()) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("node " + n.id + " did not connect to " + peerId + " within 60 s; log:\n" + n.tail(20));
  }

  private void awaitCaughtUp(NodeProcess a, NodeProcess b) throws IOException, InterruptedException {
    long head = a.status().path("headSeq").asLong();
    long deadline = System.nanoTime() + options.timeout().toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode p = NodeProcess.peer(b.status(), "a");
      if (p != null && p.path("watermark").asLong() >= head) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("B did not catch up with A's head seq " + head + " within " + options.timeout());
  }

  private void startMonitor() {
    if (monitor != null) {
      return;
    }
    monitor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-memory-monitor");
      t.setDaemon(true);
      return t;
    });
    AtomicLong ticks = new AtomicLong();
    ScheduledFuture<?> unused = monitor.scheduleWithFixedDelay(() -> {
      ticks.incrementAndGet();
      for (NodeProcess n : List.copyOf(nodes)) {
        n.sampleMemory();
      }
    }, 0, 1, TimeUnit.SECONDS);
  }

  private void stopAll() {
    if (monitor != null) {
      monitor.shutdownNow();
    }
    ArrayNode arr = result.putArray("nodes");
    long peakHeap = 0;
    long peakRss = 0;
    for (NodeProcess n : nodes) {
      n.sampleMemory();
      if (options.jfr() && n.isAlive()) {
        Path jfr = options.out().resolve(name + "-" + n.id + ".jfr");
        try {
          Files.createDirectories(options.out());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        n.dumpJfr(jfr);
        log("profile of node " + n.id + ": " + jfr);
      }
      n.stop();
      ObjectNode o = arr.addObject();
      o.put("id", n.id);
      o.put("pid", n.pid());
      o.put("xmx", options.nodeHeap());
      o.put("peakHeapBytes", n.peakHeapBytes());
      o.put("peakHeapFromGcLogBytes", n.peakHeapFromGcLog());
      o.put("peakHeapSampledBytes", n.peakSampledHeapBytes());
      o.put("gcCount", n.gcCount());
      o.put("peakRssBytes", n.peakRssBytes());
      o.put("outOfMemoryError", n.ranOutOfMemory());
      peakHeap = Math.max(peakHeap, n.peakHeapBytes());
      peakRss = Math.max(peakRss, n.peakRssBytes());
      Path logs = options.out().resolve(name + "-nodes").resolve(n.id);
      Workspace.copyIfExists(n.logFile(), logs, "node.log");
      Workspace.copyIfExists(n.gcLog(), logs, "gc.log");
    }
    result.put("peakHeapBytes", nodes.isEmpty() ? null : peakHeap);
    result.put("peakRssBytes", nodes.isEmpty() ? null : peakRss);
    if (!nodes.isEmpty()) {
      result.put("nodeLogs", options.out().resolve(name + "-nodes").toString());
    }
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
    log(String.format(Locale.ROOT, "%s: %d cores, load average %.2f, %s", options.scenario(),
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
      log("result: " + file);
    } catch (IOException e) {
      log("cannot write " + file + ": " + e);
    }
    if (options.json()) {
      out.println(text);
    }
  }

  private void log(String line) {
    err.println("[" + DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC).format(Instant.now()) + "] " + line);
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

  private static double round(double v) {
    return Percentiles.round(v);
  }
}
