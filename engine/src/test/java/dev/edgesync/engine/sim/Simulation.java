package dev.edgesync.engine.sim;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.replication.GcSettings;
import dev.edgesync.engine.replication.ReplicationSettings;
import dev.edgesync.engine.storage.ChangeBatch;
import dev.edgesync.engine.storage.GcState;
import dev.edgesync.engine.storage.StoreClosedException;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.engine.transport.inmemory.Network;
import dev.edgesync.watermark.Watermark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.zip.CRC32C;

/**
 * One run of the deterministic simulation for one seed: a cluster of 3 to 5 nodes in full mesh
 * over the in-memory network, a workload of local writes and a fault schedule drawn from the seed,
 * then healing, convergence and the invariants. See {@link SimulationTest} for what is checked
 * and how deterministic it is.
 */
final class Simulation {
  static final String REPLAY_COMMAND = "./mvnw -B -o -pl engine test -Dtest=SimulationTest -Dedgesync.sim.seed=";

  /** Simulated time the cluster gets to converge once every fault is healed. */
  static final long CONVERGE_LIMIT_MILLIS = 120_000;
  /** The longest time to live a put of the run carries (some expire during the run, all before its end). */
  static final int MAX_TTL_MILLIS = 15_000;

  /** Simulated time the peers of a node far ahead get to refuse its writes (and count it). */
  static final long REFUSAL_LIMIT_MILLIS = 20_000;

  enum Fault {
    PARTITION,
    ISOLATE,
    ONE_WAY,
    DELAY,
    BLACKHOLE,
    RESET,
    CRASH,
    CLOCK_STEP,
    CLOCK_AHEAD,
    /** A node drops one of its peers at run time (setPeers) and adds it back later. */
    REWIRE,
    /** A node is killed, its data dir wiped, and it starts again empty (small-skew seeds). */
    WIPE,
    /** A node is killed and its data dir replaced by an older backup of it (small-skew seeds). */
    RESTORE
  }

  enum Outcome {
    /** The write's future succeeded and the client saw it. */
    ACKED,
    /** The client does not know: its node crashed before it answered (it may or may not apply). */
    UNKNOWN,
    /** The write was refused for certain (a limit, a failed store): it must never show. */
    FAILED
  }

  /** One write of the history. {@code committed} is the truth the harness knows, not the client. */
  static final class Write {
    final int id;
    final String node;
    final String key;
    final String value; // null: a delete
    final long ttlMillis; // 0: the value does not expire
    CompletableFuture<WriteResult> future;
    Outcome outcome;
    // Committed, but held by no node that was up when the only node holding it was wiped or
    // restored from an older copy: it may be gone (a down node or a batch in flight may still
    // bring it back).
    boolean mayBeLost;
    Version committed; // the version, when the store committed it (whatever the client saw)
    boolean ahead; // committed with a timestamp beyond what any clock within skew reads

    Write(int id, String node, String key, String value, long ttlMillis) {
      this.id = id;
      this.node = node;
      this.key = key;
      this.value = value;
      this.ttlMillis = ttlMillis;
    }

    /** The HLC at which the committed value expires; 0 for one that does not. */
    long expiresHlc() {
      return committed == null ? 0 : StoredEntry.expiryOf(committed.hlc(), ttlMillis);
    }

    @Override
    public String toString() {
      return "write#" + id + " " + (value == null ? "del " + key : "put " + key + "=" + value)
          + (ttlMillis > 0 ? " ttl " + ttlMillis + " ms" : "") + " on " + node + " "
          + outcome + (committed == null ? "" : " " + committed);
    }
  }

  /** What one run did, for the totals. */
  static final class Stats {
    long seed;
    int nodes;
    int steps;
    boolean levelDb;
    long maxClockSkewMillis;
    final Map<Fault, Integer> faults = new TreeMap<>();
    int writes;
    int ttlWrites;
    int acked;
    int unknown;
    int failed;
    int crashes;
    double refusals;
    long convergeMillis;
    long simMillis;
    long tasks;
    long trace;
    long purged;
    int mayBeLost;
    int staleWipes;

