package dev.edgesync.engine.sim;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.NodeRuntime;
import dev.edgesync.engine.config.Defaults;
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
import dev.edgesync.engine.transport.inmemory.Network;
import dev.edgesync.watermark.WatermarkStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One simulated node: the real {@link GroupCommitStore}, {@link WatermarkStore} and {@link
 * ReplicationEngine}, wired by the node's own {@link NodeRuntime} to the simulation's loop
 * (executors, scheduler), its clock and its in-memory network. Its "disk" (the key-value store and the watermark directory) outlives
 * {@link #crash()}, so {@link #start} after a crash is a process restart over the same data.
 */
final class SimNode {
  static final int PORT = 7400;

  final String id;
  final Path dir;
  final SimClock clock;
  final MeterRegistry registry = new SimpleMeterRegistry();
  private final SimLoop loop;
  private final Network network;
  private final boolean levelDb;
  private MemoryKvStore memoryDisk = new MemoryKvStore();
  // A copy of the disk (database and watermarks) taken while the node ran, for RESTORE.
  private MemoryKvStore backupDisk;
  private java.util.Map<String, byte[]> backupWatermarks;
  private final Duration maxClockSkew;
  private final ReplicationSettings settings;
  private final int groupCommitMaxEntries;
  private final long seed;
  private int incarnation;

  GroupCommitStore store;
  private SimWriterGate writerGate;
  WatermarkStore watermarks;
  ReplicationEngine engine;
  private InMemoryTransport transport;
  private SimLoop.View transportView;
  private SimLoop.View ioView;
  private SimLoop.View schedulerView;

  SimNode(
      String id,
      Path dir,
      SimLoop loop,
      Network network,
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

  /**
   * Starts (or restarts) the node over its disk and subscribes to {@code peers}, through the same
   * wiring as {@code SyncNode.start} ({@link NodeRuntime}) with the loop's parts injected.
   */
  void start(List<String> peers) {
    incarnation++;
    String tag = id + "#" + incarnation;
    transportView = loop.view(tag + "/transport");
    ioView = loop.view(tag + "/io");
    schedulerView = loop.view(tag + "/scheduler");
    StoreOptions options =
        new StoreOptions(
            id,
            Defaults.FSYNC,
            Defaults.MAX_KEY_BYTES,
            64 * 1024,
            Defaults.WRITE_QUEUE_DEPTH,
            groupCommitMaxEntries,
            Defaults.CACHE_MAX_ENTRIES,
            clock,
            maxClockSkew,
            null);
    List<PeerSpec> specs =
        peers.stream().filter(p -> !p.equals(id)).map(p -> new PeerSpec(p, p, PORT)).toList();
    transport = network.transport(id, transportView);
    writerGate = new SimWriterGate();
    loop.register(writerGate);
    NodeRuntime runtime =
        NodeRuntime.start(
            new NodeRuntime.Settings(dir, options, settings, specs, Defaults.LISTENER_QUEUE_CAPACITY),
            new NodeRuntime.Parts()
                .kvStore(() -> levelDb ? LevelDbKvStore.open(dir.resolve("db")) : new KeepOpenKvStore(memoryDisk))
                .writerGate(writerGate)
                .transport(transport)
                .scheduler(schedulerView)
                .io(ioView)
                .randomSeed(seed * 31 + incarnation),
            new EngineMetrics(registry));
    store = runtime.store();
    watermarks = runtime.watermarks();
    engine = runtime.replication();
  }

  /**
   * Kills the node between two tasks of the loop: its queued callbacks, I/O and timers are
   * dropped, writes queued in its store fail uncommitted, nothing is flushed.
   */
  void crash() {
    transportView.shutdownNow();
    ioView.shutdownNow();
    schedulerView.shutdownNow();
    // The engine stops dead without these (see ReplicationEngine, "Stopping without close()"):
    // its peers see their streams fail, as when a process dies.
    transport.close();
    loop.unregister(writerGate);
    writerGate.crash();
    store.close(); // after crash(): what is still queued fails uncommitted
    watermarks.close();
    engine = null;
    transport = null;
    store = null;
    writerGate = null;
    watermarks = null;
  }

  /**
   * Copies the node's disk while it runs, between two tasks of the loop (its writer is held, so
   * the copy is one consistent moment): the database and the watermark files, as a backup tool
   * would. Memory store only.
   */
  void backup() {
    backupDisk = memoryDisk.copy();
    backupWatermarks = readWatermarkFiles();
  }

  boolean hasBackup() {
    return backupDisk != null;
  }

  /** While the node is down: its disk becomes a copy of the last backup. */
  void restoreBackup() {
    memoryDisk = backupDisk.copy();
    writeWatermarkFiles(backupWatermarks);
  }

  /** While the node is down: its disk is wiped (an empty database, no watermarks). */
  void wipe() {
    memoryDisk = new MemoryKvStore();
    writeWatermarkFiles(java.util.Map.of());
  }

  private java.util.Map<String, byte[]> readWatermarkFiles() {
    java.util.Map<String, byte[]> files = new java.util.TreeMap<>();
    Path wm = dir.resolve(WatermarkStore.DIRECTORY_NAME);
    try (java.util.stream.Stream<Path> list = java.nio.file.Files.exists(wm) ? java.nio.file.Files.list(wm) : java.util.stream.Stream.empty()) {
      for (Path f : list.toList()) {
        files.put(f.getFileName().toString(), java.nio.file.Files.readAllBytes(f));
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return files;
  }

  private void writeWatermarkFiles(java.util.Map<String, byte[]> files) {
    Path wm = dir.resolve(WatermarkStore.DIRECTORY_NAME);
    try {
      if (java.nio.file.Files.exists(wm)) {
        try (java.util.stream.Stream<Path> list = java.nio.file.Files.list(wm)) {
          for (Path f : list.toList()) {
            java.nio.file.Files.delete(f);
          }
        }
      }
      java.nio.file.Files.createDirectories(wm);
      for (java.util.Map.Entry<String, byte[]> f : files.entrySet()) {
        java.nio.file.Files.write(wm.resolve(f.getKey()), f.getValue());
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Replaces the peers this node subscribes to, at run time. */
  void setPeers(List<String> peers) {
    engine.setPeers(peers.stream().filter(p -> !p.equals(id)).map(p -> new PeerSpec(p, p, PORT)).toList());
  }

  /** The in-memory "disk" (not LevelDB): what survives a crash, for surgery while the node is down. */
  KvStore memoryDisk() {
    return memoryDisk;
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
