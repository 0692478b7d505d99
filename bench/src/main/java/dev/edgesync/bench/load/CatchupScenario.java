package dev.edgesync.bench.load;

import static dev.edgesync.bench.load.Percentiles.round;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The catch-up scenario: A is preloaded in process with {@code --entries} entries and started;
 * then B starts empty, subscribed to A, and is timed from its subscription to a digest equal to
 * A's.
 */
final class CatchupScenario extends Scenario {
  CatchupScenario(Options options, Workload workload, BenchCluster cluster, ObjectNode result, ProgressLog log) {
    super(options, workload, cluster, result, log);
  }

  /** Runs the scenario; {@code base} is the raw LevelDB baseline, or null when not measured. */
  void run(Baseline.Result base) throws Exception {
    BenchCluster.PlannedNode aSpec = cluster.plan("a");
    log.line(String.format(Locale.ROOT, "catchup: preloading %,d entries into A's data dir (in process, buffered, not timed)",
        options.entries()));
    Preload.Result pre = Preload.run("a", BenchCluster.CLUSTER, aSpec.dataDir, options.entries(), workload);
    log.line(String.format(Locale.ROOT, "catchup: preloaded in %.1f s, head seq %,d, digest %s", pre.seconds(), pre.headSeq(), pre.digest()));
    result.putObject("preload").put("seconds", round(pre.seconds())).put("headSeq", pre.headSeq());
    NodeProcess a = cluster.start(aSpec, List.of());
    a.awaitHealthy(Duration.ofMinutes(2));
    JsonNode aStatus = a.status();
    String digest = aStatus.path("digest").asText();
    if (!digest.equals(pre.digest())) {
      throw new IllegalStateException("A's digest after restart " + digest + " differs from the preload's " + pre.digest());
    }
    cluster.startMonitor();
    log.line("catchup: starting B empty, subscribed to A; timing from B's subscription to equal digests");
    Instant bLaunched = Instant.now();
    NodeProcess b = cluster.start(cluster.plan("b"), List.of(a));
    CpuSnapshot cpuBefore = CpuSnapshot.take(cluster.nodes());
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
            log.line(String.format(Locale.ROOT, "catchup: B at head seq %,d of %,d", bStatus.path("headSeq").asLong(), options.entries()));
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
        CpuSnapshot.take(cluster.nodes()), 6);
    Instant subscribed = b.subscribedAt("a");
    String from = "B's log line 'peer a: connected' (Welcome received, ms resolution)";
    if (subscribed == null) {
      subscribed = bLaunched;
      from = "B's process launch (the subscription log line was not found)";
    }
    double seconds = Duration.between(subscribed, converged).toNanos() / 1e9;
    double rate = options.entries() / seconds;
    JsonNode peer = NodeProcess.peer(bStatus, "a");
    log.line(String.format(Locale.ROOT, "catchup: B converged in %.2f s after subscribing (%.2f s after launch): %,.0f entries/s",
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
}
