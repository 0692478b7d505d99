package dev.edgesync.node.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient.NodeClientException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The demo's node processes and the links between them: picks loopback ports, puts a {@link
 * TcpRelay} on every directed link, writes each node's config, starts and stops the {@code
 * edgesync run} processes, cuts and heals links, and waits (bounded by the timeout) for nodes to
 * be healthy, to notice a cut, or to converge.
 *
 * <p>Threads: used by the demo's thread, except {@link #stopAll()}, which a shutdown hook may also
 * run; starting and stopping processes are serialised on the node map.
 */
final class DemoCluster {
  private static final Duration POLL = Duration.ofMillis(100);

  private final PrintStream out;
  private final Duration timeout;
  private final List<String> launcher;
  private final Map<String, DemoNode> nodes = new LinkedHashMap<>();
  private final Map<String, TcpRelay> relays = new LinkedHashMap<>();
  private Thread cleanupHook;

  /**
   * @param out where waits and the stop are reported
   * @param timeout bound of each wait (start, convergence)
   */
  DemoCluster(PrintStream out, Duration timeout) {
    this.out = out;
    this.timeout = timeout;
    this.launcher = launcher();
  }

  /** Stops the nodes when the JVM exits before {@link #stopAll()} is called. */
  void installCleanupHook() {
    cleanupHook = new Thread(this::stopAll, "edgesync-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanupHook);
  }

  /**
   * For the real program left running: on Ctrl-C, stop the nodes and then end the JVM with exit
   * code 0, since the demo was stopped on purpose.
   */
  void exitOkOnShutdown() {
    Runtime.getRuntime().removeShutdownHook(cleanupHook);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopAll();
                  Runtime.getRuntime().halt(Main.EXIT_OK);
                },
                "edgesync-demo-stop"));
  }

  /**
   * Creates the nodes {@code ids} under {@code baseDir}, full mesh, each directed link through a
   * relay, and writes their config files; starts nothing.
   */
  void create(List<String> ids, Path baseDir) {
    // Hold every picked port until the relays are bound, so no two of them can get the same one.
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (String id : ids) {
        int grpc = pickPort(held);
        int http = pickPort(held);
        nodes.put(id, new DemoNode(id, grpc, http, baseDir.resolve(id)));
      }
      for (DemoNode from : nodes.values()) {
        for (DemoNode to : nodes.values()) {
          if (from != to) {
            relays.put(link(from.id, to.id), new TcpRelay(link(from.id, to.id), to.grpcPort));
          }
        }
      }
    } catch (IOException e) {
      throw new DemoFailure("cannot bind loopback ports: " + e.getMessage());
    } finally {
      held.forEach(DemoCluster::closeQuietly);
    }
    for (DemoNode n : nodes.values()) {
      writeConfig(n);
    }
  }

  DemoNode node(String id) {
    return nodes.get(id);
  }

  /** The nodes in creation order. */
  Collection<DemoNode> nodes() {
    return nodes.values();
  }

  /** Starts the process of {@code n}; it is healthy only after {@link #awaitHealthy}. */
  void start(DemoNode n) {
    synchronized (nodes) {
      n.process = n.launch(launcher);
    }
  }

  /** Drops every link to and from {@code id} and refuses new connections on them. */
  void cut(String id) {
    for (Map.Entry<String, TcpRelay> e : relays.entrySet()) {
      if (e.getKey().contains(id)) {
        e.getValue().cut();
      }
    }
  }

  /** Lets every link carry connections again. */
  void heal() {
    relays.values().forEach(TcpRelay::heal);
  }

  /** Waits until no node reports a connected link to or from {@code cutId}. */
  void awaitCutNoticed(String cutId) throws InterruptedException {
    waitUntil(
        "the nodes to notice the cut",
        () -> {
          for (DemoNode n : nodes.values()) {
            JsonNode s = statusOrNull(n);
            if (s == null) {
              return false;
            }
            for (JsonNode p : s.path("peers")) {
              boolean involvesCut = n.id.equals(cutId) || p.path("id").asText().equals(cutId);
              if (involvesCut && p.path("connected").asBoolean()) {
                return false;
              }
            }
          }
          return true;
        });
  }

  void awaitHealthy(DemoNode n) throws InterruptedException {
    waitUntil(
        n.id + " to answer GET /health with 200",
        () -> {
          if (!n.process.isAlive()) {
            throw new DemoFailure(
                n.id
                    + " exited with code "
                    + n.process.exitValue()
                    + " while starting; see "
                    + n.logFile);
          }
          try {
            return n.client.getPath("/health").status() == 200;
          } catch (NodeClientException e) {
            return false;
          }
        });
  }

  void awaitConverged(Collection<DemoNode> set) throws InterruptedException {
    long t0 = System.nanoTime();
    out.print("  waiting for " + DemoOutput.names(set) + " to converge... ");
    out.flush();
    Map<String, String> last = new LinkedHashMap<>();
    try {
      waitUntil(
          "convergence of " + DemoOutput.names(set),
          () -> {
            last.clear();
            for (DemoNode n : set) {
              JsonNode s = statusOrNull(n);
              if (s == null) {
                return false;
              }
              last.put(n.id, s.path("digest").asText());
            }
            return last.values().stream().distinct().count() == 1;
          });
    } catch (DemoFailure e) {
      throw new DemoFailure(e.getMessage() + "; last digests " + last);
    }
    out.println("converged in " + DemoOutput.since(t0));
  }

  void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new DemoFailure("waited " + timeout.toSeconds() + " s for " + what + ", in vain");
      }
      TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
    }
  }

  static JsonNode statusOrNull(DemoNode n) {
    try {
      return n.client.status();
    } catch (NodeClientException e) {
      return null;
    }
  }

  Map<String, String> digests() {
    Map<String, String> d = new LinkedHashMap<>();
    for (DemoNode n : nodes.values()) {
      JsonNode s = statusOrNull(n);
      d.put(n.id, s == null ? "(down)" : s.path("digest").asText());
    }
    return d;
  }

  void stopAll() {
    synchronized (nodes) {
      List<DemoNode> running =
          nodes.values().stream().filter(n -> n.process != null && n.process.isAlive()).toList();
      if (!running.isEmpty()) {
        out.println();
        out.println("Stopping the nodes with SIGTERM");
      }
      running.forEach(n -> n.process.destroy());
      for (DemoNode n : running) {
        try {
          if (!n.process.waitFor(20, TimeUnit.SECONDS)) {
            out.println("  " + n.id + " did not stop within 20 s of SIGTERM; killing it");
            n.process.destroyForcibly();
          } else if (n.process.exitValue() == 0) {
            out.println("  " + n.id + " stopped gracefully (exit code 0)");
          } else {
            out.println(
                "  "
                    + n.id
                    + " exited with code "
                    + n.process.exitValue()
                    + " on SIGTERM (expected 0); see "
                    + n.logFile);
          }
        } catch (InterruptedException e) {
          n.process.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
      relays.values().forEach(TcpRelay::close);
    }
    if (cleanupHook != null && Thread.currentThread() != cleanupHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(cleanupHook);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down; the hook is running or ran.
      }
    }
  }

  private void writeConfig(DemoNode n) {
    StringBuilder y = new StringBuilder();
    y.append("# Written by 'edgesync demo'. Every peer address is a relay of the demo process.\n");
    y.append("id: ").append(n.id).append('\n');
    y.append("cluster: demo\n");
    y.append("listen: 127.0.0.1:").append(n.grpcPort).append('\n');
    y.append("http: 127.0.0.1:").append(n.httpPort).append('\n');
    y.append("dataDir: \"").append(n.dataDir.toString().replace("\\", "\\\\")).append("\"\n");
    y.append("durability: fsync\n");
    y.append("peers:\n");
    for (DemoNode p : nodes.values()) {
      if (p != n) {
        y.append("  - id: ").append(p.id).append('\n');
        y.append("    address: \"127.0.0.1:")
            .append(relays.get(link(n.id, p.id)).port())
            .append("\"\n");
      }
    }
    // Short timers so that the cut is noticed and the heal is used within a second or two.
    y.append("replication:\n");
    y.append("  heartbeatInterval: 250ms\n");
    y.append("  heartbeatTimeout: 1s\n");
    y.append("  reconnectBaseDelay: 100ms\n");
    y.append("  reconnectMaxDelay: 1s\n");
    try {
      Files.writeString(n.configFile, y.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new DemoFailure("cannot write " + n.configFile + ": " + e.getMessage());
    }
  }

  private static String link(String from, String to) {
    return from + "->" + to;
  }

  private static int pickPort(List<ServerSocket> held) throws IOException {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    held.add(s);
    return s.getLocalPort();
  }

  /** The command that starts this program: {@code java -jar edgesync.jar}, or the class path. */
  private static List<String> launcher() {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                // Three JVMs share a small machine: a small heap, the serial collector and the
                // first JIT
                // tier only keep start-up and memory low.
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1"));
    Path jar;
    try {
      URI location = Main.class.getProtectionDomain().getCodeSource().getLocation().toURI();
      jar = Path.of(location);
    } catch (URISyntaxException | RuntimeException e) {
      jar = null;
    }
    if (jar != null && Files.isRegularFile(jar) && jar.toString().endsWith(".jar")) {
      cmd.addAll(List.of("-jar", jar.toString()));
    } else {
      // Run from classes (tests, an IDE): start the same class path.
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    }
    return cmd;
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // Releasing a port that was only held to reserve it.
    }
  }
}
