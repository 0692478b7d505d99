package dev.edgesync.node.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgesync.conflict.Hlc;
import dev.edgesync.node.Main;
import dev.edgesync.node.cli.Table;
import dev.edgesync.node.client.NodeClient;
import dev.edgesync.node.client.NodeClient.NodeClientException;
import dev.edgesync.node.server.Json;
import dev.edgesync.watermark.Watermark;
import dev.edgesync.watermark.WatermarkStore;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The three-node demo: starts three nodes as separate {@code edgesync run} processes on loopback
 * ports, full mesh, with every directed link through an in-process {@link TcpRelay}; then writes,
 * partitions one site, makes a conflict, heals, kills a node with SIGKILL and restarts it, and
 * shows at each step what every node holds and their digests.
 *
 * <p>Every wait is bounded by the timeout given; when it passes, {@link #run()} fails with a
 * message that says what did not happen and where the node logs are.
 */
public final class Demo {
  private static final List<String> IDS = List.of("site-a", "site-b", "site-c");
  private static final Duration POLL = Duration.ofMillis(100);
  private static final int CATCH_UP_WRITES = 20;

  private final PrintStream out;
  private final Path baseDirOption;
  private final boolean keepRunning;
  private final Duration timeout;
  private final boolean ownsProcess;
  private final List<String> launcher;
  private final Map<String, DemoNode> nodes = new LinkedHashMap<>();
  private final Map<String, TcpRelay> relays = new LinkedHashMap<>();
  private Path baseDir;
  private Thread cleanupHook;

  /**
   * Prepares a demo.
   *
   * @param out where the narrative goes
   * @param baseDir directory for data, configs and logs, or null for a new temporary one
   * @param keepRunning leave the nodes up at the end until the process is interrupted
   * @param timeout bound of each wait (start, convergence)
   * @param ownsProcess true when this is the real program, which may end the JVM on Ctrl-C
   */
  public Demo(
      PrintStream out, Path baseDir, boolean keepRunning, Duration timeout, boolean ownsProcess) {
    this.out = out;
    this.baseDirOption = baseDir;
    this.keepRunning = keepRunning;
    this.timeout = timeout;
    this.ownsProcess = ownsProcess;
    this.launcher = launcher();
  }

  /** Runs the demo; returns the exit code. */
  public int run() throws InterruptedException {
    boolean ok = false;
    try {
      setUp();
      stepStart();
      stepWriteEverywhere();
      String cut = "site-c";
      stepCut(cut);
      Conflict conflict = stepConflict(cut);
      stepHeal(conflict);
      stepKillAndCatchUp("site-b");
      String digest = stepFinal();
      out.println();
      out.println("all 3 digests equal: " + digest);
      ok = true;
      if (keepRunning) {
        keepRunning();
      }
      return Main.EXIT_OK;
    } catch (DemoFailure | NodeClientException e) {
      out.println();
      out.println("DEMO FAILED: " + e.getMessage());
      printLogTails();
      throw new Main.CommandFailure(
          "demo failed: " + e.getMessage() + " (node logs are in " + baseDir + ")");
    } finally {
      stopAll();
      if (ok && baseDirOption == null && !keepRunning) {
        deleteTree(baseDir);
      } else if (baseDir != null) {
        out.println("(data, configs and logs kept in " + baseDir + ")");
      }
    }
  }

  // ---- steps ----

  private void setUp() {
    try {
      baseDir =
          baseDirOption != null
              ? Files.createDirectories(baseDirOption).toAbsolutePath()
              : Files.createTempDirectory("edgesync-demo-").toAbsolutePath();
    } catch (IOException e) {
      throw new DemoFailure("cannot create the demo directory: " + e.getMessage());
    }
    cleanupHook = new Thread(this::stopAll, "edgesync-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanupHook);
  }

  private void stepStart() throws InterruptedException {
    out.println("edgesync demo: three sites on this machine, each its own JVM ('edgesync run'),");
    out.println(
        "replicating over gRPC in a full mesh. Each directed link runs through a small TCP");
    out.println(
        "relay inside this process, so a site can be cut off for real while all keep running.");
    out.println("Work dir: " + baseDir);
    step(1, "Start three nodes");
    // Hold every picked port until the relays are bound, so no two of them can get the same one.
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (String id : IDS) {
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
      held.forEach(Demo::closeQuietly);
    }
    for (DemoNode n : nodes.values()) {
      writeConfig(n);
    }
    long t0 = System.nanoTime();
    for (DemoNode n : nodes.values()) {
      n.start();
    }
    for (DemoNode n : nodes.values()) {
      awaitHealthy(n);
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"NODE", "PID", "gRPC", "HTTP", "DATA DIR"});
    for (DemoNode n : nodes.values()) {
      rows.add(
          new String[] {
            n.id,
            Long.toString(n.process.pid()),
            "127.0.0.1:" + n.grpcPort,
            n.httpUrl(),
            n.dataDir.toString()
          });
    }
    indent(Table.format(rows));
    out.printf(
        "  all three healthy after %s; config files and logs are next to the data dirs%n",
        since(t0));
  }

  private void stepWriteEverywhere() throws InterruptedException {
    step(2, "Write on every node");
    for (DemoNode n : nodes.values()) {
      put(n, "greeting/" + n.id, "hello from " + n.id);
    }
    put(nodes.get("site-a"), "shared/config", "v1 written on site-a");
    awaitConverged(nodes.values());
    showState("");
  }

  private void stepCut(String cutId) throws InterruptedException {
    step(
        3,
        "Cut " + cutId + " off from the others (its links drop; every node keeps taking writes)");
    for (Map.Entry<String, TcpRelay> e : relays.entrySet()) {
      if (e.getKey().contains(cutId)) {
        e.getValue().cut();
      }
    }
    long t0 = System.nanoTime();
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
    out.printf("  every link to and from %s is down (noticed after %s)%n", cutId, since(t0));
  }

  private record Conflict(
      String key,
      String sideA,
      String sideB,
      String valueA,
      String valueB,
      String versionA,
      String versionB) {}

  private Conflict stepConflict(String cutId) throws InterruptedException {
    step(4, "Write the same key on both sides of the cut");
    DemoNode a = nodes.get("site-a");
    DemoNode c = nodes.get(cutId);
    String key = "shared/color";
    String va = put(a, key, "blue");
    String vc = put(c, key, "green");
    put(
        nodes.get("site-b"),
        "during-cut/site-b",
        "written on site-b while " + cutId + " was cut off");
    put(c, "during-cut/" + cutId, "written on " + cutId + " while cut off");
    showState("");
    out.println("  the two sides disagree, as they should while partitioned: both took the write.");
    return new Conflict(key, a.id, c.id, "blue", "green", va, vc);
  }

  private void stepHeal(Conflict k) throws InterruptedException {
    step(5, "Heal the partition and let last-writer-wins settle the conflict");
    relays.values().forEach(TcpRelay::heal);
    awaitConverged(nodes.values());
    showState("");
    long hlcA = hlc(k.versionA);
    long hlcB = hlc(k.versionB);
    boolean aWins = hlcA != hlcB ? hlcA > hlcB : k.sideA.compareTo(k.sideB) > 0;
    String winner = aWins ? k.sideA : k.sideB;
    String winnerValue = aWins ? k.valueA : k.valueB;
    String loser = aWins ? k.sideB : k.sideA;
    out.printf(
        "  %s on %s: version hlc %s (%s) @ %s%n", k.key, k.sideA, hlcA, Hlc.format(hlcA), k.sideA);
    out.printf(
        "  %s on %s: version hlc %s (%s) @ %s%n", k.key, k.sideB, hlcB, Hlc.format(hlcB), k.sideB);
    if (hlcA != hlcB) {
      out.printf(
          "  winner: \"%s\" from %s: its write has the higher hybrid logical clock timestamp,%n",
          winnerValue, winner);
      out.printf(
          "  so every node keeps it and drops %s's (a tie in HLC would go to the higher node"
              + " id).%n",
          loser);
    } else {
      out.printf(
          "  winner: \"%s\" from %s: both writes have the same HLC, so the tie is broken by node%n",
          winnerValue, winner);
      out.printf("  id ('%s' > '%s'), the same way on every node.%n", winner, loser);
    }
    for (DemoNode n : nodes.values()) {
      NodeClient.Response r = n.client.get(k.key);
      String version = aWins ? k.versionA : k.versionB;
      if (r.status() != 200 || !r.text().equals(winnerValue) || !version.equals(r.version())) {
        throw new DemoFailure(
            n.id
                + " holds "
                + k.key
                + " = '"
                + r.text()
                + "' version "
                + r.version()
                + " but the LWW winner is '"
                + winnerValue
                + "' version "
                + version);
      }
    }
    out.printf(
        "  checked: all three hold %s = \"%s\" with version %s%n",
        k.key, winnerValue, aWins ? k.versionA : k.versionB);
  }

  private void stepKillAndCatchUp(String victimId) throws InterruptedException {
    step(6, "Kill " + victimId + " with SIGKILL, write while it is down, restart it");
    DemoNode victim = nodes.get(victimId);
    long pid = victim.process.pid();
    victim.process.destroyForcibly();
    if (!victim.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new DemoFailure(victimId + " (pid " + pid + ") did not die after SIGKILL");
    }
    out.printf(
        "  %s (pid %d) killed: exit code %d, no shutdown of any kind%n",
        victimId, pid, victim.process.exitValue());
    List<DemoNode> alive = nodes.values().stream().filter(n -> n != victim).toList();
    for (DemoNode n : alive) {
      ArrayNode entries = Json.MAPPER.createArrayNode();
      for (int i = 0; i < CATCH_UP_WRITES; i++) {
        ObjectNode e = entries.addObject();
        e.put("key", String.format("catch-up/%s/%02d", n.id, i));
        e.put("value", "written on " + n.id + " while " + victimId + " was down");
      }
      ObjectNode body = Json.MAPPER.createObjectNode();
      body.set("entries", entries);
      NodeClient.Response r = n.client.bulk(body.toString().getBytes(StandardCharsets.UTF_8));
      if (r.status() != 200) {
        throw new DemoFailure(
            "bulk write on " + n.id + " failed (" + r.status() + "): " + r.errorMessage());
      }
      out.printf(
          "  %s  POST /kv with %d entries -> committed, last seq %d%n",
          n.id, CATCH_UP_WRITES, r.json().path("lastSeq").asLong());
    }
    awaitConverged(alive);
    Map<String, Watermark> onDisk;
    try (WatermarkStore store = WatermarkStore.open(victim.dataDir)) {
      onDisk = store.readAll();
    } catch (RuntimeException e) {
      throw new DemoFailure("cannot read " + victimId + "'s watermarks: " + e.getMessage());
    }
    Map<String, Long> heads = new TreeMap<>();
    for (DemoNode n : alive) {
      heads.put(n.id, n.client.status().path("headSeq").asLong());
    }
    out.printf("  %s's watermarks on disk (what it had durably applied when it died):%n", victimId);
    for (DemoNode n : alive) {
      Watermark w = onDisk.get(n.id);
      out.printf(
          "    from %s: seq %d   (%s's log is now at seq %d)%n",
          n.id, w == null ? 0 : w.seq(), n.id, heads.get(n.id));
    }
    long t0 = System.nanoTime();
    victim.start();
    awaitHealthy(victim);
    out.printf(
        "  %s restarted on its data dir (pid %d), healthy after %s%n",
        victimId, victim.process.pid(), since(t0));
    awaitConverged(nodes.values());
    JsonNode s = victim.client.status();
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "FROM PEER", "WATERMARK AT RESTART", "PEER HEAD SEQ", "RECEIVED", "APPLIED", "DUPLICATES"
        });
    long applied = 0;
    for (JsonNode p : s.path("peers")) {
      String peer = p.path("id").asText();
      Watermark w = onDisk.get(peer);
      long a = p.path("entriesApplied").asLong();
      long d = p.path("duplicates").asLong();
      applied += a;
      rows.add(
          new String[] {
            peer,
            Long.toString(w == null ? 0 : w.seq()),
            Long.toString(heads.getOrDefault(peer, p.path("peerHeadSeq").asLong())),
            Long.toString(a + d),
            Long.toString(a),
            Long.toString(d)
          });
    }
    out.printf(
        "  %s caught up from its watermarks (from GET /status of %s):%n", victimId, victimId);
    indent(Table.format(rows));
    out.printf(
        "  Each peer sent only what follows %s's watermark (at most head - watermark entries),%n",
        victimId);
    out.printf(
        "  not its whole log. %d entries were new to %s (%d were written while it was down).%n",
        applied, victimId, CATCH_UP_WRITES * alive.size());
    out.println(
        "  Duplicates are entries it already had (the same write arriving via the other peer,");
    out.println(
        "  or sent again after a watermark not yet on disk when it died): dropped, no new seq.");
    showCounts("catch-up/");
  }

  private String stepFinal() throws InterruptedException {
    step(7, "Final state");
    awaitConverged(nodes.values());
    showState("");
    showCounts("");
    return digests().values().iterator().next();
  }

  private void keepRunning() throws InterruptedException {
    out.println();
    out.println("The three nodes keep running. Try, in another terminal:");
    DemoNode a = nodes.get("site-a");
    DemoNode b = nodes.get("site-b");
    DemoNode c = nodes.get("site-c");
    out.println("  curl -X PUT --data 'hi' " + a.httpUrl() + "/kv/hello");
    out.println("  curl -i " + b.httpUrl() + "/kv/hello");
    out.println("  curl '" + c.httpUrl() + "/kv?prefix=greeting/'");
    out.println("  curl " + a.httpUrl() + "/status");
    out.println("  curl " + a.httpUrl() + "/metrics");
    out.println("  java -jar edgesync.jar status --node " + b.httpUrl());
    for (DemoNode n : nodes.values()) {
      out.printf("  %s: HTTP %s, log %s%n", n.id, n.httpUrl(), n.logFile);
    }
    out.println("Press Ctrl-C to stop them.");
    out.flush();
    if (ownsProcess) {
      // The cleanup hook stops the nodes on Ctrl-C; then the demo, stopped on purpose, exits 0.
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
    new CountDownLatch(1).await();
  }

  // ---- waiting ----

  private void awaitHealthy(DemoNode n) throws InterruptedException {
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

  private void awaitConverged(java.util.Collection<DemoNode> set) throws InterruptedException {
    long t0 = System.nanoTime();
    out.print("  waiting for " + names(set) + " to converge... ");
    out.flush();
    Map<String, String> last = new LinkedHashMap<>();
    try {
      waitUntil(
          "convergence of " + names(set),
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
    out.println("converged in " + since(t0));
  }

  private void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new DemoFailure("waited " + timeout.toSeconds() + " s for " + what + ", in vain");
      }
      TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
    }
  }

  private static JsonNode statusOrNull(DemoNode n) {
    try {
      return n.client.status();
    } catch (NodeClientException e) {
      return null;
    }
  }

  // ---- output ----

  private void step(int number, String title) {
    out.println();
    out.printf("Step %d/7  %s%n", number, title);
  }

  private String put(DemoNode n, String key, String value) {
    NodeClient.Response r = n.client.put(key, value.getBytes(StandardCharsets.UTF_8), null, null);
    if (r.status() != 200) {
      throw new DemoFailure(
          "PUT " + key + " on " + n.id + " failed (" + r.status() + "): " + r.errorMessage());
    }
    JsonNode j = r.json();
    String version = j.path("version").asText();
    out.printf(
        "  %s  PUT %s = \"%s\"  -> seq %d, version %s%n",
        n.id, key, value, j.path("seq").asLong(), version);
    return version;
  }

  /**
   * Prints a table of key -> value on every node, for keys under {@code prefix}, and the digests.
   */
  private void showState(String prefix) {
    Map<String, Map<String, String>> byNode = new LinkedHashMap<>();
    TreeSet<String> keys = new TreeSet<>();
    for (DemoNode n : nodes.values()) {
      Map<String, String> kv = scanAll(n, prefix);
      kv.keySet().removeIf(k -> k.startsWith("catch-up/"));
      byNode.put(n.id, kv);
      keys.addAll(kv.keySet());
    }
    List<String[]> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("KEY"));
    header.addAll(byNode.keySet());
    rows.add(header.toArray(String[]::new));
    for (String k : keys) {
      List<String> row = new ArrayList<>(List.of(k));
      for (Map<String, String> kv : byNode.values()) {
        String v = kv.get(k);
        row.add(v == null ? "-" : shorten(v));
      }
      rows.add(row.toArray(String[]::new));
    }
    List<String> digestRow = new ArrayList<>(List.of("(digest)"));
    Map<String, String> digests = digests();
    for (String id : byNode.keySet()) {
      digestRow.add(digests.getOrDefault(id, "?").substring(0, 12) + "...");
    }
    rows.add(digestRow.toArray(String[]::new));
    indent(Table.format(rows));
  }

  private void showCounts(String prefix) {
    List<String> parts = new ArrayList<>();
    for (DemoNode n : nodes.values()) {
      parts.add(n.id + ": " + scanAll(n, prefix).size());
    }
    out.printf(
        "  live keys%s: %s%n",
        prefix.isEmpty() ? "" : " under " + prefix, String.join(", ", parts));
  }

  private Map<String, String> digests() {
    Map<String, String> d = new LinkedHashMap<>();
    for (DemoNode n : nodes.values()) {
      JsonNode s = statusOrNull(n);
      d.put(n.id, s == null ? "(down)" : s.path("digest").asText());
    }
    return d;
  }

  private static Map<String, String> scanAll(DemoNode n, String prefix) {
    Map<String, String> kv = new TreeMap<>();
    String after = null;
    do {
      NodeClient.Response r = n.client.scan(prefix, 1000, after);
      if (r.status() != 200) {
        throw new DemoFailure(
            "scan on " + n.id + " failed (" + r.status() + "): " + r.errorMessage());
      }
      JsonNode page = r.json();
      for (JsonNode item : page.path("items")) {
        kv.put(item.path("key").asText(), item.path("value").asText());
      }
      after = page.path("next").isTextual() ? page.path("next").asText() : null;
    } while (after != null);
    return kv;
  }

  private void printLogTails() {
    for (DemoNode n : nodes.values()) {
      try {
        List<String> lines = Files.readAllLines(n.logFile, StandardCharsets.UTF_8);
        out.println("--- last lines of " + n.logFile + " ---");
        lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(out::println);
      } catch (IOException | UncheckedIOException e) {
        out.println("--- " + n.logFile + " cannot be read: " + e.getMessage());
      }
    }
  }

  private void indent(String table) {
    table.lines().forEach(l -> out.println("  " + l));
  }

  private static String since(long t0) {
    return String.format(java.util.Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9);
  }

  private static String shorten(String v) {
    String s = v.length() > 30 ? v.substring(0, 27) + "..." : v;
    return "\"" + s + "\"";
  }

  private static String names(java.util.Collection<DemoNode> set) {
    return String.join(", ", set.stream().map(n -> n.id).toList());
  }

  private static long hlc(String version) {
    return Long.parseLong(version.substring(0, version.indexOf('@')));
  }

  // ---- processes ----

  private void stopAll() {
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

  private static void deleteTree(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A temporary directory left behind is harmless.
    }
  }

  /** One node process of the demo. */
  private final class DemoNode {
    final String id;
    final int grpcPort;
    final int httpPort;
    final Path dataDir;
    final Path configFile;
    final Path logFile;
    final NodeClient client;
    volatile Process process;

    DemoNode(String id, int grpcPort, int httpPort, Path dir) {
      this.id = id;
      this.grpcPort = grpcPort;
      this.httpPort = httpPort;
      this.dataDir = dir.resolve("data");
      this.configFile = dir.resolve(id + ".yaml");
      this.logFile = dir.resolve(id + ".log");
      this.client = new NodeClient(URI.create(httpUrl()), Duration.ofSeconds(10));
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new DemoFailure("cannot create " + dir + ": " + e.getMessage());
      }
    }

    String httpUrl() {
      return "http://127.0.0.1:" + httpPort;
    }

    void start() {
      List<String> cmd = new ArrayList<>(launcher);
      cmd.addAll(List.of("run", "--config", configFile.toString()));
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(Redirect.appendTo(logFile.toFile()));
      // The demo's config files must win: an EDGESYNC_* variable of the user's shell would
      // override them (environment beats file).
      pb.environment().keySet().removeIf(k -> k.startsWith("EDGESYNC_"));
      try {
        synchronized (nodes) {
          process = pb.start();
        }
      } catch (IOException e) {
        throw new DemoFailure(
            "cannot start " + id + " (" + String.join(" ", cmd) + "): " + e.getMessage());
      }
    }
  }

  /** A step of the demo did not happen in time or went wrong. */
  static final class DemoFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DemoFailure(String message) {
      super(message);
    }
  }
}