    int totalFaults() {
      return faults.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  private record ActiveFault(int healAtStep, String what, Runnable heal) {}

  private final long seed;
  private final SplittableRandom random;
  private final SimLoop loop;
  private final Network network;
  private final List<SimNode> nodes = new ArrayList<>();
  private final List<String> ids = new ArrayList<>();
  private final Map<String, SimNode> byId = new HashMap<>();
  private final long skewMillis;
  private final GcSettings gc;
  // Who subscribes to whom: a full mesh, a chain (each node pulls from its neighbours, so every
  // write is relayed) or a star (every node pulls from the hub n0, which pulls from all).
  private final String topology;
  // Per node and key, the highest version the node was seen to hold (tombstones included): a node
  // never goes back to an older version, and a value never vanishes (only a tombstone may go).
  private final Map<String, Map<String, StoredEntry>> highestSeen = new HashMap<>();
  // Per node and key, the version the node was last seen to read as expired.
  private final Map<String, Map<String, Version>> expiredSeen = new HashMap<>();
  private final long withinMillis;
  private final int keyCount;
  private final int stepCount;
  private final int faultPercent;
  private final List<Write> writes = new ArrayList<>();
  private final List<ActiveFault> active = new ArrayList<>();
  private final Map<String, Integer> restartAt = new LinkedHashMap<>();
  private final boolean smallSkew;
  // Per node, since when (simulated ms) it has looked stale to a peer, for wipeStaleNodes.
  private final Map<String, Long> staleSince = new HashMap<>();
  // Per node, the peers a REWIRE fault removed from its list for now.
  private final Map<String, java.util.Set<String>> removedPeers = new HashMap<>();
  private final Map<String, Long> hlcSeen = new HashMap<>();
  private final Map<String, Version> lastLocal = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  private final CRC32C trace = new CRC32C();
  private final Stats stats = new Stats();
  private String rogue; // the node whose clock was set far ahead, if any
  private int step;

  Simulation(long seed, Path root) {
    this.seed = seed;
    this.random = new SplittableRandom(seed);
    int[] settle = {100, 60, 25};
    this.loop = new SimLoop(random.split(), settle[random.nextInt(settle.length)]);
    this.network = new Network(loop.view("network"));
    int n = 3 + random.nextInt(3);
    // One seed in four runs with a small maximum clock skew, so that gc.minAge can respect its
    // rule (at least 2 x maxClockSkew) and still collect within the run: those seeds also wipe
    // nodes and restore them from backups, whose safety rests on that rule.
    int skewClass = random.nextInt(4);
    this.smallSkew = skewClass == 1;
    this.skewMillis = skewClass == 0 ? 600_000 : smallSkew ? 1_500 : 60_000;
    // Clocks within skew stay within +-(skew/2 - a margin) of the true time: then no two clocks,
    // and no timestamp issued by one, are more than the skew apart, and nothing may be refused.
    this.withinMillis = smallSkew ? skewMillis / 2 - 100 : skewMillis / 2 - 1_000;
    this.keyCount = 4 + random.nextInt(40);
    this.stepCount = 60 + random.nextInt(60);
    this.faultPercent = 15 + random.nextInt(20);
    boolean levelDb = random.nextInt(20) == 0 && !smallSkew;
    int batchMaxEntries = 1 + random.nextInt(random.nextBoolean() ? 8 : 200);
    int groupMax = 1 + random.nextInt(random.nextBoolean() ? 4 : 4096);
    // Tombstones are collected as soon as stability allows (a short minimum age, so that purges
    // happen within a run), in small rounds: the no-resurrection check runs after every step.
    this.gc =
        new GcSettings(
            Duration.ofMillis(100 + random.nextInt(900)),
            Duration.ofMillis(smallSkew ? 2 * skewMillis + random.nextInt(2_000) : random.nextInt(3_000)),
            1 + random.nextInt(random.nextBoolean() ? 4 : 500),
            true);
    int shape = random.nextInt(10);
    this.topology = shape < 6 ? "mesh" : shape < 8 ? "chain" : "star";
    stats.seed = seed;
    stats.nodes = n;
    stats.steps = stepCount;
    stats.levelDb = levelDb;
    stats.maxClockSkewMillis = skewMillis;
    for (int i = 0; i < n; i++) {
      String id = "n" + i;
      ReplicationSettings settings =
          ReplicationSettings.defaults(id, "sim")
              .withListen(id, SimNode.PORT)
              .withHeartbeat(Duration.ofMillis(100), Duration.ofMillis(1_000))
              .withReconnect(Duration.ofMillis(20), Duration.ofMillis(1_000))
              .withBatch(batchMaxEntries, Defaults.BATCH_MAX_BYTES)
              .withGc(gc);
      SimNode node =
          new SimNode(
              id, root.resolve(id), loop, network, levelDb, Duration.ofMillis(skewMillis), settings, groupMax,
              random.nextLong());
      node.clock.setOffsetMillis(random.nextLong(-withinMillis / 4, withinMillis / 4 + 1));
      nodes.add(node);
      ids.add(id);
      byId.put(id, node);
    }
  }

  /** Runs the seed; throws {@link AssertionError} naming the seed and the replay command. */
  Stats run() {
    try {
      for (SimNode node : nodes) {
        startNode(node);
      }
      for (step = 0; step < stepCount; step++) {
        step();
      }
      finish();
      List<String> escaped = loop.failures();
      if (!escaped.isEmpty()) {
        violations.add(escaped.size() + " exception(s) escaped engine tasks; first: " + escaped.get(0));
      }
      if (!violations.isEmpty()) {
        throw new AssertionError(violations.size() + " invariant violation(s):\n  " + String.join("\n  ", violations));
      }
      stats.simMillis = loop.nowMillis();
      stats.tasks = loop.tasksRun();
      stats.trace = trace.getValue();
      return stats;
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(
          "simulation seed " + seed + " failed at step " + step + " (sim time " + loop.nowMillis() + " ms, "
              + describe() + "): " + e.getMessage() + "\n  replay: " + REPLAY_COMMAND + seed,
          e);
    } finally {
      for (SimNode node : nodes) {
        if (node.up()) {
          try {
            node.crash();
          } catch (RuntimeException e) {
            // Teardown of a run that already failed: its first error is the one to read.
          }
        }
      }
    }
  }

  String describe() {
    return stats.nodes + " nodes in a " + topology + ", " + (stats.levelDb ? "LevelDB" : "memory") + ", maxClockSkew "
        + skewMillis / 1000 + " s, " + keyCount + " keys, " + stepCount + " steps";
  }

  // ------------------------------------------------------------------ the schedule

  private void step() {
    loop.advance(1 + random.nextInt(300));
    healDue();
    if (random.nextInt(100) < 70) {
      SimNode writer = randomUp();
      burst(writer, 1 + random.nextInt(8));
      loop.runUntilQuiet();
      record();
    }
    if (smallSkew && random.nextInt(100) < 8) {
      randomUp().backup(); // a backup a RESTORE may bring back later
    }
    if (random.nextInt(100) < faultPercent) {
      inject();
    }
    sampleHlc();
    checkNoResurrection();
    traceState();
  }

  /**
   * No resurrection, no loss, on every node that is up: the version a node holds for a key never
   * goes back, a key only ever disappears when its newest version there was a tombstone or a value
   * expired before the purge horizon (it was collected), and a value once read as expired never
   * reads as live again.
   */
  private void checkNoResurrection() {
    for (SimNode node : nodes) {
      if (!node.up()) {
        continue;
      }
      Map<String, StoredEntry> seen = highestSeen.computeIfAbsent(node.id, x -> new HashMap<>());
      Map<String, Version> expired = expiredSeen.computeIfAbsent(node.id, x -> new HashMap<>());
      long readAt = node.store.readTime();
      for (int k = 0; k < keyCount; k++) {
        String key = "k" + k;
        Optional<StoredEntry> now = node.store.get(bytes(key));
        StoredEntry before = seen.get(key);
        if (now.isPresent() && !now.get().tombstone()) {
          Version v = now.get().version();
          if (now.get().expiredAt(readAt)) {
            expired.put(key, v);
          } else if (v.equals(expired.get(key))) {
            violations.add(node.id + " reads " + key + " " + show(now) + " as live again after it read it as expired");
          }
        }
        if (now.isPresent()) {
          if (before != null && now.get().version().compareTo(before.version()) < 0) {
            violations.add(
                node.id + " went back on " + key + ": it held " + show(Optional.of(before)) + " and now holds "
                    + show(now) + (before.tombstone() ? " (RESURRECTED after its delete)" : ""));
          }
          if (before == null || now.get().version().compareTo(before.version()) > 0) {
            seen.put(key, now.get());
          }
        } else if (before != null
            && !before.tombstone()
            && !(before.expires() && before.expiresHlc() < node.store.gcState().purgeHorizon())
            && !deletedAfter(key, before.version())) {
          // Between two looks a node may receive a newer delete (or expiring put) and collect it;
          // anything else is a loss.
          violations.add(node.id + " lost " + key + ": it held " + show(Optional.of(before)) + " and now holds nothing");
        }
      }
    }
  }

  /** Whether a delete or an expiring put of {@code key} newer than {@code version} was committed somewhere. */
  private boolean deletedAfter(String key, Version version) {
    for (Write w : writes) {
      if (w.key.equals(key) && (w.value == null || w.ttlMillis > 0) && w.committed != null && w.committed.isAfter(version)) {
        return true;
      }
    }
    return false;
  }

  private void inject() {
    Fault f = pickFault();
    if (f == null) {
      return;
    }
    int heal = step + 2 + random.nextInt(12);
    switch (f) {
      case PARTITION -> {
        List<String> shuffled = shuffledIds();
        int cut = 1 + random.nextInt(shuffled.size() - 1);
        List<String> a = shuffled.subList(0, cut);
        List<String> b = shuffled.subList(cut, shuffled.size());
        for (String x : a) {
          for (String y : b) {
            network.partition(x, y);
          }
        }
        active.add(
            new ActiveFault(heal, "partition " + a + " | " + b, () -> {
              for (String x : a) {
                for (String y : b) {
                  network.unpartition(x, y);
                }
              }
            }));
      }
      case ISOLATE -> {
        String x = randomId();
        network.isolate(x);
        active.add(new ActiveFault(heal, "isolate " + x, () -> network.heal(x)));
      }
      case ONE_WAY -> {
        List<String> s = shuffledIds();
        String from = s.get(0);
        String to = s.get(1);
        network.dropOneWay(from, to, true);
        active.add(new ActiveFault(heal, "drop " + from + "->" + to, () -> network.dropOneWay(from, to, false)));
      }
      case DELAY -> {
        // Different delays on each outgoing link of one node reorder its messages across links.
        String from = randomId();
        for (String to : ids) {
          if (!to.equals(from)) {
            network.delay(from, to, Duration.ofMillis(1 + random.nextInt(random.nextBoolean() ? 50 : 800)));
          }
        }
        active.add(
            new ActiveFault(heal, "delay from " + from, () -> {
              for (String to : ids) {
                if (!to.equals(from)) {
                  network.delay(from, to, Duration.ZERO);
                }
              }
            }));
      }
      case BLACKHOLE -> {
        String x = randomId();
        network.blackhole(x, true);
        active.add(new ActiveFault(heal, "blackhole " + x, () -> network.blackhole(x, false)));
      }
      case RESET -> network.reset(randomId());
      case CRASH -> crashSomeNode();
      case CLOCK_STEP -> {
        SimNode node = nodes.get(random.nextInt(nodes.size()));
        if (node.id.equals(rogue) && node.clock.offsetMillis() > withinMillis) {
          return; // its correction is scheduled
        }
        long stepMillis = 4L << random.nextInt(17); // 4 ms .. 262 s
        long offset = node.clock.offsetMillis() + (random.nextBoolean() ? stepMillis : -stepMillis);
        node.clock.setOffsetMillis(Math.max(-withinMillis, Math.min(withinMillis, offset)));
      }
      case CLOCK_AHEAD -> clockFarAhead(heal);
      case WIPE -> crashSomeNode(randomUp(), SimNode::wipe);
      case RESTORE -> {
        List<SimNode> withBackup = nodes.stream().filter(x -> x.up() && x.hasBackup()).toList();
        if (withBackup.isEmpty()) {
          return;
        }
        crashSomeNode(withBackup.get(random.nextInt(withBackup.size())), SimNode::restoreBackup);
      }
      case REWIRE -> {
        String x = randomId();
        List<String> candidates = peersOf(x).stream().filter(p -> !p.equals(x)).toList();
        if (candidates.isEmpty()) {
          return;
        }
        String dropped = candidates.get(random.nextInt(candidates.size()));
        removedPeers.computeIfAbsent(x, k -> new java.util.TreeSet<>()).add(dropped);
        applyPeers(x);
        active.add(
            new ActiveFault(heal, x + " drops peer " + dropped, () -> {
              removedPeers.get(x).remove(dropped);
              applyPeers(x);
            }));
      }
    }
    stats.faults.merge(f, 1, Integer::sum);
  }

  private Fault pickFault() {
    int[] weights = {12, 10, 10, 10, 8, 10, 14, 20, rogue == null ? 4 : 0, 8, smallSkew ? 5 : 0, smallSkew ? 6 : 0};
    int total = Arrays.stream(weights).sum();
    int r = random.nextInt(total);
    for (int i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) {
        Fault f = Fault.values()[i];
        if ((f == Fault.CRASH || f == Fault.WIPE || f == Fault.RESTORE) && upCount() <= 2) {
          return null;
        }
        return f;
      }
    }
    throw new IllegalStateException();
  }

