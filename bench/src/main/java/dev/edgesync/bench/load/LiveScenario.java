package dev.edgesync.bench.load;

import static dev.edgesync.bench.load.Percentiles.round;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The live scenario: A takes writes at a fixed rate ({@link LivePhase}) while B's lag is measured
 * for every entry; with {@code --rate max}, a search of the highest rate B keeps up with (steps
 * x1.5, then two bisections, then an optional confirming run). Writes the lag chart next to the
 * JSON.
 */
final class LiveScenario extends Scenario {
  private final String name;
  // The index of the first entry of the next phase: every phase writes new keys.
  private long index;

  /** @param name the run's name, which the chart file is named after */
  LiveScenario(
      Options options, Workload workload, BenchCluster cluster, ObjectNode result, ProgressLog log, String name) {
    super(options, workload, cluster, result, log);
    this.name = name;
  }

  /** Runs the scenario (after the baseline, when one is asked for). */
  void run() throws Exception {
    BenchCluster.PlannedNode aSpec = cluster.plan("a");
    BenchCluster.PlannedNode bSpec = cluster.plan("b");
    NodeProcess a = cluster.start(aSpec, options.twoWay() ? List.of(bSpec) : List.of());
    NodeProcess b = cluster.start(bSpec, List.of(aSpec));
    a.awaitHealthy(Duration.ofMinutes(2));
    b.awaitHealthy(Duration.ofMinutes(2));
    cluster.awaitConnected(b, "a");
    if (options.twoWay()) {
      cluster.awaitConnected(a, "b");
    }
    cluster.startMonitor();
    result.put("twoWay", options.twoWay());
    result.put("pollIntervalMillis", options.pollInterval().toNanos() / 1e6);
    result.put("connections", options.connections());
    if (!options.warmup().isZero()) {
      long rate = options.maxRate() ? options.rateStart() : options.rate();
      log.line(String.format(Locale.ROOT, "live: warm-up, %,d writes/s for %d s (not measured)", rate, options.warmup().toSeconds()));
      LivePhase.Result w = phase(a, b, rate, options.warmup(), index, options.timeout());
      index += w.committed;
      cluster.awaitCaughtUp(a, b);
      result.put("warmup", String.format(Locale.ROOT, "%,d writes/s for %d s before measuring (fresh node JVMs compile"
          + " their hot paths); its lag p99 was %.1f ms and is not counted", rate, options.warmup().toSeconds(), w.lagMillis(0.99)));
    }
    LivePhase.Result main;
    if (!options.maxRate()) {
      log.line(String.format(Locale.ROOT, "live: %,d writes/s on A for %d s, %s", options.rate(), options.duration().toSeconds(), options.durability()));
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
        LivePhase.Result step = searchStep(a, b, rate, "step", steps);
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
          LivePhase.Result step = searchStep(a, b, rate, "step-down", steps);
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
        LivePhase.Result step = searchStep(a, b, mid, "bisect", steps);
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
        log.line(String.format(Locale.ROOT, "live: confirming %,d writes/s for %d s", best, options.duration().toSeconds()));
        main = phase(a, b, best, options.duration(), index, stepCoverWait());
        judge(main);
        steps.add(stepJson(main, "confirm"));
        if (!main.keptUp) {
          long lower = roundRate(best * 9 / 10);
          log.line(String.format(Locale.ROOT, "live: not kept up for the whole run; confirming %,d writes/s", lower));
          cluster.awaitCaughtUp(a, b);
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

  /** One step of the max-rate search: a phase at {@code rate}, judged, recorded, B caught up. */
  private LivePhase.Result searchStep(NodeProcess a, NodeProcess b, long rate, String kind, ArrayNode steps)
      throws IOException, InterruptedException {
    LivePhase.Result step = phase(a, b, rate, options.stepDuration(), index, stepCoverWait());
    index += step.committed;
    judge(step);
    steps.add(stepJson(step, kind));
    cluster.awaitCaughtUp(a, b);
    return step;
  }

  private Duration stepCoverWait() {
    return options.keepUpMax().plusSeconds(5);
  }

  private static long roundRate(long rate) {
    return rate < 10_000 ? Math.max(1000, rate / 500 * 500) : rate / 1000 * 1000;
  }

  private LivePhase.Result phase(NodeProcess a, NodeProcess b, long rate, Duration duration, long firstIndex, Duration coverWait)
      throws IOException, InterruptedException {
    double load = LoadGenerator.loadAverage();
    log.line(String.format(Locale.ROOT, "live: %,d writes/s for %d s (load average %.2f)", rate, duration.toSeconds(), load));
    CpuSnapshot before = CpuSnapshot.take(cluster.nodes());
    LivePhase.Result r =
        LivePhase.run(a, b, "a", workload, rate, duration.toNanos(), firstIndex, options.pollInterval().toNanos(), coverWait.toNanos(),
            options.connections());
    r.cpu = result.objectNode().put("interval", "the phase: writes and B covering them");
    CpuSnapshot.describe(r.cpu, before, CpuSnapshot.take(cluster.nodes()), 6);
    r.verdict = null;
    log.line(String.format(Locale.ROOT,
        "live: %,d writes/s -> achieved %,.0f/s; lag p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms; write p99 %.1f ms;"
            + " poll gap p50 %.2f ms p99 %.2f ms%s",
        rate, r.achievedRate, r.lagMillis(0.5), r.lagMillis(0.99), r.lagMillis(0.999), r.lag.maxMillis(),
        r.write.millis(0.99), r.pollGap.millis(0.5), r.pollGap.millis(0.99),
        r.uncovered > 0 ? String.format(Locale.ROOT, "; %,d entries not on B in time", r.uncovered) : ""));
    if (r.error != null) {
      log.line("live: " + r.error);
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
    ObjectNode s = result.objectNode();
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
    s.put("loadAverageAfter", LoadGenerator.loadAverage());
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
    log.line("live: chart " + svg);
  }

  private static String trimSeconds(double s) {
    return s < 1 ? Math.round(s * 1000) + " ms" : String.format(Locale.ROOT, "%.1f s", s);
  }
}
