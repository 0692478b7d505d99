package dev.edgesync.engine;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.replication.ReplicationEngine;
import dev.edgesync.engine.replication.ReplicationSettings;
import dev.edgesync.engine.storage.DataDirs;
import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.StoreOptions;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.engine.storage.WriterGate;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.engine.transport.grpc.GrpcTransport;
import dev.edgesync.watermark.WatermarkStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running parts of one node, wired in one place: {@link SyncNode} runs on it, and so does the
 * simulation, which injects its own clock, executors, key-value store and transport through {@link
 * Parts}. Applications use {@link SyncNode}.
 *
 * <p><b>Lifecycle.</b> {@link #start} opens, in this order: the transport (when none is injected:
 * its TLS and token files are read first, so a bad file is reported before the database is
 * touched), the data dir, the store with its change notifier, the watermarks, the scheduler and
 * replication, which binds its server and subscribes to the peers. If a step fails, what was
 * opened is closed again and the error is thrown. {@link #close()} works in reverse: it closes
 * replication (streams stop, so no batch arrives during the store's final commit; it waits up to
 * 10 s for batches handed to the store and persists watermarks), then the store (which commits
 * what is queued), then tells the listeners, closes the watermarks and shuts down the scheduler
 * it made. It returns when all of that is done, logging (not throwing) what failed on the way.
 *
 * <p><b>Ownership.</b> The runtime owns the store (and through it the key-value store), the
 * watermarks, the notifier and a scheduler it made. The transport, an injected one too, and the
 * I/O executor belong to replication, which closes them. An injected scheduler is the injector's
 * to shut down.
 *
 * <p><b>Threading.</b> {@link #start} and {@link #close()} are called by one thread at a time (the
 * node's lifecycle lock); the accessors may be called from any thread once a start has returned
 * and the runtime was published safely (e.g. through a volatile field).
 */
public final class NodeRuntime implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeRuntime.class);

  /**
   * What the parts are configured with.
   *
   * @param dataDir the directory holding {@code db/} and {@code .watermarks/}; created if absent
   * @param store the store's settings; its wall clock is replication's clock too
   * @param replication replication's settings, security included
   * @param peers the peers subscribed to at start
   * @param listenerQueueCapacity changes a listener may fall behind before it is unsubscribed
   */
  public record Settings(
      Path dataDir,
      StoreOptions store,
      ReplicationSettings replication,
      List<PeerSpec> peers,
      int listenerQueueCapacity) {
    /** Checks that nothing is missing. */
    public Settings {
      Objects.requireNonNull(dataDir, "dataDir");
      Objects.requireNonNull(store, "store");
      Objects.requireNonNull(replication, "replication");
      peers = List.copyOf(peers);
    }
  }

  /**
   * Parts injected instead of the ones a node makes for itself; each is optional. Filled by one
   * thread before {@link #start}; not read after it.
   */
  public static final class Parts {
    private Supplier<KvStore> kvStore;
    private WriterGate writerGate = WriterGate.NONE;
    private Transport transport;
    private ScheduledExecutorService scheduler;
    private ExecutorService io;
    private Long randomSeed;

    /** No part injected: LevelDB, gRPC, thread pools and a random reconnect jitter seed. */
    public Parts() {}

    /** Opens the key-value store, after the data dir exists (default LevelDB in {@code db/}). */
    public Parts kvStore(Supplier<KvStore> opener) {
      this.kvStore = Objects.requireNonNull(opener, "kvStore");
      return this;
    }

    /**
     * Lets a harness control the store's writer (hold it, crash it; see {@link WriterGate});
     * default {@link WriterGate#NONE}.
     */
    public Parts writerGate(WriterGate gate) {
      this.writerGate = Objects.requireNonNull(gate, "writerGate");
      return this;
    }

    /** The replication transport (default gRPC); replication owns and closes it. */
    public Parts transport(Transport t) {
      this.transport = Objects.requireNonNull(t, "transport");
      return this;
    }

    /** Runs replication's timers (default a pool of two daemon threads the runtime shuts down). */
    public Parts scheduler(ScheduledExecutorService s) {
      this.scheduler = Objects.requireNonNull(s, "scheduler");
      return this;
    }

    /** Runs replication's blocking work (default an internal pool); replication shuts it down. */
    public Parts io(ExecutorService executor) {
      this.io = Objects.requireNonNull(executor, "io");
      return this;
    }

    /** Fixes the seed of the reconnect jitter (default a random one). */
    public Parts randomSeed(long seed) {
      this.randomSeed = seed;
      return this;
    }
  }

  private final String nodeId;
  private GrpcTransport ownTransport;
  private GroupCommitStore store;
  private ChangeNotifier notifier;
  private WatermarkStore watermarks;
  private ScheduledExecutorService ownScheduler;
  private ReplicationEngine replication;
  private ExpiryAnnouncer expiries;

  private NodeRuntime(String nodeId) {
    this.nodeId = nodeId;
  }

  /**
   * Opens every part in order and starts replication; see the class description.
   *
   * @throws StorageException if the data dir or the database cannot be opened
   * @throws dev.edgesync.engine.storage.NodeIdMismatchException if the data dir belongs to another
   *     node id
   */
  public static NodeRuntime start(Settings settings, Parts parts, EngineMetrics metrics) {
    NodeRuntime runtime = new NodeRuntime(settings.replication().nodeId());
    // What exists before this start: a failed start removes only what it created itself (a new,
    // empty database), so that fixing the cause and starting again begins from the same place.
    Path dataDir = settings.dataDir();
    boolean dataDirExisted = Files.exists(dataDir);
    boolean dbExisted = Files.exists(dataDir.resolve(DataDirs.DATABASE));
    boolean watermarksExisted = Files.exists(dataDir.resolve(WatermarkStore.DIRECTORY_NAME));
    try {
      runtime.open(settings, parts, metrics);
      return runtime;
    } catch (RuntimeException | IOException e) {
      if (runtime.replication == null && runtime.ownTransport != null) {
        // Not handed to replication yet, which would otherwise close it.
        runtime.ownTransport.close();
      }
      runtime.close();
      if (parts.kvStore == null) {
        removeCreated(dataDir, dataDirExisted, dbExisted, watermarksExisted);
      }
      if (e instanceof IOException io) {
        throw new StorageException("cannot create data dir " + settings.dataDir() + ": " + io.getMessage(), io);
      }
      throw (RuntimeException) e;
    }
  }

  private void open(Settings settings, Parts parts, EngineMetrics metrics) throws IOException {
    ReplicationSettings rs = settings.replication();
    Transport transport = parts.transport;
    if (transport == null) {
      ownTransport = new GrpcTransport(nodeId, rs.security(), metrics);
      transport = ownTransport;
    }
    Path dataDir = settings.dataDir();
    Files.createDirectories(dataDir);
    Path db = dataDir.resolve(DataDirs.DATABASE);
    KvStore kv = parts.kvStore != null ? parts.kvStore.get() : LevelDbKvStore.open(db);
    store = GroupCommitStore.open(kv, db.toString(), settings.store(), metrics, parts.writerGate);
    notifier = new ChangeNotifier(nodeId, settings.listenerQueueCapacity());
    store.addCommitListener(notifier);
    metrics.headSeq(store, VersionedStore::headSeq);
    metrics.gauge("edgesync.tombstones", "Tombstone rows held (deletes not yet collected)", store, st -> st.gcState().tombstones());
    metrics.gauge(
        "edgesync.keys", "Keys whose value this node holds (expired values not yet collected included)", store,
        GroupCommitStore::keyCount);
    metrics.gauge(
        "edgesync.expiring.values",
        "Values with a time to live held, expired or not (collected like tombstones once expired)",
        store,
        st -> st.gcState().expiring());
    java.time.InstantSource wall = settings.store().wallClock();
    metrics.gauge(
        "edgesync.gc.horizon.seconds",
        "Age of the purge horizon: tombstones older than it were collected (grows while a peer holds it back)",
        store,
        st -> {
          long h = st.gcState().purgeHorizon();
          return h == 0 ? Double.NaN : (wall.millis() - dev.edgesync.conflict.Hlc.physicalMillis(h)) / 1000.0;
        });
    metrics.gauge(
        "edgesync.database.bytes",
        "Size of the database files (the data dir's db/ directory), read at each scrape",
        db,
        NodeRuntime::directoryBytes);
    watermarks = WatermarkStore.open(dataDir, Clock.systemUTC());
    ScheduledExecutorService scheduler = parts.scheduler;
    if (scheduler == null) {
      ownScheduler = newScheduler(nodeId);
      scheduler = ownScheduler;
    }
    long seed = parts.randomSeed != null ? parts.randomSeed : ThreadLocalRandom.current().nextLong();
    replication =
        new ReplicationEngine(
            store, watermarks, rs, transport, metrics, settings.store().wallClock(), scheduler, seed,
            parts.io != null ? parts.io : ReplicationEngine.ioPool(nodeId));
    replication.setPeers(settings.peers());
    replication.start();
    expiries = new ExpiryAnnouncer(store, scheduler, rs.gc().batchSize());
    expiries.start();
  }

  /** Total size of the regular files under {@code dir}; NaN when it cannot be read. */
  private static double directoryBytes(Path dir) {
    try (java.util.stream.Stream<Path> files = Files.walk(dir, 2)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    } catch (IOException | java.io.UncheckedIOException e) {
      return Double.NaN;
    }
  }

  /** After a failed start: removes the database, watermark dir and data dir it created, if empty of anything else. */
  private static void removeCreated(Path dataDir, boolean dataDirExisted, boolean dbExisted, boolean watermarksExisted) {
    try {
      if (!dbExisted) {
        DataDirs.deleteTree(dataDir.resolve(DataDirs.DATABASE));
      }
      if (!watermarksExisted) {
        DataDirs.deleteTree(dataDir.resolve(WatermarkStore.DIRECTORY_NAME));
      }
      if (!dataDirExisted && Files.isDirectory(dataDir)) {
        try (java.util.stream.Stream<Path> left = Files.list(dataDir)) {
          if (left.findAny().isEmpty()) {
            Files.delete(dataDir);
          }
        }
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      log.warn("could not remove what the failed start of {} created: {}", dataDir, e.toString());
    }
  }

  private static ScheduledExecutorService newScheduler(String nodeId) {
    AtomicInteger threads = new AtomicInteger();
    return Executors.newScheduledThreadPool(
        2,
        r -> {
          Thread t = new Thread(r, "edgesync-repl-" + nodeId + "-" + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /** The store. */
  public GroupCommitStore store() {
    return store;
  }

  /** The watermarks of every peer. */
  public WatermarkStore watermarks() {
    return watermarks;
  }

  /** Replication: peers, status, acknowledgements. */
  public ReplicationEngine replication() {
    return replication;
  }

  ChangeNotifier notifier() {
    return notifier;
  }

  /**
   * Closes every part in the reverse order of {@link #start}; see the class description. Returns
   * when all are closed; errors are logged, each part is closed whatever failed before it.
   */
  @Override
  public void close() {
    List<Throwable> errors = new ArrayList<>();
    if (expiries != null) {
      expiries.close();
    }
    if (replication != null) {
      run(replication::close, errors);
    }
    if (store != null) {
      run(store::close, errors);
    }
    if (notifier != null) {
      run(notifier::close, errors);
    }
    if (watermarks != null) {
      run(watermarks::close, errors);
    }
    if (ownScheduler != null) {
      ownScheduler.shutdownNow();
    }
    for (Throwable t : errors) {
      log.error("error while closing node {}", nodeId, t);
    }
  }

  private static void run(ThrowingRunnable r, List<Throwable> errors) {
    try {
      r.run();
    } catch (Exception e) {
      errors.add(e);
    }
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }
}