  /**
   * Kills a node in the middle of things: a burst of writes (on it or another node) is submitted,
   * a random number of the loop's tasks run (commits, batches, acks, watermark writes), then the
   * node dies with the rest of its work. Some of its acknowledged writes are recorded as
   * unknown, as if the reply was lost with the process.
   */
  private void crashSomeNode() {
    crashSomeNode(randomUp(), null);
  }

  /**
   * As {@link #crashSomeNode()}; {@code disk}, when not null, then acts on the victim's disk while
   * it is down (a wipe, a restore from a backup): the writes only it held may be gone, and what
   * the harness saw on it before no longer binds it.
   */
  private void crashSomeNode(SimNode victim, java.util.function.Consumer<SimNode> disk) {
    SimNode writer = random.nextBoolean() ? victim : randomUp();
    burst(writer, 1 + random.nextInt(6));
    int tasks = random.nextInt(-1, 300);
    if (tasks >= 0) {
      loop.runSome(tasks);
    }
    victim.crash();
    stats.crashes++;
    loop.runUntilQuiet();
    for (Write w : pending) {
      if (w.node.equals(victim.id) && w.future.isDone() && !w.future.isCompletedExceptionally() && random.nextBoolean()) {
        w.outcome = Outcome.UNKNOWN; // the reply died with the process
      }
    }
    record();
    if (disk != null) {
      disk.accept(victim);
      forgetWhatOnlyItHeld(victim);
    }
    restartAt.put(victim.id, step + 1 + random.nextInt(8));
  }

