package dev.edgesync.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The churn scenario (issue 13): {@code --nodes} nodes in a full mesh, each writing unique keys at
 * its share of {@code --rate} and deleting each key {@code --window} writes later, {@code
 * --entries} writes in all, so the live set stays at {@code nodes x window} keys while history
 * grows. Every 10 s it samples, over the nodes, the tombstones held, the tombstones collected, the
 * size of the database directory and the heap in use. It runs twice on fresh nodes: with tombstone
 * collection ({@code gc.minAge 10s}, {@code replication.maxClockSkew 5s}) and, as the same-run
 * baseline, without it.
 */
final class ChurnScenario extends Scenario {
  static final long SAMPLE_MILLIS = 10_000;

  ChurnScenario(Options options, Workload workload, BenchCluster cluster, ObjectNode result, ProgressLog log) {
    super(options, workload, cluster, result, log);
  }

  void run() throws Exception {
    ObjectNode on = result.putObject("gcOn");
    phase(true, on);
    ObjectNode off = result.putObject("gcOff");
    phase(false, off);
    long dbOn = on.path("finalDbBytesMax").asLong();
    long dbOff = off.path("finalDbBytesMax").asLong();
    log.line(String.format(Locale.ROOT, "churn: database at the end %.1f MiB with collection, %.1f MiB without", dbOn / 1048576.0,
        dbOff / 1048576.0));
  }

  private void phase(boolean gc, ObjectNode out) throws Exception {
    String tag = gc ? "on" : "off";
    int k = options.nodes();
    String config =
        "replication:\n  maxClockSkew: 5s\ngc:\n  interval: 1s\n  minAge: 10s\n  enabled: " + gc + "\n";
    List<BenchCluster.PlannedNode> specs = new ArrayList<>();
    for (int i = 1; i <= k; i++) {
      specs.add(cluster.plan(String.format(Locale.ROOT, "gc%s-n%d", tag, i)));
    }
    List<NodeProcess> mesh = new ArrayList<>();
    for (BenchCluster.PlannedNode s : specs) {
      mesh.add(cluster.start(s, specs.stream().filter(o -> o != s).toList(), config));
    }
    for (NodeProcess n : mesh) {
      n.awaitHealthy(java.time.Duration.ofMinutes(2));
    }
    long perNode = options.entries() / k;
    long rate = options.maxRate() ? 3_000 : options.rate();
    long perNodeRate = Math.max(1, rate / k);
    long window = options.window();
    log.line(String.format(Locale.ROOT, "churn gc %s: %d nodes, %,d writes each at %,d/s, each key deleted %,d writes later", tag, k, perNode,
        perNodeRate, window));
    AtomicLong[] written = new AtomicLong[k];
    String[] errors = new String[k];
    long t0 = System.nanoTime() + 50_000_000L;
    List<Thread> writers = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      final int node = i;
      written[i] = new AtomicLong();
      Thread t = new Thread(() -> {
        try (HttpConnection c = new HttpConnection(mesh.get(node).http, 120_000)) {
          String prefix = String.format(Locale.ROOT, "c%02d/", node + 1);
          long sent = 0;
          while (sent < perNode) {
            long now = System.nanoTime();
            long due = now < t0 ? 0 : Math.min(perNode, (now - t0) * perNodeRate / 1_000_000_000L + 1);
            if (due <= sent) {
              LockSupport.parkNanos(LivePhase.scheduled(t0, sent, perNodeRate) - now);
              continue;
            }
            long to = Math.min(due, sent + 500);
            StringBuilder body = new StringBuilder("{\"entries\":[");
            for (long j = sent; j < to; j++) {
              if (j > sent) {
                body.append(',');
              }
              body.append("{\"key\":\"").append(prefix).append(String.format(Locale.ROOT, "%012d", j)).append("\",\"value\":\"")
                  .append("v".repeat(options.valueBytes())).append("\"}");
              if (j >= window) {
                body.append(",{\"key\":\"").append(prefix).append(String.format(Locale.ROOT, "%012d", j - window))
                    .append("\",\"delete\":true}");
              }
            }
            body.append("]}");
            NodeProcess.json(c.post("/kv", body.toString().getBytes(StandardCharsets.UTF_8)), "POST /kv to " + mesh.get(node).id);
            sent = to;
            written[node].set(sent);
          }
        } catch (IOException | RuntimeException e) {
          errors[node] = e.toString();
        }
      }, "bench-churn-" + (i + 1));
      t.setDaemon(true);
      writers.add(t);
      t.start();
    }
    ArrayNode samples = out.putArray("samples");
    long nextSample = t0 + SAMPLE_MILLIS * 1_000_000L;
    boolean writing = true;
    long doneAt = 0;
    Sample last = null;
    while (true) {
      LockSupport.parkNanos(Math.max(0, nextSample - System.nanoTime()));
      nextSample += SAMPLE_MILLIS * 1_000_000L;
      for (String e : errors) {
        if (e != null) {
          throw new IOException("a writer failed: " + e);
        }
      }
      long total = 0;
      for (AtomicLong w : written) {
        total += w.get();
      }
      last = sample(mesh, (System.nanoTime() - t0) / 1e9, total);
      samples.add(last.json());
      log.line(String.format(Locale.ROOT, "churn gc %s: %s", tag, last));
      if (writing && writers.stream().noneMatch(Thread::isAlive)) {
        writing = false;
        doneAt = System.nanoTime();
      }
      // After the writes, sample until collection has had its minimum age and a few rounds.
      if (!writing && System.nanoTime() - doneAt > 30_000_000_000L) {
        break;
      }
    }
    out.put("writesPerNode", perNode);
    out.put("finalTombstonesMax", last.tombstones);
    out.put("finalDbBytesMax", last.dbBytes);
    for (NodeProcess n : mesh) {
      n.stop();
    }
  }

  private record Sample(double seconds, long writes, long tombstones, long purged, long dbBytes, long heapBytes) {
    ObjectNode json() {
      ObjectNode o = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
      o.put("seconds", Math.round(seconds));
      o.put("writes", writes);
      o.put("tombstonesMax", tombstones);
      o.put("purgedTotalSum", purged);
      o.put("dbBytesMax", dbBytes);
      o.put("heapBytesMax", heapBytes);
      return o;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%4.0f s  writes %,10d  tombstones %,9d  purged %,10d  db %7.1f MiB  heap %6.1f MiB", seconds, writes,
          tombstones, purged, dbBytes / 1048576.0, heapBytes / 1048576.0);
    }
  }

  private static Sample sample(List<NodeProcess> mesh, double seconds, long writes) throws IOException {
    long tombstones = 0;
    long purged = 0;
    long db = 0;
    long heap = 0;
    for (NodeProcess n : mesh) {
      JsonNode s = n.status();
      tombstones = Math.max(tombstones, s.path("gc").path("tombstones").asLong());
      purged += s.path("gc").path("purgedTotal").asLong();
      db = Math.max(db, bytes(n.dataDir.resolve("db")));
      heap = Math.max(heap, NodeProcess.heapInUse(n.http().get("/metrics").text()));
    }
    return new Sample(seconds, writes, tombstones, purged, db, heap);
  }

  private static long bytes(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0; // removed by a compaction meanwhile
        }
      }).sum();
    }
  }
}
