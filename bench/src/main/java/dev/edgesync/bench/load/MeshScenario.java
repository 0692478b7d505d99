package dev.edgesync.bench.load;

import static dev.edgesync.bench.load.Percentiles.round;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * The mesh scenario: {@code --nodes} nodes in a full mesh, each written by its own writer thread
 * (at {@code --rate} split evenly, or as fast as it goes), timed from the first write until every
 * node holds every entry and all digests are equal.
 */
final class MeshScenario extends Scenario {
  MeshScenario(Options options, Workload workload, BenchCluster cluster, ObjectNode result, ProgressLog log) {
    super(options, workload, cluster, result, log);
  }

  /** Runs the scenario; {@code base} is the raw LevelDB baseline, or null when not measured. */
  void run(Baseline.Result base) throws Exception {
    int k = options.nodes();
    List<BenchCluster.PlannedNode> specs = new ArrayList<>();
    for (int i = 1; i <= k; i++) {
      specs.add(cluster.plan(String.format(Locale.ROOT, "n%d", i)));
    }
    List<NodeProcess> mesh = new ArrayList<>();
    for (BenchCluster.PlannedNode s : specs) {
      List<BenchCluster.PlannedNode> others = specs.stream().filter(o -> o != s).toList();
      mesh.add(cluster.start(s, others));
    }
    for (NodeProcess n : mesh) {
      n.awaitHealthy(Duration.ofMinutes(2));
    }
    for (NodeProcess n : mesh) {
      for (NodeProcess o : mesh) {
        if (o != n) {
          cluster.awaitConnected(n, o.id);
        }
      }
    }
    cluster.startMonitor();
    long total = options.entries();
    log.line(String.format(Locale.ROOT, "mesh: %d nodes in full mesh, %,d entries in all (%,d per node), rate %s", k, total, total / k,
        options.maxRate() ? "max" : options.rate() + "/s"));
    long perNodeRate = options.maxRate() ? 0 : Math.max(1, options.rate() / k);
    long[] written = new long[k];
    long[] finished = new long[k];
    String[] errors = new String[k];
    CpuSnapshot cpuBefore = CpuSnapshot.take(cluster.nodes());
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
          log.line(line.toString());
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
        CpuSnapshot.take(cluster.nodes()), 6);
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
    log.line(String.format(Locale.ROOT, "mesh: all writes done after %.2f s, converged after %.2f s: %,.0f entries/s", writeSeconds,
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
}