  /** After a wipe or a restore of {@code victim}: its writes no other node up holds may be lost. */
  private void forgetWhatOnlyItHeld(SimNode victim) {
    for (Write w : writes) {
      if (w.committed == null || w.mayBeLost) {
        continue;
      }
      boolean heldElsewhere = false;
      for (SimNode n : nodes) {
        if (n != victim && n.up()) {
          Optional<StoredEntry> e = n.store.get(bytes(w.key));
          heldElsewhere |= e.isPresent() && e.get().version().compareTo(w.committed) >= 0;
        }
      }
      if (!heldElsewhere) {
        w.mayBeLost = true;
        stats.mayBeLost++;
      }
    }
    highestSeen.remove(victim.id);
    expiredSeen.remove(victim.id);
    hlcSeen.remove(victim.id);
    lastLocal.remove(victim.id);
  }

  /**
   * Sets one node's clock far beyond the skew limit, makes it write, and schedules the correction.
   * Its peers must refuse those writes (and count it) as long as their clocks are behind; the
   * node's HLC stays ahead after the correction, so its later writes are ahead too.
   */
  private void clockFarAhead(int heal) {
    SimNode node = randomUp();
    rogue = node.id;
    long beyond = 4L << random.nextInt(17);
    node.clock.setOffsetMillis(skewMillis + skewMillis / 2 + beyond);
    burst(node, 1 + random.nextInt(6));
    loop.runUntilQuiet();
    record();
    active.add(
        new ActiveFault(
            heal,
            "clock of " + node.id + " far ahead",
            () -> node.clock.setOffsetMillis(random.nextLong(-withinMillis, withinMillis + 1))));
  }

  private void healDue() {
    for (ActiveFault f : List.copyOf(active)) {
      if (f.healAtStep <= step) {
        f.heal.run();
        active.remove(f);
      }
    }
    for (Map.Entry<String, Integer> e : List.copyOf(restartAt.entrySet())) {
      if (e.getValue() <= step) {
        restartAt.remove(e.getKey());
        startNode(byId.get(e.getKey()));
      }
    }
  }

