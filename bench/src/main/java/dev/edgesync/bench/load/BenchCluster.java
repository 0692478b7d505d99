package dev.edgesync.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node processes of one run: plans their ports and directories in the {@link Workspace},
 * starts them from a private copy of the node jar, waits for links and catch-up, samples their
 * memory every second once measuring starts, and stops them at the end.
 *
 * <p>Used by the run's thread only, except the memory monitor, which reads a copy of the list.
 */
final class BenchCluster {
  static final String CLUSTER = "bench";

  private final Options options;
  private final Workspace workspace;
  private final ProgressLog log;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private Path jar;
  private ScheduledExecutorService monitor;

  BenchCluster(Options options, Workspace workspace, ProgressLog log) {
    this.options = options;
    this.workspace = workspace;
    this.log = log;
  }

  /** Addresses and directories of a node, before it starts. */
  final class PlannedNode {
    final String id;
    final String ip;
    final int grpcPort;
    final int httpPort;
    final Path dir;
    final Path dataDir;

    private PlannedNode(String id) {
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

  /** Picks the ports and directories of node {@code id}; starts nothing. */
  PlannedNode plan(String id) {
    return new PlannedNode(id);
  }

  /** The nodes started so far, in start order. */
  List<NodeProcess> nodes() {
    return Collections.unmodifiableList(nodes);
  }

  /**
   * Starts the planned node {@code s} with {@code peers} (each a {@link PlannedNode} or a running
   * {@link NodeProcess}); it is healthy only after {@link NodeProcess#awaitHealthy}.
   */
  NodeProcess start(PlannedNode s, List<?> peers) {
    return start(s, peers, null);
  }

  /** As {@link #start(PlannedNode, List)}, with a config file of {@code configYaml} (null: none). */
  NodeProcess start(PlannedNode s, List<?> peers, String configYaml) {
    if (jar == null) {
      jar = workspace.copyJar(options.nodeJar());
    }
    List<String> peerSpecs = new ArrayList<>();
    for (Object p : peers) {
      peerSpecs.add(p instanceof NodeProcess n ? n.id + "=" + n.grpcAddress : ((PlannedNode) p).peerSpec());
    }
    NodeProcess n =
        NodeProcess.start(
            jar,
            new NodeProcess.Spec(s.id, CLUSTER, s.ip, s.grpcPort, s.httpPort, s.dir, s.dataDir, peerSpecs,
                options.durability(), options.nodeHeap(), options.nodeJvmOptions(), options.jfr(), configYaml),
            workspace);
    nodes.add(n);
    log.line("started node " + s.id + " (pid " + n.pid() + ", grpc " + s.ip + ":" + s.grpcPort + ", http " + s.ip + ":" + s.httpPort
        + (peerSpecs.isEmpty() ? "" : ", peers " + String.join(",", peerSpecs)) + ")");
    return n;
  }

  void awaitConnected(NodeProcess n, String peerId) throws IOException, InterruptedException {
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

  void awaitCaughtUp(NodeProcess a, NodeProcess b) throws IOException, InterruptedException {
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

  void startMonitor() {
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

  /**
   * Stops every node (sampling its memory and, with {@code --jfr}, dumping its recording first),
   * copies node and GC logs to {@code <out>/<name>-nodes/} and records each node's peaks in {@code
   * result}.
   */
  void stopAll(ObjectNode result, String name) {
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
        log.line("profile of node " + n.id + ": " + jfr);
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
}
