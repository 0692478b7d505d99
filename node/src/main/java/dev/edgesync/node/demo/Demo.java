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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The three-node demo: starts three nodes as separate {@code edgesync run} processes on loopback
 * ports, full mesh, with every directed link through an in-process {@link TcpRelay}; then writes,
 * partitions one site, makes a conflict, heals, kills a node with SIGKILL and restarts it, and
 * shows at each step what every node holds and their digests.
 *
 * <p>Every wait is bounded by the timeout given; when it passes, {@link #run()} fails with a
 * message that says what did not happen and where the node logs are.
 *
 * <p>This class is the scenario, step by step; {@link DemoCluster} runs the processes and links
 * and does the waiting, {@link DemoOutput} prints what the nodes hold.
 */
public final class Demo {
  private static final List<String> IDS = List.of("site-a", "site-b", "site-c");
  private static final int CATCH_UP_WRITES = 20;

  private final PrintStream out;
  private final Path baseDirOption;
  private final boolean keepRunning;
  private final Duration timeout;
  private final boolean ownsProcess;
  private final DemoCluster cluster;
  private final DemoOutput output;
  private Path baseDir;

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
    this.cluster = new DemoCluster(out, timeout);
    this.output = new DemoOutput(out, cluster);
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
      output.printLogTails();
      throw new Main.CommandFailure(
          "demo failed: " + e.getMessage() + " (node logs are in " + baseDir + ")");
    } finally {
      cluster.stopAll();
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
    cluster.installCleanupHook();
  }

  private void stepStart() throws InterruptedException {
    out.println("edgesync demo: three sites on this machine, each its own JVM ('edgesync run'),");
    out.println(
        "replicating over gRPC in a full mesh. Each directed link runs through a small TCP");
    out.println(
        "relay inside this process, so a site can be cut off for real while all keep running.");
    out.println("Work dir: " + baseDir);
    output.step(1, "Start three nodes");
    cluster.create(IDS, baseDir);
    long t0 = System.nanoTime();
    for (DemoNode n : cluster.nodes()) {
      cluster.start(n);
    }
    for (DemoNode n : cluster.nodes()) {
      cluster.awaitHealthy(n);
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"NODE", "PID", "gRPC", "HTTP", "DATA DIR"});
    for (DemoNode n : cluster.nodes()) {
      rows.add(
          new String[] {
            n.id,
            Long.toString(n.process.pid()),
            "127.0.0.1:" + n.grpcPort,
            n.httpUrl(),
            n.dataDir.toString()
          });
    }
    output.indent(Table.format(rows));
    out.printf(
        "  all three healthy after %s; config files and logs are next to the data dirs%n",
        DemoOutput.since(t0));
  }

  private void stepWriteEverywhere() throws InterruptedException {
    output.step(2, "Write on every node");
    for (DemoNode n : cluster.nodes()) {
      put(n, "greeting/" + n.id, "hello from " + n.id);
    }
    put(cluster.node("site-a"), "shared/config", "v1 written on site-a");
    cluster.awaitConverged(cluster.nodes());
    output.showState("");
  }

  private void stepCut(String cutId) throws InterruptedException {
    output.step(
        3,
        "Cut " + cutId + " off from the others (its links drop; every node keeps taking writes)");
    cluster.cut(cutId);
    long t0 = System.nanoTime();
    cluster.awaitCutNoticed(cutId);
    out.printf(
        "  every link to and from %s is down (noticed after %s)%n", cutId, DemoOutput.since(t0));
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
    output.step(4, "Write the same key on both sides of the cut");
    DemoNode a = cluster.node("site-a");
    DemoNode c = cluster.node(cutId);
    String key = "shared/color";
    String va = put(a, key, "blue");
    String vc = put(c, key, "green");
    put(
        cluster.node("site-b"),
        "during-cut/site-b",
        "written on site-b while " + cutId + " was cut off");
    put(c, "during-cut/" + cutId, "written on " + cutId + " while cut off");
    output.showState("");
    out.println("  the two sides disagree, as they should while partitioned: both took the write.");
    return new Conflict(key, a.id, c.id, "blue", "green", va, vc);
  }

  private void stepHeal(Conflict k) throws InterruptedException {
    output.step(5, "Heal the partition and let last-writer-wins settle the conflict");
    cluster.heal();
    cluster.awaitConverged(cluster.nodes());
    output.showState("");
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
    for (DemoNode n : cluster.nodes()) {
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
    output.step(6, "Kill " + victimId + " with SIGKILL, write while it is down, restart it");
    DemoNode victim = cluster.node(victimId);
    long pid = victim.process.pid();
    victim.process.destroyForcibly();
    if (!victim.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new DemoFailure(victimId + " (pid " + pid + ") did not die after SIGKILL");
    }
    out.printf(
        "  %s (pid %d) killed: exit code %d, no shutdown of any kind%n",
        victimId, pid, victim.process.exitValue());
    List<DemoNode> alive = cluster.nodes().stream().filter(n -> n != victim).toList();
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
    cluster.awaitConverged(alive);
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
    cluster.start(victim);
    cluster.awaitHealthy(victim);
    out.printf(
        "  %s restarted on its data dir (pid %d), healthy after %s%n",
        victimId, victim.process.pid(), DemoOutput.since(t0));
    cluster.awaitConverged(cluster.nodes());
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
    output.indent(Table.format(rows));
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
    output.showCounts("catch-up/");
  }

  private String stepFinal() throws InterruptedException {
    output.step(7, "Final state");
    cluster.awaitConverged(cluster.nodes());
    output.showState("");
    output.showCounts("");
    return cluster.digests().values().iterator().next();
  }

  private void keepRunning() throws InterruptedException {
    out.println();
    out.println("The three nodes keep running. Try, in another terminal:");
    DemoNode a = cluster.node("site-a");
    DemoNode b = cluster.node("site-b");
    DemoNode c = cluster.node("site-c");
    out.println("  curl -X PUT --data 'hi' " + a.httpUrl() + "/kv/hello");
    out.println("  curl -i " + b.httpUrl() + "/kv/hello");
    out.println("  curl '" + c.httpUrl() + "/kv?prefix=greeting/'");
    out.println("  curl " + a.httpUrl() + "/status");
    out.println("  curl " + a.httpUrl() + "/metrics");
    out.println("  java -jar edgesync.jar status --node " + b.httpUrl());
    for (DemoNode n : cluster.nodes()) {
      out.printf("  %s: HTTP %s, log %s%n", n.id, n.httpUrl(), n.logFile);
    }
    out.println("Press Ctrl-C to stop them.");
    out.flush();
    if (ownsProcess) {
      // The cleanup hook stops the nodes on Ctrl-C; then the demo, stopped on purpose, exits 0.
      cluster.exitOkOnShutdown();
    }
    new CountDownLatch(1).await();
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

  private static long hlc(String version) {
    return Long.parseLong(version.substring(0, version.indexOf('@')));
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
}
