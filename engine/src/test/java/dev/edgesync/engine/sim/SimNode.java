package dev.edgesync.engine.sim;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.replication.ReplicationEngine;
import dev.edgesync.engine.replication.ReplicationSettings;
import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.KeepOpenKvStore;
import dev.edgesync.engine.storage.StoreOptions;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import dev.edgesync.engine.transport.inmemory.InMemoryTransport;
import dev.edgesync.watermark.WatermarkStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * One simulated node: the real {@link GroupCommitStore}, {@link WatermarkStore} and {@link
 * ReplicationEngine}, wired to the simulation's loop (executors, scheduler), its clock and its
 * in-memory network. Its "disk" (the key-value store and the watermark directory) outlives
 * {@link #crash()}, so {@link #start} after a crash is a process restart over the same data.
 */
final class SimNode {
  static final int PORT = 7400;

  final String id;
  final Path dir;
  final SimClock clock;
  final MeterRegistry registry = new SimpleMeterRegistry();
  private final SimLoop loop;
  private final InMemoryTransport.Network network;
  private final boolean levelDb;
  private final KvStore memoryDisk = new MemoryKvStore();
  private final Duration maxClockSkew;
  private final ReplicationSettings settings;
  private final int groupCommitMaxEntries;
  private final long seed;
  private int incarnation;

  GroupCommitStore store;
  private SimWriterGate writerGate;
  WatermarkStore watermarks;
  ReplicationEngine engine;
  private SimLoop.View transportView;
  private SimLoop.View ioView;
  private SimLoop.View schedulerView;

  SimNode(
      String id,
      Path dir,
      SimLoop loop,
      InMemoryTransport.Network network,
      boolean levelDb,
      Duration maxClockSkew,
      ReplicationSettings settings,
      int groupCommitMaxEntries,
      long seed) {
    this.id = id;
    this.dir = dir;
    this.loop = loop;
    this.network = network;
    this.levelDb = levelDb;
    this.maxClockSkew = maxClockSkew;
    this.settings = settings;
    this.groupCommitMaxEntries = groupCommitMaxEntries;
    this.seed = seed;
    this.clock = new SimClock(loop);
  }

  boolean up() {
    return engine != null;
  }

  int incarnation() {
    return incarnation;
  }

  /** Starts (or restarts) the node over its disk and subscribes to {@code peers}. */
  void start(List<String> peers) {
    incarnation++;
    KvStore kv = levelDb ? LevelDbKvStore.open(dir.resolve("db")) : new KeepOpenKvStore(memoryDisk);
    StoreOptions options =
        new StoreOptions(
            id, true, 1024, 64 * 1024, 10_000, groupCommitMaxEntries, 100_000, clock, maxClockSkew, null);
    EngineMetrics metrics = new EngineMetrics(registry);
    writerGate = new SimWriterGate();
    store = GroupCommitStore.open(kv, dir.resolve("db").toString(), options, metrics, writerGate);
    loop.register(writerGate);
    watermarks = WatermarkStore.open(dir, Clock.systemUTC());
    String tag = id + "#" + incarnation;
    transportView = loop.view(tag + "/transport");
    ioView = loop.view(tag + "/io");
    schedulerView = loop.view(tag + "/scheduler");
    engine =
        new ReplicationEngine(
            store,
            watermarks,
            settings,
            network.transport(id, transportView),
            metrics,
            clock,
            schedulerView,
            seed * 31 + incarnation,
            ioView);
    engine.start();
    for (String p : peers) {
      if (!p.equals(id)) {
        engine.addPeer(new PeerSpec(p, p, PORT));
      }
    }
  }

  /**
   * Kills the node between two tasks of the loop: its queued callbacks, I/O and timers are
   * dropped, writes queued in its store fail uncommitted, nothing is flushed.
   */
  void crash() {
    transportView.shutdownNow();
    ioView.shutdownNow();
    schedulerView.shutdownNow();
    engine.crash();
    loop.unregister(writerGate);
    writerGate.crash();
    store.close(); // after crash(): what is still queued fails uncommitted
    watermarks.close();
    engine = null;
    store = null;
    writerGate = null;
    watermarks = null;
  }

  /** Remote batches this node refused for a timestamp too far ahead, over all peers. */
  double clockSkewRefusals() {
    return registry.find("edgesync.replication.errors").tag("kind", "clock_skew").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  @Override
  public String toString() {
    return id;
  }
}
