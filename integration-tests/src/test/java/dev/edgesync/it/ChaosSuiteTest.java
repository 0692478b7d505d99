package dev.edgesync.it;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.common.util.concurrent.RateLimiter;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Real-process chaos: seeded fault scenarios against clusters of node JVMs, every directed peer
 * link through its own {@link FaultProxy}, with writers on every node all along.
 *
 * <p>The run is a sequence of <em>phases</em>; a phase is one cluster (5 nodes in a full mesh,
 * ring, chain or hub, or 3 nodes in a mesh or chain, drawn from the seed) that lives through
 * several <em>rounds</em>. A round is one scenario: a fault schedule drawn from its seed (proxy
 * partitions into random halves, one node isolated, one-way black holes, link resets and delays,
 * kill -9 during writes / mid-catch-up right after a restart / right after a burst / during
 * start-up (JVM loading, store open, first peer connected), a node's links cut at one of those
 * points of its restart, SIGSTOP and
 * SIGCONT pauses, restarts with a clock offset within ±25 s, once in a while one beyond
 * maxClockSkew, watermark files corrupted, emptied or deleted between a kill and its restart, a
 * data dir wiped), then the heal (all links PASS, every node running, clocks within the skew), the
 * end of the writes, convergence within {@link Cluster#CONVERGENCE}, and the checks of {@link
 * ChaosHistory#check} with zero tolerance. Watermark safety is checked at every kill, before the
 * restart: every watermark file the dead node left covers no seq beyond its peer's head.
 *
 * <p>System properties: {@code edgesync.chaos.seed} (replays a run: the schedule, not the thread
 * interleavings), {@code edgesync.chaos.rounds} (total rounds, default 12: 4 per phase),
 * {@code edgesync.chaos.budgetSeconds} (default 180: without {@code minutes}, no round starts after
 * this much time once {@link #MIN_ROUNDS} are done, so that the CI run stays bounded on a slow
 * machine), {@code edgesync.chaos.minutes} (soak: 8 or 6 rounds per phase, and rounds keep
 * starting until this much time has passed), {@code
 * edgesync.chaos.busyThreads} (threads of the test JVM that spin all along: a loaded machine).
 */
class ChaosSuiteTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  static final long SEED = Long.getLong("edgesync.chaos.seed", System.currentTimeMillis());
  static final int ROUNDS = Integer.getInteger("edgesync.chaos.rounds", 12);
  static final int BUDGET_SECONDS = Integer.getInteger("edgesync.chaos.budgetSeconds", 180);
  /** Rounds a run without {@code minutes} makes whatever its budget. */
  static final int MIN_ROUNDS = 6;
  static final double MINUTES = Double.parseDouble(System.getProperty("edgesync.chaos.minutes", "0"));
  static final String REPLAY = "./mvnw -B -pl integration-tests verify -Dtest=ChaosSuiteTest -Dedgesync.chaos.seed=" + SEED;
  /** Threads of the test JVM that spin for the whole run: the soak "under load" (default 0). */
  static final int BUSY_THREADS = Integer.getInteger("edgesync.chaos.busyThreads", 0);
  static final Duration MAX_SKEW = Duration.ofSeconds(60); // the node program's default maxClockSkew
  static final int KEYS = 40;
  static final double WRITES_PER_SECOND_PER_NODE = 28;

  // ---- run-wide figures (printed after every round and at the end) ----
  static final Map<String, AtomicInteger> FAULTS = new ConcurrentHashMap<>();
  static final AtomicLong WRITES = new AtomicLong();
  static final AtomicLong ACKED = new AtomicLong();
  static final AtomicLong FAILED = new AtomicLong();
  static final AtomicLong UNKNOWN = new AtomicLong();
  static final AtomicLong UNKNOWN_APPLIED = new AtomicLong();
  static final AtomicLong SKEW_REFUSALS = new AtomicLong();
  static final AtomicLong MAX_CONVERGE_MS = new AtomicLong();
  static final AtomicLong SUM_CONVERGE_MS = new AtomicLong();
  static final AtomicInteger ROUNDS_DONE = new AtomicInteger();
  static final long STARTED = System.nanoTime();

  private static final HttpClient WRITER_HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(1)).build();

  enum Topology {
    MESH,
    RING,
    CHAIN,
    HUB
  }

  @TestFactory
  Stream<DynamicNode> seededRealProcessChaos() {
    System.out.println("ChaosSuiteTest seed=" + SEED + " rounds=" + ROUNDS + (MINUTES > 0 ? " minutes=" + MINUTES : "") + (BUSY_THREADS > 0 ? " busyThreads=" + BUSY_THREADS : "") + "\n  replay: " + REPLAY);
    for (int i = 0; i < BUSY_THREADS; i++) {
      Thread spin = new Thread(ChaosSuiteTest::spin, "chaos-load-" + i);
      spin.setDaemon(true);
      spin.start();
    }
    SplittableRandom master = new SplittableRandom(SEED);
    long deadline = MINUTES > 0 ? STARTED + (long) (MINUTES * 60e9) : STARTED + BUDGET_SECONDS * 1_000_000_000L;
    AtomicInteger planned = new AtomicInteger();
    Iterator<DynamicNode> phases =
        new Iterator<>() {
          int phase;

          @Override
          public boolean hasNext() {
            return MINUTES > 0 ? System.nanoTime() < deadline : planned.get() < ROUNDS && withinBudget(deadline);
          }

          @Override
          public DynamicNode next() {
            if (!hasNext()) {
              throw new NoSuchElementException();
            }
            phase++;
            SplittableRandom r = master.split();
            // Two 5-node phases, then a cheaper 3-node one, again and again.
            boolean small = phase % 3 == 0;
            int nodes = small ? 3 : 5;
            Topology t = small ? (r.nextBoolean() ? Topology.MESH : Topology.CHAIN) : List.of(Topology.values()).get(r.nextInt(Topology.values().length));
            int rounds = small ? 6 : 8;
            if (MINUTES <= 0) {
              // CI mode: fewer rounds per phase, so that a short run still sees all three kinds.
              rounds = Math.min(4, ROUNDS - planned.get());
            }
            planned.addAndGet(rounds);
            Phase p = new Phase(phase, nodes, t, r.nextLong());
            return DynamicContainer.dynamicContainer("phase " + phase + ": " + nodes + " nodes, " + t, p.rounds(rounds, deadline));
          }
        };
    return StreamSupport.stream(java.util.Spliterators.spliteratorUnknownSize(phases, 0), false);
  }

  /** Whether another round may start: before the deadline, or (CI mode) too few rounds done yet. */
  static boolean withinBudget(long deadline) {
    return System.nanoTime() < deadline || (MINUTES <= 0 && ROUNDS_DONE.get() < MIN_ROUNDS);
  }

  /** Load for the soak: burns one core until the run ends. */
  static void spin() {
    long x = 0;
    while (!STOP_LOAD.get()) {
      x = x * 6364136223846793005L + 1442695040888963407L;
    }
    LOAD_SINK.set(x);
  }

  static final AtomicBoolean STOP_LOAD = new AtomicBoolean();
  static final AtomicLong LOAD_SINK = new AtomicLong();

  @AfterAll
  static void summary() {
    STOP_LOAD.set(true);
    System.out.println(figures("ChaosSuiteTest done"));
  }

  static String figures(String title) {
    TreeMap<String, Integer> faults = new TreeMap<>();
    FAULTS.forEach((k, v) -> faults.put(k, v.get()));
    int total = faults.values().stream().mapToInt(Integer::intValue).sum();
    int rounds = ROUNDS_DONE.get();
    return title + " (seed " + SEED + "): rounds " + rounds + ", faults " + total + " " + faults
        + ", writes " + WRITES.get() + " (acked " + ACKED.get() + ", failed " + FAILED.get() + ", unknown " + UNKNOWN.get() + ", unknown applied " + UNKNOWN_APPLIED.get() + ")"
        + ", lost 0, clock-skew refusals counted " + SKEW_REFUSALS.get()
        + ", converge max " + MAX_CONVERGE_MS.get() + " ms mean " + (rounds == 0 ? 0 : SUM_CONVERGE_MS.get() / rounds) + " ms"
        + ", wall " + (System.nanoTime() - STARTED) / 1_000_000_000 + " s";
  }

  static void fault(String kind) {
    FAULTS.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
  }

  /** One cluster and the rounds it lives through. */
  static final class Phase implements AutoCloseable {
    final int number;
    final int size;
    final Topology topology;
    final SplittableRandom random;
    final ChaosHistory history = new ChaosHistory();
    final Map<String, AtomicBoolean> writable = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    final Map<String, Long> offsetMs = new ConcurrentHashMap<>();
    final AtomicLong valueCounter = new AtomicLong();
    /** Upper bound (epoch ms) of any HLC physical time a node has issued with an offset, after it stopped. */
    long ceilingMs;
    Cluster cluster;
    List<String> ids;
    boolean broken;
    int unknownApplied;
    String log = "";

    Phase(int number, int size, Topology topology, long seed) {
      this.number = number;
      this.size = size;
      this.topology = topology;
      this.random = new SplittableRandom(seed);
    }

    Stream<DynamicNode> rounds(int n, long deadline) {
      Iterator<DynamicNode> it =
          new Iterator<>() {
            int round;

            @Override
            public boolean hasNext() {
              return round < n && withinBudget(deadline);
            }

            @Override
            public DynamicNode next() {
              round++;
              int r = round;
              long roundSeed = random.nextLong();
              return DynamicTest.dynamicTest("round " + r + " (seed " + roundSeed + ")", () -> runRound(r, roundSeed));
            }
          };
      return StreamSupport.stream(java.util.Spliterators.spliteratorUnknownSize(it, 0), false).onClose(this::close);
    }

    void start() {
      cluster = cleanup.newCluster("phase" + number + "-" + topology.name().toLowerCase(java.util.Locale.ROOT), true);
      for (int i = 1; i <= size; i++) {
        cluster.add("n" + i, s -> {
          s.heapMb = 96;
          // Default durability (fsync): acknowledged means on disk.
        });
      }
      switch (topology) {
        case MESH -> cluster.fullMesh();
        case CHAIN -> cluster.chain();
        case HUB -> cluster.hubAndSpoke();
        case RING -> cluster.chain().connect("n" + size, "n1");
      }
      ids = cluster.ids();
      for (String id : ids) {
        writable.put(id, new AtomicBoolean(true));
        inFlight.put(id, new AtomicInteger());
        offsetMs.put(id, 0L);
      }
      cluster.startAll();
    }

    void runRound(int round, long roundSeed) throws Exception {
      Assumptions.assumeFalse(broken, "an earlier round of this phase failed");
      String name = "phase " + number + " (" + size + " nodes, " + topology + ") round " + round + " seed " + roundSeed;
      try {
        if (cluster == null) {
          start();
        }
        new Round(this, round, new SplittableRandom(roundSeed), name).run();
        ROUNDS_DONE.incrementAndGet();
        System.out.println(figures("after " + name));
      } catch (Throwable e) {
        broken = true;
        System.err.println("CHAOS FAILURE in " + name + "\n  replay the whole run: " + REPLAY + "\n" + e);
        throw new AssertionError("chaos " + name + " failed; replay: " + REPLAY + "\n" + e.getMessage(), e);
      }
    }

    long now() {
      return System.currentTimeMillis();
    }

    /** The highest HLC physical time (epoch ms) any node may have issued or will issue now. */
    long ceiling() {
      long c = ceilingMs;
      for (String id : ids) {
        if (cluster.node(id).isAlive()) {
          c = Math.max(c, now() + offsetMs.get(id));
        }
      }
      return c;
    }

    void stopped(String id) {
      ceilingMs = Math.max(ceilingMs, now() + offsetMs.get(id));
    }

    @Override
    public void close() {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  /** One scenario against a phase's cluster. */
  static final class Round {
    final Phase p;
    final int number;
    final SplittableRandom random;
    final String name;
    final Cluster c;
    final List<String> ids;
    final ChaosHistory h;
    final AtomicBoolean writing = new AtomicBoolean(true);
    int heavy;
    boolean wiped;
    boolean farFuture;

    Round(Phase p, int number, SplittableRandom random, String name) {
      this.p = p;
      this.number = number;
      this.random = random;
      this.name = name;
      this.c = p.cluster;
      this.ids = p.ids;
      this.h = p.history;
    }

    void say(String s) {
      System.out.println("[chaos " + Instant.now() + " p" + p.number + "r" + number + "] " + s);
    }

    void run() throws Exception {
      long ackedBefore = h.acked();
      long failedBefore = h.failed();
      long unknownBefore = h.unknown();
      long invokedBefore = h.invoked();
      ExecutorService pool = Executors.newFixedThreadPool(ids.size() + 4);
      try {
        List<Future<?>> writers = new ArrayList<>();
        for (String id : ids) {
          SplittableRandom own = random.split();
          writers.add(pool.submit(() -> writerLoop(id, own)));
        }
        int steps = 8 + random.nextInt(7);
        say(name + ": " + steps + " fault steps");
        for (int i = 0; i < steps; i++) {
          step(pool);
          letWritesRun(10 + random.nextInt(50), "under step " + (i + 1));
        }
        heal();
        writing.set(false);
        for (Future<?> f : writers) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        writing.set(false);
        pool.shutdownNow();
        pool.awaitTermination(30, TimeUnit.SECONDS);
      }
      WRITES.addAndGet(h.invoked() - invokedBefore);
      ACKED.addAndGet(h.acked() - ackedBefore);
      FAILED.addAndGet(h.failed() - failedBefore);
      UNKNOWN.addAndGet(h.unknown() - unknownBefore);

      long t0 = System.nanoTime();
      Map<String, JsonNode> state = c.awaitConverged(Cluster.CONVERGENCE);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      MAX_CONVERGE_MS.accumulateAndGet(ms, Math::max);
      SUM_CONVERGE_MS.addAndGet(ms);
      ChaosHistory.Verdict v = h.check(state);
      for (String id : ids) {
        String st = c.node(id).http().status().state();
        if (!"RUNNING".equals(st)) {
          throw new AssertionError(id + " is " + st + " after the heal");
        }
      }
      if (!h.failedBy().isEmpty()) {
        say("failed writes so far in this phase, by answer: " + h.failedBy());
      }
      say("converged in " + ms + " ms: " + state.size() + " live keys of " + v.keys() + "; unknown writes applied so far " + v.unknownApplied()
          + (v.unknownDeletesAssumed() > 0 ? ", absent keys explained only by an unknown-outcome delete " + v.unknownDeletesAssumed() : ""));
      UNKNOWN_APPLIED.addAndGet(v.unknownApplied() - p.unknownApplied);
      p.unknownApplied = v.unknownApplied();
      if (!v.violations().isEmpty()) {
        throw new AssertionError(v.violations().size() + " violations after " + name + ":\n  " + String.join("\n  ", v.violations().subList(0, Math.min(30, v.violations().size()))) + "\nlogs:\n" + c.logs());
      }
    }

    // ---- workload ----

    void writerLoop(String id, SplittableRandom r) {
      NodeProcess node = c.node(id);
      // About 28 writes/s per node, whatever the node answers (a refused connection included).
      RateLimiter pace = RateLimiter.create(WRITES_PER_SECOND_PER_NODE);
      while (writing.get()) {
        try {
          if (!p.writable.get(id).get() || !node.isAlive()) {
            await("node " + id + " writable again, or the round's writes over")
                .atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> !writing.get() || (p.writable.get(id).get() && node.isAlive()));
            continue;
          }
          pace.acquire();
          write(id, r.nextInt(10) < 3, "k" + r.nextInt(KEYS));
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /**
     * Lets the cluster run on under the current faults until {@code n} more writes have completed
     * (acknowledged, failed or unknown): fault phases are measured in work done, not in time. At
     * most one node is down or stopped at once, so the others' writers always make progress.
     */
    void letWritesRun(int n, String phase) {
      long target = h.invoked() + n;
      await(n + " more writes " + phase)
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(5))
          .until(() -> h.invoked() >= target);
    }

    /** One write with its outcome recorded; false if the node refused the connection (nothing sent). */
    boolean write(String id, boolean delete, String key) throws InterruptedException {
      String value = delete ? null : id + ".p" + p.number + "r" + number + "." + p.valueCounter.incrementAndGet();
      NodeSpec spec = c.node(id).spec;
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + spec.httpAddress() + "/kv/" + key)).timeout(Duration.ofSeconds(10));
      b.method(delete ? "DELETE" : "PUT", delete ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(value));
      ChaosHistory.Before before = h.before(id);
      p.inFlight.get(id).incrementAndGet();
      try {
        HttpResponse<String> resp = WRITER_HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (resp.statusCode() == 200) {
          JsonNode j = NodeClient.JSON.readTree(resp.body());
          h.record(new ChaosHistory.Op(id, key, value, ChaosHistory.Outcome.ACKED, j.path("hlc").asLong(), j.path("origin").asText(), j.path("seq").asLong(), null), before);
        } else {
          h.record(new ChaosHistory.Op(id, key, value, ChaosHistory.Outcome.FAILED, 0, null, 0, "HTTP " + resp.statusCode() + " " + resp.body()), before);
        }
        return true;
      } catch (ConnectException | HttpConnectTimeoutException e) {
        // No connection: the request was never sent (node down or starting). Not a write; the
        // writer's pace spaces the retries.
        return false;
      } catch (IOException e) {
        h.record(new ChaosHistory.Op(id, key, value, ChaosHistory.Outcome.UNKNOWN, 0, null, 0, e.toString()), before);
        return true;
      } finally {
        p.inFlight.get(id).decrementAndGet();
      }
    }

    // ---- faults ----

    String pick() {
      return ids.get(random.nextInt(ids.size()));
    }

    List<String[]> links() {
      List<String[]> l = new ArrayList<>();
      for (String a : ids) {
        for (String b : ids) {
          if (c.hasProxy(a, b)) {
            l.add(new String[] {a, b});
          }
        }
      }
      return l;
    }

    List<String> subscribersOf(String id) {
      return ids.stream().filter(s -> c.hasProxy(s, id)).toList();
    }

    void step(ExecutorService pool) throws Exception {
      int roll = random.nextInt(100);
      boolean canHeavy = heavy < 3;
      if (canHeavy && roll >= 55) {
        heavy++;
        int k = random.nextInt(100);
        if (k < 16) {
          killDuringWrites();
        } else if (k < 28) {
          killMidCatchUp();
        } else if (k < 40) {
          killAfterBurst(pool);
        } else if (k < 55) {
          pause();
        } else if (k < 66) {
          clockOffset();
        } else if (k < 76) {
          killDuringStartup();
        } else if (k < 86) {
          linksCutDuringRestart();
        } else if (k < 93 && !farFuture && !wiped && p.offsetMs.values().stream().allMatch(o -> o == 0) && p.ceiling() <= p.now() + 1000) {
          farFuture();
        } else if (!wiped && !farFuture) {
          wipe();
        } else {
          killDuringWrites();
        }
        return;
      }
      int k = random.nextInt(6);
      switch (k) {
        case 0 -> {
          List<String> shuffled = new ArrayList<>(ids);
          Collections.shuffle(shuffled, new java.util.Random(random.nextLong()));
          List<String> side = shuffled.subList(0, 1 + random.nextInt(ids.size() - 1));
          for (String[] l : links()) {
            if (side.contains(l[0]) != side.contains(l[1])) {
              c.proxy(l[0], l[1]).setMode(FaultProxy.Mode.BLACKHOLE);
            }
          }
          fault("partition");
          say("partition " + side + " | rest");
        }
        case 1 -> {
          String v = pick();
          for (String[] l : links()) {
            if (l[0].equals(v) || l[1].equals(v)) {
              c.proxy(l[0], l[1]).setMode(FaultProxy.Mode.BLACKHOLE);
            }
          }
          fault("isolate");
          say("isolate " + v);
        }
        case 2 -> {
          List<String[]> l = links();
          String[] one = l.get(random.nextInt(l.size()));
          c.proxy(one[0], one[1]).setMode(FaultProxy.Mode.BLACKHOLE);
          fault("one-way");
          say("one-way: " + one[0] + " no longer hears " + one[1] + " (the other direction untouched)");
        }
        case 3 -> {
          List<String[]> l = links();
          int n = 1 + random.nextInt(3);
          for (int i = 0; i < n; i++) {
            String[] one = l.get(random.nextInt(l.size()));
            c.proxy(one[0], one[1]).setMode(FaultProxy.Mode.RESET);
            fault("reset");
            say("reset " + one[0] + "->" + one[1]);
          }
        }
        case 4 -> {
          List<String[]> l = links();
          int n = 1 + random.nextInt(3);
          for (int i = 0; i < n; i++) {
            String[] one = l.get(random.nextInt(l.size()));
            FaultProxy proxy = c.proxy(one[0], one[1]);
            proxy.setDelay(Duration.ofMillis(5 + random.nextInt(400)));
            proxy.setMode(FaultProxy.Mode.DELAY);
            fault("delay");
            say("delay " + one[0] + "->" + one[1]);
          }
        }
        default -> {
          // Partial heal: faults come and go within a round.
          List<String[]> l = links();
          int healed = 0;
          for (String[] one : l) {
            if (random.nextInt(3) == 0 && c.proxy(one[0], one[1]).mode() != FaultProxy.Mode.PASS) {
              c.proxy(one[0], one[1]).setMode(FaultProxy.Mode.PASS);
              healed++;
            }
          }
          say("partial heal: " + healed + " links back to PASS");
        }
      }
    }

    /** kill -9, the watermark check, sometimes damage to a watermark file; the caller restarts. */
    void kill(String id, String kind) throws IOException {
      NodeProcess n = c.node(id);
      n.kill9();
      p.stopped(id);
      fault(kind);
      say(kind + ": kill -9 " + id);
      checkWatermarks(id);
      if (random.nextInt(100) < 35) {
        damageWatermark(id);
      }
    }

    void restart(String id) {
      c.node(id).start();
    }

    void killDuringWrites() throws Exception {
      String v = pick();
      kill(v, "kill9-during-writes");
      letWritesRun(random.nextInt(150), "while " + v + " is down");
      restart(v);
    }

    void killMidCatchUp() throws Exception {
      String v = pick();
      kill(v, "kill9-during-writes");
      letWritesRun(100 + random.nextInt(200), "on the others, for " + v + " to catch up");
      restart(v);
      letWritesRun(random.nextInt(60), "while " + v + " catches up");
      kill(v, "kill9-mid-catch-up");
      restart(v);
    }

    /**
     * Points of a node's start-up, as its log shows them: launched (the JVM is loading), store
     * open and replication listening (links starting), first peer connected (catch-up running).
     */
    static final String[] STARTUP_STAGES = {null, "replication listening on", "connected to"};

    /** Waits until the restarting node's log shows {@code stage} (null: at once); false if it did not within 10 s. */
    boolean awaitStage(String v, String stage) {
      if (stage == null) {
        return true;
      }
      NodeProcess n = c.node(v);
      try {
        await(v + " start-up reaching '" + stage + "'")
            .atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(10))
            .until(() -> !n.isAlive() || n.logSinceStart().contains(stage));
        return true;
      } catch (ConditionTimeoutException e) {
        // E.g. "connected to" while every link of v is cut: the fault still happens, later.
        return false;
      }
    }

    /** kill -9 while the node starts (JVM loading, store open, first catch-up), then a normal restart. */
    void killDuringStartup() throws Exception {
      String v = pick();
      kill(v, "kill9-during-writes");
      letWritesRun(50 + random.nextInt(150), "while " + v + " is down");
      String stage = STARTUP_STAGES[random.nextInt(STARTUP_STAGES.length)];
      c.node(v).startProcess();
      boolean reached = awaitStage(v, stage);
      say("start-up of " + v + (stage == null ? " just launched" : reached ? " reached '" + stage + "'" : " did not reach '" + stage + "' within 10 s"));
      kill(v, "kill9-during-startup");
      restart(v);
    }

    /**
     * Some or all of a node's links (both directions) cut, by black hole or reset, at a point of
     * its restart after a kill -9; healed a while after it is up, or only by the round's heal.
     */
    void linksCutDuringRestart() throws Exception {
      String v = pick();
      kill(v, "kill9-during-writes");
      letWritesRun(random.nextInt(150), "while " + v + " is down");
      List<String[]> touching = new ArrayList<>();
      for (String[] l : links()) {
        if ((l[0].equals(v) || l[1].equals(v)) && (touching.isEmpty() || random.nextInt(3) > 0)) {
          touching.add(l);
        }
      }
      FaultProxy.Mode mode = random.nextBoolean() ? FaultProxy.Mode.BLACKHOLE : FaultProxy.Mode.RESET;
      String stage = STARTUP_STAGES[random.nextInt(STARTUP_STAGES.length)];
      c.node(v).startProcess();
      boolean reached = awaitStage(v, stage);
      for (String[] l : touching) {
        c.proxy(l[0], l[1]).setMode(mode);
      }
      fault("links-cut-during-restart");
      say(touching.size() + " links of " + v + " cut (" + mode + ") at its start-up"
          + (stage == null ? " launch" : reached ? " stage '" + stage + "'" : " (stage '" + stage + "' not reached within 10 s)"));
      c.node(v).awaitHealthy();
      letWritesRun(20 + random.nextInt(150), "while " + v + "'s links are cut after its restart");
      if (random.nextBoolean()) {
        for (String[] l : touching) {
          c.proxy(l[0], l[1]).setMode(FaultProxy.Mode.PASS);
        }
        say("links of " + v + " back to PASS");
      }
    }

    /** A burst of parallel writes on one node, then kill -9 of one of its subscribers at once (mid-batch, between commit and watermark). */
    void killAfterBurst(ExecutorService pool) throws Exception {
      String a = pick();
      List<String> subs = subscribersOf(a);
      String b = subs.get(random.nextInt(subs.size()));
      long burstSeed = random.nextLong();
      List<Future<?>> burst = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        SplittableRandom r = new SplittableRandom(burstSeed + t);
        burst.add(pool.submit(() -> {
          for (int i = 0; i < 8; i++) {
            write(a, r.nextInt(10) < 2, "k" + r.nextInt(KEYS));
          }
          return null;
        }));
      }
      for (Future<?> f : burst) {
        f.get(60, TimeUnit.SECONDS);
      }
      letWritesRun(random.nextInt(4), "after the burst on " + a);
      kill(b, "kill9-after-burst");
      restart(b);
    }

    void pause() throws Exception {
      String v = pick();
      long pid = c.node(v).pid();
      int writes = 30 + random.nextInt(450);
      signal("-STOP", pid);
      fault("sigstop");
      say("SIGSTOP " + v + " for " + writes + " writes of the others");
      try {
        letWritesRun(writes, "while " + v + " is stopped");
      } finally {
        signal("-CONT", pid);
      }
    }

    static void signal(String sig, long pid) throws IOException, InterruptedException {
      Process k = new ProcessBuilder("kill", sig, Long.toString(pid)).inheritIO().start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill " + sig + " " + pid + " failed");
      }
    }

    /** Restart with a clock offset within ±25 s (any two nodes within 50 s of each other and of any HLC issued, maxClockSkew 60 s), or back to 0. */
    void clockOffset() throws Exception {
      String v = pick();
      // Below 0 only as far as keeps every HLC issued so far within 50 s of this clock.
      long lo = Math.max(-25_000, Math.min(0, p.ceiling() - p.now() - 50_000));
      long off = random.nextInt(4) == 0 ? 0 : lo + random.nextLong(25_000 - lo + 1);
      if (random.nextBoolean()) {
        kill(v, "clock-offset");
      } else {
        c.node(v).terminate();
        p.stopped(v);
        fault("clock-offset");
      }
      setOffset(v, off);
      say("restart " + v + " with clock offset " + off + " ms");
      restart(v);
    }

    void setOffset(String v, long off) {
      p.offsetMs.put(v, off);
      c.node(v).spec.clockOffset = off == 0 ? null : off + "ms";
    }

    /** A node restarted with its clock beyond maxClockSkew: a subscriber must refuse and count it; then back to offset 0. */
    void farFuture() throws Exception {
      farFuture = true;
      String v = pick();
      List<String> subs = subscribersOf(v);
      String y = subs.get(random.nextInt(subs.size()));
      long off = MAX_SKEW.toMillis() + 5_000 + random.nextInt(15_000);
      double base = PrometheusText.value(c.node(y).http().metrics(), "edgesync_replication_errors_total", "peer=" + v, "kind=clock_skew");
      c.node(v).terminate();
      p.stopped(v);
      setOffset(v, off);
      fault("clock-far-future");
      say("restart " + v + " with clock offset " + off + " ms (beyond maxClockSkew); " + y + " must refuse it");
      restart(v);
      c.proxy(y, v).setMode(FaultProxy.Mode.PASS);
      String key = "far-" + v + "-p" + p.number + "r" + number;
      if (!write(v, false, key)) {
        throw new AssertionError(v + " did not answer a write after its restart");
      }
      try {
        await(y + " counts a clock_skew refusal of " + v)
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> PrometheusText.value(c.node(y).http().metrics(), "edgesync_replication_errors_total", "peer=" + v, "kind=clock_skew") > base);
      } catch (ConditionTimeoutException e) {
        throw new AssertionError(y + " did not count a clock_skew refusal of " + v + " (offset " + off + " ms); /status " + c.node(y).http().statusJson(), e);
      }
      SKEW_REFUSALS.incrementAndGet();
      if (c.node(y).http().get(key).isPresent()) {
        throw new AssertionError(y + " applied " + key + ", written on " + v + " with a clock " + off + " ms ahead");
      }
      // Back within bounds. v's HLC stays ahead until the wall clocks catch up: its entries are
      // refused until then, and must arrive afterwards.
      c.node(v).terminate();
      p.stopped(v);
      setOffset(v, 0);
      say("restart " + v + " with clock offset 0 again");
      restart(v);
    }


    /** Wipes a node's data dir, once its own acknowledged writes are held by a subscriber. */
    void wipe() throws Exception {
      wiped = true;
      String v = pick();
      List<String> subs = subscribersOf(v);
      String y = subs.get(random.nextInt(subs.size()));
      c.proxy(y, v).setMode(FaultProxy.Mode.PASS);
      p.writable.get(v).set(false);
      await("writes to " + v + " finished").atMost(Duration.ofSeconds(30)).until(() -> p.inFlight.get(v).get() == 0);
      long need = h.maxAckedSeq(v);
      String logId = c.node(v).http().status().logId();
      c.awaitStatus(y, "holding " + v + "'s acknowledged writes (seq " + need + " of log " + logId + ")", Duration.ofSeconds(60), s -> {
        Status.Peer pp = s.peer(v);
        return logId.equals(pp.peerLogId()) && pp.watermark() >= need;
      });
      kill(v, "wipe-data-dir");
      h.forgetNode(v);
      ProcessCleanup.deleteTree(c.node(v).spec.dataDir);
      say("wiped " + v + "'s data dir (its acknowledged writes up to seq " + need + " were on " + y + ")");
      restart(v);
      p.writable.get(v).set(true);
    }

    /** Invariant 4 at the crash point: each watermark file of the dead node covers no seq beyond its peer's head. */
    void checkWatermarks(String dead) throws IOException {
      Path dir = c.node(dead).spec.dataDir.resolve(".watermarks");
      if (!Files.isDirectory(dir)) {
        return;
      }
      List<Path> files;
      try (Stream<Path> s = Files.list(dir)) {
        files = s.filter(f -> f.getFileName().toString().endsWith(".json") && !f.getFileName().toString().startsWith("#")).toList();
      }
      for (Path f : files) {
        JsonNode w;
        try {
          w = NodeClient.JSON.readTree(f.toFile());
        } catch (IOException e) {
          continue; // damaged by an earlier fault of ours and not rewritten since
        }
        if (w == null || !w.has("peerId")) {
          continue;
        }
        String peer = w.path("peerId").asText();
        if (!ids.contains(peer) || !c.node(peer).isAlive()) {
          continue;
        }
        Status s = c.node(peer).http().status();
        if (s.logId().equals(w.path("peerLogId").asText()) && w.path("seq").asLong() > s.headSeq()) {
          throw new AssertionError("WATERMARK SAFETY: " + f + " (left by " + dead + " at kill -9) holds seq " + w.path("seq").asLong() + " of " + peer + "'s log " + s.logId() + " whose head is " + s.headSeq() + ": " + w);
        }
      }
    }

    void damageWatermark(String id) throws IOException {
      Path dir = c.node(id).spec.dataDir.resolve(".watermarks");
      if (!Files.isDirectory(dir)) {
        return;
      }
      List<Path> files;
      try (Stream<Path> s = Files.list(dir)) {
        files = s.filter(f -> f.getFileName().toString().endsWith(".json") && !f.getFileName().toString().startsWith("#")).sorted().toList();
      }
      if (files.isEmpty()) {
        return;
      }
      Path f = files.get(random.nextInt(files.size()));
      switch (random.nextInt(3)) {
        case 0 -> {
          byte[] junk = new byte[1 + random.nextInt(64)];
          for (int i = 0; i < junk.length; i++) {
            junk[i] = (byte) random.nextInt(256);
          }
          Files.write(f, junk);
          fault("watermark-corrupted");
          say("corrupted " + f);
        }
        case 1 -> {
          Files.write(f, new byte[0]);
          fault("watermark-emptied");
          say("emptied " + f);
        }
        default -> {
          Files.delete(f);
          fault("watermark-deleted");
          say("deleted " + f);
        }
      }
    }

    /** Every link PASS, every node running (none is paused or down between steps). */
    void heal() {
      for (String[] l : links()) {
        c.proxy(l[0], l[1]).setMode(FaultProxy.Mode.PASS);
      }
      for (String id : ids) {
        if (!c.node(id).isAlive()) {
          restart(id);
        }
        if (Math.abs(p.offsetMs.get(id)) >= MAX_SKEW.toMillis()) {
          throw new IllegalStateException("test bug: " + id + " still has offset " + p.offsetMs.get(id));
        }
      }
      say("healed: all links PASS, all nodes running, offsets " + p.offsetMs);
    }
  }
}