  // ------------------------------------------------------------------ writes and history

  private final List<Write> pending = new ArrayList<>();

  private void burst(SimNode node, int count) {
    for (int i = 0; i < count; i++) {
      int id = writes.size();
      String key = "k" + random.nextInt(keyCount);
      String value = random.nextInt(100) < 15 ? null : "v" + id + "@" + node.id;
      // Some puts expire, within the run: every node must hide them at their expiry and collect them.
      long ttl = value != null && random.nextInt(100) < 20 ? 200 + random.nextInt(MAX_TTL_MILLIS - 200) : 0;
      Write w = new Write(id, node.id, key, value, ttl);
      w.future = node.store.submitLocal(bytes(key), value == null ? null : bytes(value), null, ttl);
      writes.add(w);
      pending.add(w);
    }
  }

  /** Records the outcome of every pending write; all are complete once the loop is quiet. */
  private void record() {
    for (Write w : pending) {
      if (!w.future.isDone()) {
        violations.add(w + ": its future is still pending although its node's writer is quiet");
        continue;
      }
      try {
        WriteResult r = w.future.get();
        w.committed = r.version();
        w.ahead = Hlc.physicalMillis(r.version().hlc()) > SimClock.trueMillis(loop) + withinMillis;
        Version last = lastLocal.get(w.node);
        if (last != null && !r.version().isAfter(last)) {
          violations.add(w + ": its version is not after " + last + ", the node's previous local version (HLC went back)");
        }
        lastLocal.put(w.node, r.version());
        if (w.outcome == null) {
          w.outcome = Outcome.ACKED;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause() instanceof CompletionException ce ? ce.getCause() : e.getCause();
        w.outcome = cause instanceof StoreClosedException ? Outcome.UNKNOWN : Outcome.FAILED;
      }
      switch (w.outcome) {
        case ACKED -> stats.acked++;
        case UNKNOWN -> stats.unknown++;
        case FAILED -> stats.failed++;
      }
    }
    stats.writes += pending.size();
    stats.ttlWrites += (int) pending.stream().filter(w -> w.ttlMillis > 0).count();
    pending.clear();
  }

  // ------------------------------------------------------------------ nodes

  /** The peers {@code id} subscribes to in this run's topology. */
  /** The peers {@code id} subscribes to now: its topology's, less those a REWIRE fault removed. */
  private List<String> currentPeersOf(String id) {
    java.util.Set<String> removed = removedPeers.getOrDefault(id, java.util.Set.of());
    return peersOf(id).stream().filter(p -> !removed.contains(p)).toList();
  }

  /** Tells a running node its current peers (a node that is down gets them when it starts). */
  private void applyPeers(String id) {
    SimNode node = byId.get(id);
    if (node.up()) {
      node.setPeers(currentPeersOf(id));
    }
  }

  private List<String> peersOf(String id) {
    int i = ids.indexOf(id);
    return switch (topology) {
      case "chain" -> ids.stream().filter(p -> Math.abs(ids.indexOf(p) - i) == 1).toList();
      case "star" -> i == 0 ? ids : List.of(ids.get(0));
      default -> ids;
    };
  }

  private void startNode(SimNode node) {
    node.start(currentPeersOf(node.id));
    // The node's state is what its disk held at the crash (nothing ran since): its watermarks
    // must not claim anything it does not hold.
    checkWatermarks(node, "restart #" + node.incarnation());
    node.store.addCommitListener(
        (stored, origin, head) -> {
          if (origin == null) {
            return;
          }
          long wall = node.clock.millis();
          for (StoredEntry e : stored) {
            long ahead = Hlc.physicalMillis(e.version().hlc()) - wall;
            if (ahead > skewMillis) {
              violations.add(
                  node.id + " applied " + e.version() + " from " + origin + " although it is " + ahead
                      + " ms ahead of its clock (maxClockSkew " + skewMillis + " ms)");
            }
          }
        });
    Long seen = hlcSeen.get(node.id);
    if (seen != null && node.store.clock().current() < seen) {
      violations.add(
          node.id + " restarted with HLC " + Hlc.format(node.store.clock().current()) + " below "
              + Hlc.format(seen) + ", seen before its crash");
    }
  }

  private void sampleHlc() {
    for (SimNode node : nodes) {
      if (!node.up()) {
        continue;
      }
      long now = node.store.clock().current();
      Long before = hlcSeen.put(node.id, now);
      if (before != null && now < before) {
        violations.add(node.id + " HLC went back from " + Hlc.format(before) + " to " + Hlc.format(now));
      }
    }
  }

  /**
   * Watermark safety: for every peer whose log the watermark names, every entry of the peer's
   * change log at or below the watermark's seq is held here, at that version or a later one.
   * (The peer's log only loses rows below its head, when a key gets a newer version with a
   * higher seq, so checking against its current log is sound.)
   */
  private void checkWatermarks(SimNode node, String when) {
    for (SimNode peer : nodes) {
      if (peer == node || !peer.up()) {
        continue;
      }
      Watermark wm = node.watermarks.read(peer.id);
      if (wm.isZero() || !wm.peerLogId().equals(peer.store.logId())) {
        continue;
      }
      if (!wm.peerEpoch().isEmpty() && !wm.peerEpoch().equals(peer.store.epochOf(wm.seq()))) {
        continue; // the peer was restored from an older copy: this node streams from 0 again
      }
      if (wm.seq() > peer.store.headSeq()) {
        violations.add(
            "at " + when + " of " + node.id + ": its watermark for " + peer.id + " is at seq " + wm.seq()
                + " but the peer's head is " + peer.store.headSeq());
        continue;
      }
      long after = 0;
      scan:
      while (after < wm.seq()) {
        ChangeBatch b = peer.store.readChanges(after, 1000, Long.MAX_VALUE);
        for (StoredEntry e : b.entries()) {
          if (e.seq() > wm.seq()) {
            break scan;
          }
          Optional<StoredEntry> mine = node.store.get(e.key());
          long horizon = node.store.gcState().purgeHorizon();
          boolean collected =
              mine.isEmpty() && (e.tombstone() || e.expiresHlc() < horizon) && e.version().hlc() < horizon;
          if (!collected && (mine.isEmpty() || mine.get().version().compareTo(e.version()) < 0)) {
            violations.add(
                "at " + when + " of " + node.id + ": its watermark for " + peer.id + " (seq " + wm.seq()
                    + ") covers the peer's seq " + e.seq() + " (" + str(e.key()) + " " + e.version() + ") but "
                    + node.id + " holds " + mine.map(m -> m.version().toString()).orElse("nothing"));
          }
        }
        if (b.lastSeq() <= after) {
          break;
        }
        after = b.lastSeq();
      }
    }
  }

  // ------------------------------------------------------------------ the end

  private void finish() {
    // Heal everything, bring every node back, put every clock back within skew.
    for (ActiveFault f : List.copyOf(active)) {
      f.heal.run();
    }
    active.clear();
    network.healAll();
    for (String id : List.copyOf(restartAt.keySet())) {
      restartAt.remove(id);
      startNode(byId.get(id));
    }
    for (SimNode node : nodes) {
      long offset = node.clock.offsetMillis();
      if (offset > withinMillis || offset < -withinMillis) {
        node.clock.setOffsetMillis(random.nextLong(-withinMillis, withinMillis + 1));
      }
    }
    loop.advance(10);

    // Writes made with a timestamp beyond the skew stay refused until the peers' clocks reach
    // them: check that they were refused and counted, then let the clocks catch up.
    // Refusals are owed only for writes that surely exist; the clocks catch up with every write
    // made ahead, also one that only a wiped or restored node held and that may have survived.
    long aheadMax = writes.stream().filter(w -> w.ahead && !w.mayBeLost).mapToLong(w -> Hlc.physicalMillis(w.committed.hlc())).max().orElse(0);
    long aheadMaxAll = writes.stream().filter(w -> w.ahead).mapToLong(w -> Hlc.physicalMillis(w.committed.hlc())).max().orElse(0);
    if (aheadMax > 0) {
      awaitRefusals(aheadMax);
    }
    if (aheadMaxAll > 0) {
      long slowest = nodes.stream().mapToLong(n -> n.clock.millis()).min().orElseThrow();
      long catchUp = aheadMaxAll - skewMillis - slowest + 1_000;
      if (catchUp > 0) {
        loop.jump(catchUp);
      }
    }

    long start = loop.nowMillis();
    while (!converged()) {
      wipeStaleNodes();
      if (loop.nowMillis() - start > CONVERGE_LIMIT_MILLIS) {
        StringBuilder sb = new StringBuilder("no convergence within " + CONVERGE_LIMIT_MILLIS + " ms of simulated time:");
        for (SimNode n : nodes) {
          sb.append("\n    ").append(n.id).append(" head ").append(n.store.headSeq()).append(" digest ")
              .append(n.store.digest().toHex()).append(" peers ").append(n.engine.peerStatuses());
        }
        throw new AssertionError(sb.toString());
      }
      loop.advance(50);
    }
    stats.convergeMillis = loop.nowMillis() - start;
    sampleHlc();
    checkNoResurrection();
    checkContents();
    checkOracle();
    collectEveryTombstone();
    checkNoResurrection();
    checkContents();
    checkOracle();
    for (SimNode node : nodes) {
      checkWatermarks(node, "the end");
      if (!node.store.recomputeDigest().equals(node.store.digest())) {
        violations.add(node.id + "'s maintained digest differs from the one recomputed from its state");
      }
      stats.refusals += node.clockSkewRefusals();
    }
    traceState();
  }

  /**
   * With every node up and connected, tombstone collection must reach every tombstone: the
   * horizon passes the newest delete within a few rounds. Then every node holds no tombstone, the
   * digests are still equal, and the oracle still holds (a key whose newest write is a delete is
   * absent everywhere).
   */
  private void collectEveryTombstone() {
    long start = loop.nowMillis();
    // Time is HLC time: after a clock far ahead, the HLCs stay ahead of the wall clocks, and the
    // horizon (the lowest stable time, less gc.minAge) passes the newest tombstone only once the
    // wall clocks have caught up with it.
    long hlcAhead =
        nodes.stream().mapToLong(n -> Hlc.physicalMillis(n.store.clock().current())).max().orElseThrow()
            - nodes.stream().mapToLong(n -> n.clock.millis()).min().orElseThrow();
    long limit = 60_000 + MAX_TTL_MILLIS + gc.minAge().toMillis() + gc.quantumMillis() + Math.max(0, hlcAhead);
    while (nodes.stream().anyMatch(n -> n.store.gcState().tombstones() > 0 || n.store.gcState().expiring() > 0)) {
      // A wiped node that lost a link while it re-synced, before its first stable time, is refused
      // as stale when it reconnects (a known limitation, see docs/RELIABILITY.md): the operator
      // wipes it again.
      wipeStaleNodes();
      if (loop.nowMillis() - start > limit) {
        StringBuilder sb =
            new StringBuilder("tombstones or expired values not collected within " + limit + " ms of simulated time:");
        for (SimNode n : nodes) {
          sb.append("\n    ").append(n.id).append(' ').append(n.store.gcState()).append(' ').append(n.engine.gcStatus());
        }
        violations.add(sb.toString());
        return;
      }
      loop.advance(200);
    }
    stats.purged = nodes.stream().mapToLong(n -> n.store.gcState().purgedTotal()).sum();
    if (!converged()) {
      violations.add("digests differ after every tombstone was collected");
    }
  }

  private void awaitRefusals(long aheadMax) {
    long start = loop.nowMillis();
    while (true) {
      List<String> missing = new ArrayList<>();
      for (SimNode n : nodes) {
        // Only the nodes that pull from the rogue see its writes (in a chain or a star, the others
        // get them relayed once the relays accept them).
        // Nor does a node that refuses the rogue, or is refused by it, as stale (a wipe or a restore
        // from an old backup; the operator's wipe comes after).
        SimNode r = byId.get(rogue);
        boolean staleLink = n.up() && r.up() && (staleTo(r, n) || staleTo(n, r));
        if (!n.id.equals(rogue) && peersOf(n.id).contains(rogue) && aheadMax - n.clock.millis() > skewMillis + 1_000
            && n.clockSkewRefusals() == 0 && !staleLink) {
          missing.add(n.id);
        }
      }
      if (missing.isEmpty()) {
        return;
      }
      if (loop.nowMillis() - start > REFUSAL_LIMIT_MILLIS) {
        violations.add(
            "nodes " + missing + " never refused (counted errors{kind=clock_skew}) the writes of " + rogue
                + " made " + (aheadMax - SimClock.trueMillis(loop)) + " ms ahead");
        return;
      }
      loop.advance(100);
    }
  }

  /**
   * A node restored from a copy older than what a peer collected is refused by that peer, by design
   * ("move its data dir aside"): the operator's fix, done here, is a wipe, and the node re-syncs.
   * So is, today, a wiped node that reconnects after receiving old versions and before its first
   * stable time (docs/RELIABILITY.md, "Known limits").
   */
  private void wipeStaleNodes() {
    for (SimNode r : nodes) {
      if (!r.up()) {
        continue;
      }
      boolean looksStale = false;
      for (SimNode p : nodes) {
        if (p == r || !p.up()) {
          continue;
        }
        boolean stale = staleTo(r, p);
        // A node re-syncing looks the same for a few rounds, until its first stable time: only one
        // that stays so for 10 s of simulated time is stuck (refused), and is wiped.
        if (!stale) {
          continue;
        }
        looksStale = true;
        long since = staleSince.computeIfAbsent(r.id, x -> loop.nowMillis());
        if (loop.nowMillis() - since >= 10_000) {
          staleSince.remove(r.id);
          r.crash();
          r.wipe();
          forgetWhatOnlyItHeld(r);
          startNode(r);
          stats.staleWipes++;
        }
        break;
      }
      if (!looksStale) {
        staleSince.remove(r.id);
      }
    }
  }

  /** Whether {@code r}'s data is stale to {@code p}: the engine's own rule (StaleData), on their state now. */
  private static boolean staleTo(SimNode r, SimNode p) {
    GcState mine = r.store.gcState();
    long recorded = p.engine.gcStatus().members().getOrDefault(r.id, 0L);
    return dev.edgesync.engine.replication.core.StaleData.check(
            mine.stableHlc(), mine.oldestHlc(), mine.createdHlc(), recorded > 0, recorded, p.store.gcState().purgeHorizon())
        != null;
  }

  private boolean converged() {
    String digest = nodes.get(0).store.digest().toHex();
    for (SimNode n : nodes) {
      if (!n.store.digest().toHex().equals(digest)) {
        return false;
      }
    }
    return true;
  }

  /** Equal digests, and also equal contents key by key (tombstones included). */
  private void checkContents() {
    for (int k = 0; k < keyCount; k++) {
      byte[] key = bytes("k" + k);
      Optional<StoredEntry> first = nodes.get(0).store.get(key);
      for (SimNode n : nodes) {
        Optional<StoredEntry> e = n.store.get(key);
        if (!sameEntry(first, e)) {
          violations.add(
              "k" + k + " differs: " + nodes.get(0).id + " " + show(first) + " vs " + n.id + " " + show(e)
                  + " (with equal digests)");
        }
      }
    }
  }

  /**
   * Invariants 1 and 2. From the client's view: every acknowledged write is present unless a
   * higher version superseded it, and the final value of each key is the highest version among
   * the acknowledged writes and the unknown-outcome writes that did apply (an unknown write is
   * recognised by its unique value and origin). From the harness's view (it saw every commit):
   * the final version is exactly the highest committed one.
   */
  private void checkOracle() {
    Map<String, List<Write>> byKey = new TreeMap<>();
    for (Write w : writes) {
      byKey.computeIfAbsent(w.key, k -> new ArrayList<>()).add(w);
    }
    SimNode reference = nodes.get(0);
    for (Map.Entry<String, List<Write>> e : byKey.entrySet()) {
      Optional<StoredEntry> fin = reference.store.get(bytes(e.getKey()));
      Write maxAcked = null;
      Write maxCommitted = null;
      for (Write w : e.getValue()) {
        if (w.mayBeLost) {
          continue; // only a wiped or restored node held it: like an unknown outcome
        }
        if (w.outcome == Outcome.ACKED && (maxAcked == null || w.committed.isAfter(maxAcked.committed))) {
          maxAcked = w;
        }
        if (w.committed != null && (maxCommitted == null || w.committed.isAfter(maxCommitted.committed))) {
          maxCommitted = w;
        }
      }
      Write lostMatch = null;
      for (Write w : e.getValue()) {
        if (w.mayBeLost && fin.isPresent() && fin.get().version().equals(w.committed)) {
          lostMatch = w;
        }
      }
      if (lostMatch != null && (maxCommitted == null || lostMatch.committed.isAfter(maxCommitted.committed))) {
        if (!matches(fin.get(), lostMatch)) {
          violations.add("key " + e.getKey() + " has the version of " + lostMatch + " but another value: " + show(fin));
        }
        continue; // a write only the wiped or restored node held survived after all
      }
      boolean collected = false;
      if (fin.isEmpty()) {
        // The newest write that survived is a delete, or a value that expired, and it was
        // collected; it may be one that only a wiped or restored node held, and survived anyway.
        for (Write w : e.getValue()) {
          boolean removes =
              w.value == null || (w.ttlMillis > 0 && w.expiresHlc() < reference.store.gcState().purgeHorizon());
          collected |=
              w.committed != null && removes && (maxCommitted == null || w.committed.compareTo(maxCommitted.committed) >= 0);
        }
      }
      if (collected) {
        continue;
      }
      if (maxAcked != null) {
        if (fin.isEmpty() || fin.get().version().compareTo(maxAcked.committed) < 0) {
          violations.add("LOST acknowledged " + maxAcked + ": final " + show(fin));
          continue;
        }
        if (fin.get().version().equals(maxAcked.committed)) {
          if (!matches(fin.get(), maxAcked)) {
            violations.add("key " + e.getKey() + " has the version of " + maxAcked + " but another value: " + show(fin));
          }
        } else if (!matchesUnknown(fin.get(), e.getValue())) {
          violations.add(
              "key " + e.getKey() + " ends at " + show(fin) + ", above the highest acknowledged " + maxAcked
                  + ", but no unknown-outcome write explains it");
        }
      } else if (fin.isPresent() && !matchesUnknown(fin.get(), e.getValue())) {
        violations.add("key " + e.getKey() + " ends at " + show(fin) + " but no acknowledged or unknown write made it");
      }
      if (maxCommitted == null ? fin.isPresent() : fin.isEmpty() || !fin.get().version().equals(maxCommitted.committed)) {
        violations.add(
            "key " + e.getKey() + " ends at " + show(fin) + " but the highest committed write is " + maxCommitted);
      }
    }
  }

  private static boolean matchesUnknown(StoredEntry fin, List<Write> candidates) {
    for (Write w : candidates) {
      if (w.outcome == Outcome.UNKNOWN && w.node.equals(fin.version().origin()) && matches(fin, w)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(StoredEntry e, Write w) {
    if (w.value == null) {
      return e.tombstone();
    }
    return !e.tombstone()
        && Arrays.equals(e.value(), bytes(w.value))
        && (w.committed == null || e.expiresHlc() == w.expiresHlc());
  }

  // ------------------------------------------------------------------ helpers

  private void traceState() {
    StringBuilder sb = new StringBuilder().append(step).append(':').append(loop.nowMillis());
    for (SimNode n : nodes) {
      sb.append('|').append(n.id);
      if (n.up()) {
        sb.append(':').append(n.store.headSeq()).append(':').append(n.store.digest().toHex());
      }
    }
    trace.update(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  private int upCount() {
    return (int) nodes.stream().filter(SimNode::up).count();
  }

  private SimNode randomUp() {
    List<SimNode> up = nodes.stream().filter(SimNode::up).toList();
    return up.get(random.nextInt(up.size()));
  }

  private String randomId() {
    return ids.get(random.nextInt(ids.size()));
  }

  private List<String> shuffledIds() {
    List<String> s = new ArrayList<>(ids);
    for (int i = s.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      String t = s.get(i);
      s.set(i, s.get(j));
      s.set(j, t);
    }
    return s;
  }

  private static boolean sameEntry(Optional<StoredEntry> a, Optional<StoredEntry> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return a.isEmpty() && b.isEmpty();
    }
    return a.get().version().equals(b.get().version())
        && a.get().tombstone() == b.get().tombstone()
        && a.get().expiresHlc() == b.get().expiresHlc()
        && Arrays.equals(a.get().value(), b.get().value());
  }

  private static String show(Optional<StoredEntry> e) {
    return e.map(
            x -> (x.tombstone() ? "tombstone" : str(x.value())) + " " + x.version()
                + (x.expires() ? " expires " + Hlc.format(x.expiresHlc()) : ""))
        .orElse("absent");
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
