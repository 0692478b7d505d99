package dev.edgesync.engine;

import dev.edgesync.conflict.HybridLogicalClock;
import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.replication.ReplicationEngine;
import dev.edgesync.engine.replication.ReplicationSettings;
import dev.edgesync.engine.security.ClusterToken;
import dev.edgesync.engine.security.SecuritySettings;
import dev.edgesync.engine.storage.ConflictListener;
import dev.edgesync.engine.storage.Durability;
import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.StateDigest;
import dev.edgesync.engine.storage.StoreOptions;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.engine.transport.grpc.GrpcTransport;
import dev.edgesync.watermark.WatermarkStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An edgesync node embedded in an application: a local key-value store that accepts writes at
 * any time and replicates them, multi-master, with every configured peer.
 *
 * <pre>{@code
 * try (SyncNode node = SyncNode.builder()
 *         .nodeId("site-a")
 *         .cluster("shops")
 *         .dataDir(Path.of("/var/lib/edgesync"))
 *         .listen("0.0.0.0:7400")
 *         .peer("site-b", "site-b.example:7400")
 *         .build()
 *         .start()) {
 *   node.put("price/sku-42", "9.90");
 *   node.subscribe("price/", change -> System.out.println(change.keyUtf8() + " changed"));
 * }
 * }</pre>
 *
 * <p>Lifecycle: {@link #start()} opens the database in {@code <dataDir>/db} and the watermarks in
 * {@code <dataDir>/.watermarks/}, binds the gRPC server and opens one stream per peer. {@link
 * #close()} stops accepting writes, commits what is queued, persists watermarks, closes streams
 * and the database, and returns when all of that is done; operations after it fail with {@link
 * IllegalStateException}. A storage failure moves the node to {@link NodeStatus.State#FAILED}:
 * reads still work, writes fail with the cause.
 *
 * <p>Thread safety: every method may be called from any thread. Blocking methods ({@link #put},
 * {@link #delete}) wait for the local commit; their {@code Async} variants return at once.
 */
public final class SyncNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SyncNode.class);

  /** Node ids are restricted so they are safe in file names, metrics labels and logs. */
  public static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final Builder config;
  private final EngineMetrics metrics;
  private final Object lifecycle = new Object();
  private volatile NodeStatus.State state = NodeStatus.State.NEW;
  private GroupCommitStore store;
  private WatermarkStore watermarks;
  private ReplicationEngine replication;
  private ChangeNotifier notifier;
  private ScheduledExecutorService scheduler;
  private GrpcTransport ownTransport;

  private SyncNode(Builder config) {
    this.config = config;
    this.metrics = new EngineMetrics(config.meterRegistry);
  }

  /** Returns a builder with the documented defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Opens storage and starts replication.
   *
   * @return this node, for chaining
   * @throws StorageException if the database cannot be opened (the message says how to recover)
   * @throws dev.edgesync.engine.storage.NodeIdMismatchException if the data dir belongs to another
   *     node id
   * @throws IllegalStateException if already started or closed
   */
  public SyncNode start() {
    synchronized (lifecycle) {
      if (state != NodeStatus.State.NEW) {
        throw new IllegalStateException("node " + config.nodeId + " is " + state + "; start() works once");
      }
      try {
        // TLS and token files are read first: a bad file is a configuration error, reported
        // before the database is opened or created.
        if (config.transport == null) {
          ownTransport = new GrpcTransport(config.nodeId, config.security, metrics);
        }
        Files.createDirectories(config.dataDir);
        KvStore kv =
            config.inMemoryStorage
                ? new MemoryKvStore()
                : LevelDbKvStore.open(config.dataDir.resolve("db"));
        store =
            GroupCommitStore.open(
                kv,
                config.dataDir.resolve("db").toString(),
                new StoreOptions(
                    config.nodeId,
                    config.durability == Durability.FSYNC,
                    config.maxKeyBytes,
                    config.maxValueBytes,
                    config.writeQueueDepth,
                    config.groupCommitMaxEntries,
                    config.cacheMaxEntries,
                    config.clock,
                    config.maxClockSkew,
                    config.conflictListener),
                metrics);
        notifier = new ChangeNotifier(config.nodeId, config.listenerQueueCapacity);
        store.addCommitListener(notifier);
        metrics.headSeq(store, VersionedStore::headSeq);
        watermarks = WatermarkStore.open(config.dataDir, Clock.systemUTC());
        AtomicInteger threads = new AtomicInteger();
        scheduler =
            Executors.newScheduledThreadPool(
                2,
                r -> {
                  Thread t = new Thread(r, "edgesync-repl-" + config.nodeId + "-" + threads.incrementAndGet());
                  t.setDaemon(true);
                  return t;
                });
        Transport transport = config.transport != null ? config.transport : ownTransport;
        replication =
            new ReplicationEngine(
                store, watermarks, config.replicationSettings(), transport, metrics, config.clock, scheduler);
        replication.setPeers(config.peers.values());
        replication.start();
        state = NodeStatus.State.RUNNING;
        log.info(
            "node {} started: cluster {}, log id {}, head seq {}, listening on port {}, {} peer(s)",
            config.nodeId,
            config.cluster,
            store.logId(),
            store.headSeq(),
            replication.boundPort(),
            config.peers.size());
        return this;
      } catch (RuntimeException | java.io.IOException e) {
        state = NodeStatus.State.CLOSED;
        if (replication == null && ownTransport != null) {
          // Not handed to the replication engine yet, which would otherwise close it.
          ownTransport.close();
        }
        closeQuietly();
        if (e instanceof java.io.IOException io) {
          throw new StorageException("cannot create data dir " + config.dataDir + ": " + io.getMessage(), io);
        }
        throw (RuntimeException) e;
      }
    }
  }

  // ---- writes ----

  /** Puts a UTF-8 key and value; returns when committed locally. */
  public WriteResult put(String key, String value) {
    return put(utf8(key), utf8(value));
  }

  /** Puts a key and value; returns when committed locally. */
  public WriteResult put(byte[] key, byte[] value) {
    return join(putAsync(key, value, Acks.none()));
  }

  /**
   * Puts a key and value and waits until {@code acks} peers confirmed it.
   *
   * @throws AckTimeoutException if too few peers confirmed in time (the write is committed locally)
   */
  public WriteResult put(String key, String value, Acks acks) {
    return join(putAsync(utf8(key), utf8(value), acks));
  }

  /** Puts asynchronously; the future completes after the local commit. */
  public CompletableFuture<WriteResult> putAsync(byte[] key, byte[] value) {
    return putAsync(key, value, Acks.none());
  }

  /**
   * Puts asynchronously; the future completes after the local commit and the confirmation of
   * {@code acks.peers()} peers, or fails with {@link AckTimeoutException}.
   */
  public CompletableFuture<WriteResult> putAsync(byte[] key, byte[] value, Acks acks) {
    Objects.requireNonNull(value, "value (use delete to remove a key)");
    return write(key, value, acks);
  }

  /** Deletes a UTF-8 key (writes a tombstone); returns when committed locally. */
  public WriteResult delete(String key) {
    return delete(utf8(key));
  }

  /** Deletes a key (writes a tombstone); returns when committed locally. */
  public WriteResult delete(byte[] key) {
    return join(deleteAsync(key, Acks.none()));
  }

  /** Deletes asynchronously, waiting for {@code acks} like {@link #putAsync(byte[], byte[], Acks)}. */
  public CompletableFuture<WriteResult> deleteAsync(byte[] key, Acks acks) {
    return write(key, null, acks);
  }

  private CompletableFuture<WriteResult> write(byte[] key, byte[] value, Acks acks) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(acks, "acks");
    VersionedStore s = running();
    CompletableFuture<WriteResult> local = s.submitLocal(key, value);
    if (acks.peers() == 0) {
      return local;
    }
    ReplicationEngine r = replication;
    return local.thenCompose(
        result -> r.awaitAcks(result.seq(), acks.peers(), acks.timeout()).thenApply(v -> result));
  }

  // ---- reads ----

  /** The live value of a UTF-8 key, or empty when absent or deleted. */
  public Optional<String> get(String key) {
    return get(utf8(key)).map(KeyValue::valueUtf8);
  }

  /** The live value of a key with its version, or empty when absent or deleted. */
  public Optional<KeyValue> get(byte[] key) {
    return readable().get(key).filter(e -> !e.tombstone()).map(SyncNode::keyValue);
  }

  /** The stored version of a key including tombstones (for tools and tests). */
  public Optional<StoredEntry> getEntry(byte[] key) {
    return readable().get(key);
  }

  /**
   * Live entries whose key starts with {@code prefix}, in key order, read lazily: memory stays
   * bounded whatever the number of keys. Close the stream (try-with-resources).
   */
  public Stream<KeyValue> scan(byte[] prefix) {
    return scan(prefix, null);
  }

  /**
   * Like {@link #scan(byte[])}, starting strictly after the key {@code startAfter} (null: from the
   * start of the prefix): the way to page through a large prefix.
   */
  public Stream<KeyValue> scan(byte[] prefix, byte[] startAfter) {
    VersionedStore.EntryIterator it = readable().scan(prefix, startAfter);
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false)
        .map(SyncNode::keyValue)
        .onClose(it::close);
  }

  /** {@link #scan(byte[])} with a UTF-8 prefix. */
  public Stream<KeyValue> scan(String prefix) {
    return scan(utf8(prefix));
  }

  /**
   * Calls {@code listener} for every committed change (local or remote) under {@code prefix}, in
   * commit order, on the node's notification thread. See {@link ChangeListener} for overflow.
   */
  public Subscription subscribe(String prefix, ChangeListener listener) {
    return subscribe(utf8(prefix), listener);
  }

  /** {@link #subscribe(String, ChangeListener)} with a byte prefix. */
  public Subscription subscribe(byte[] prefix, ChangeListener listener) {
    readable();
    return notifier.subscribe(prefix, Objects.requireNonNull(listener, "listener"));
  }

  // ---- peers and status ----

  /** Adds a peer (or changes its address) at run time: a stream to it opens. */
  public void addPeer(PeerSpec peer) {
    running();
    replication.addPeer(peer);
  }

  /** Removes a peer at run time: its stream closes; its watermark file stays. */
  public void removePeer(String peerId) {
    running();
    replication.removePeer(peerId);
  }

  /** Replaces the peer set at run time: streams open and close to match. */
  public void setPeers(Collection<PeerSpec> peers) {
    running();
    replication.setPeers(peers);
  }

  /** A snapshot of this node's state and of every peer. */
  public NodeStatus status() {
    VersionedStore s = store;
    if (s == null) {
      return new NodeStatus(
          config.nodeId, config.cluster, "", 0, StateDigest.EMPTY.toHex(), state, null, -1, List.of());
    }
    Throwable failure = store.failure();
    NodeStatus.State current = failure != null && state == NodeStatus.State.RUNNING ? NodeStatus.State.FAILED : state;
    return new NodeStatus(
        config.nodeId,
        config.cluster,
        s.logId(),
        s.headSeq(),
        s.digest().toHex(),
        current,
        failure == null ? null : failure.getMessage(),
        replication == null ? -1 : replication.boundPort(),
        replication == null ? List.of() : replication.peerStatuses());
  }

  /** The state digest (32 hex digits): equal on nodes that hold equal state. */
  public String digest() {
    return readable().digest().toHex();
  }

  /** Recomputes the digest from the stored data and says whether it equals the maintained one. */
  public boolean verifyDigest() {
    VersionedStore s = readable();
    return s.recomputeDigest().equals(s.digest());
  }

  /** The gRPC port actually bound (useful with port 0). */
  public int port() {
    running();
    return replication.boundPort();
  }

  /** This node's id. */
  public String nodeId() {
    return config.nodeId;
  }

  /** The metrics registry this node records to. */
  public MeterRegistry meterRegistry() {
    return config.meterRegistry;
  }

  /** The hybrid logical clock of this node (for tools and tests). */
  public HybridLogicalClock clock() {
    readable();
    return store.clock();
  }

  /**
   * Stops the node: refuses new writes, commits what is queued, persists watermarks, closes
   * streams, the server and the database. Idempotent; returns when done.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (state == NodeStatus.State.CLOSED) {
        return;
      }
      state = NodeStatus.State.CLOSED;
      closeQuietly();
      log.info("node {} closed", config.nodeId);
    }
  }

  private void closeQuietly() {
    // Order matters: streams stop first so no batch arrives during the store's final commit;
    // the store then drains its queue; listeners are told last.
    List<Throwable> errors = new ArrayList<>();
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
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
    for (Throwable t : errors) {
      log.error("error while closing node {}", config.nodeId, t);
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

  private VersionedStore running() {
    if (state != NodeStatus.State.RUNNING) {
      throw new IllegalStateException("node " + config.nodeId + " is " + state + ": call start() first, or it is closed");
    }
    return store;
  }

  private VersionedStore readable() {
    return running();
  }

  private static KeyValue keyValue(StoredEntry e) {
    return new KeyValue(e.key(), e.value(), e.version(), e.seq());
  }

  private static byte[] utf8(String s) {
    return Objects.requireNonNull(s, "key/value").getBytes(StandardCharsets.UTF_8);
  }

  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the write to commit", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof CompletionException ce ? ce.getCause() : e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new StorageException("write failed: " + cause, cause);
    }
  }

  /**
   * Configures a {@link SyncNode}. Every setter validates its argument at once and {@link
   * #build()} checks the rules between fields; errors are {@link ConfigException}s that name the
   * field, the value and what is expected.
   */
  public static final class Builder {
    private static final String SOURCE = "SyncNode.builder()";

    private String nodeId;
    private String cluster = Defaults.CLUSTER;
    private Path dataDir;
    private String listenHost = Defaults.LISTEN_HOST;
    private int listenPort = Defaults.LISTEN_PORT;
    private final Map<String, PeerSpec> peers = new LinkedHashMap<>();
    private Durability durability = Defaults.FSYNC ? Durability.FSYNC : Durability.BUFFERED;
    private int maxKeyBytes = Defaults.MAX_KEY_BYTES;
    private int maxValueBytes = Defaults.MAX_VALUE_BYTES;
    private int writeQueueDepth = Defaults.WRITE_QUEUE_DEPTH;
    private int groupCommitMaxEntries = Defaults.GROUP_COMMIT_MAX_ENTRIES;
    private int cacheMaxEntries = Defaults.CACHE_MAX_ENTRIES;
    private int batchMaxEntries = Defaults.BATCH_MAX_ENTRIES;
    private int batchMaxBytes = Defaults.BATCH_MAX_BYTES;
    private int maxBatchesInFlight = Defaults.MAX_BATCHES_IN_FLIGHT;
    private int listenerQueueCapacity = Defaults.LISTENER_QUEUE_CAPACITY;
    private Duration maxClockSkew = Defaults.MAX_CLOCK_SKEW;
    private Duration heartbeatInterval = Defaults.HEARTBEAT_INTERVAL;
    private Duration heartbeatTimeout = Defaults.HEARTBEAT_TIMEOUT;
    private Duration reconnectBaseDelay = Defaults.RECONNECT_BASE_DELAY;
    private Duration reconnectMaxDelay = Defaults.RECONNECT_MAX_DELAY;
    private boolean compression = Defaults.COMPRESSION;
    private InstantSource clock = InstantSource.system();
    private MeterRegistry meterRegistry;
    private ConflictListener conflictListener;
    private Transport transport;
    private boolean inMemoryStorage;
    private SecuritySettings.Tls tls;
    private final Map<String, SecuritySettings.PeerTls> peerTls = new LinkedHashMap<>();
    private ClusterToken token;
    private final Set<String> allowedPeers = new TreeSet<>();
    private int maxInboundStreams = Defaults.MAX_INBOUND_STREAMS;
    private int maxStreamsPerPeer = Defaults.MAX_STREAMS_PER_PEER;
    private Duration handshakeTimeout = Defaults.HANDSHAKE_TIMEOUT;
    private Duration securityReloadInterval = Defaults.SECURITY_RELOAD_INTERVAL;
    private SecuritySettings security;

    private Builder() {}

    /** Required: this node's id, {@code [A-Za-z0-9._-]{1,64}}, stored in the data dir. */
    public Builder nodeId(String nodeId) {
      if (nodeId == null || !NODE_ID.matcher(nodeId).matches()) {
        throw invalid("nodeId", nodeId, "1 to 64 characters of A-Z a-z 0-9 . _ -");
      }
      this.nodeId = nodeId;
      return this;
    }

    /** Cluster name (default {@code default}); nodes of different clusters refuse to sync. */
    public Builder cluster(String cluster) {
      if (cluster == null || cluster.isBlank() || cluster.length() > 128) {
        throw invalid("cluster", cluster, "a non-blank name of at most 128 characters");
      }
      this.cluster = cluster;
      return this;
    }

    /** Required: the directory holding {@code db/} and {@code .watermarks/}. */
    public Builder dataDir(Path dataDir) {
      if (dataDir == null) {
        throw invalid("dataDir", null, "a directory path");
      }
      this.dataDir = dataDir;
      return this;
    }

    /** The gRPC listen address {@code host:port} (default {@code 0.0.0.0:7400}; port 0 picks one). */
    public Builder listen(String hostPort) {
      HostPort parsed = parseAddress("listen", hostPort, true);
      this.listenHost = parsed.host();
      this.listenPort = parsed.port();
      return this;
    }

    /** The gRPC listen address (port 0 picks a free port). */
    public Builder listen(String host, int port) {
      return listen(host + ":" + port);
    }

    /** Adds a peer to subscribe to. */
    public Builder peer(PeerSpec peer) {
      Objects.requireNonNull(peer, "peer");
      if (peers.containsKey(peer.id())) {
        throw invalid("peers", peer.id(), "unique peer ids (" + peer.id() + " is listed twice)");
      }
      peers.put(peer.id(), peer);
      return this;
    }

    /** Adds a peer by id and {@code host:port}. */
    public Builder peer(String id, String hostPort) {
      HostPort address = parseAddress("peers[" + id + "].address", hostPort, false);
      return peer(new PeerSpec(id, address.host(), address.port()));
    }

    /** Replaces the peer list. */
    public Builder peers(Collection<PeerSpec> list) {
      peers.clear();
      list.forEach(this::peer);
      return this;
    }

    /** When a local write counts as committed (default {@link Durability#FSYNC}). */
    public Builder durability(Durability durability) {
      this.durability = Objects.requireNonNull(durability, "durability");
      return this;
    }

    /** Largest key in bytes (default 1024). */
    public Builder maxKeyBytes(int n) {
      this.maxKeyBytes = positive("limits.maxKeyBytes", n, 64 * 1024);
      return this;
    }

    /** Largest value in bytes (default 1 MiB). */
    public Builder maxValueBytes(int n) {
      this.maxValueBytes = positive("limits.maxValueBytes", n, 64 * 1024 * 1024);
      return this;
    }

    /** Most writes waiting for the writer before local writes are refused (default 10,000). */
    public Builder writeQueueDepth(int n) {
      this.writeQueueDepth = positive("limits.writeQueueDepth", n, 10_000_000);
      return this;
    }

    /** Most entries in one group commit (default 4096). */
    public Builder groupCommitMaxEntries(int n) {
      this.groupCommitMaxEntries = positive("limits.groupCommitMaxEntries", n, 1_000_000);
      return this;
    }

    /** Entries in the key-to-version cache (default 100,000). */
    public Builder cacheMaxEntries(int n) {
      this.cacheMaxEntries = positive("limits.cacheMaxEntries", n, 100_000_000);
      return this;
    }

    /** Most entries per replication batch (default 1000). */
    public Builder batchMaxEntries(int n) {
      this.batchMaxEntries = positive("replication.batchMaxEntries", n, 1_000_000);
      return this;
    }

    /** Most bytes per replication batch (default 1 MiB; one entry larger than it is sent alone). */
    public Builder batchMaxBytes(int n) {
      this.batchMaxBytes = positive("replication.batchMaxBytes", n, 256 * 1024 * 1024);
      return this;
    }

    /**
     * Most batches of one peer held uncommitted at a time (default 4); the peer's stream is read
     * on only as commits free a slot, so a catching-up node's memory stays bounded per peer.
     */
    public Builder maxBatchesInFlight(int n) {
      this.maxBatchesInFlight = positive("replication.maxBatchesInFlight", n, 1024);
      return this;
    }

    /** Changes a listener may fall behind before it is unsubscribed (default 10,000). */
    public Builder listenerQueueCapacity(int n) {
      this.listenerQueueCapacity = positive("limits.listenerQueueCapacity", n, 10_000_000);
      return this;
    }

    /** How far ahead of the local clock a remote timestamp may be (default 60 s). */
    public Builder maxClockSkew(Duration d) {
      this.maxClockSkew = positive("maxClockSkew", d);
      return this;
    }

    /** Heartbeat period on idle streams (default 1 s). */
    public Builder heartbeatInterval(Duration d) {
      this.heartbeatInterval = positive("replication.heartbeatInterval", d);
      return this;
    }

    /** Silence after which a peer counts as disconnected and is reconnected (default 5 s). */
    public Builder heartbeatTimeout(Duration d) {
      this.heartbeatTimeout = positive("replication.heartbeatTimeout", d);
      return this;
    }

    /** First reconnect delay (default 200 ms); doubles per failure, with jitter. */
    public Builder reconnectBaseDelay(Duration d) {
      this.reconnectBaseDelay = positive("replication.reconnectBaseDelay", d);
      return this;
    }

    /** Longest reconnect delay (default 30 s). */
    public Builder reconnectMaxDelay(Duration d) {
      this.reconnectMaxDelay = positive("replication.reconnectMaxDelay", d);
      return this;
    }

    /** Gzip on replication streams (default off). */
    public Builder compression(boolean on) {
      this.compression = on;
      return this;
    }

    /** The wall clock (default the system clock); tests inject one. */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Registry to record metrics into (default a private in-memory one). */
    public Builder meterRegistry(MeterRegistry registry) {
      this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
      return this;
    }

    /** Audit hook told about every LWW loser. */
    public Builder conflictListener(ConflictListener listener) {
      this.conflictListener = listener;
      return this;
    }

    /** The replication transport (default gRPC); tests pass an in-memory one. */
    public Builder transport(Transport transport) {
      this.transport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /** Keeps state in memory instead of LevelDB (tests); watermarks still go to the data dir. */
    public Builder inMemoryStorage(boolean inMemory) {
      this.inMemoryStorage = inMemory;
      return this;
    }

    /**
     * Mutual TLS on the replication port and to every peer, from PEM files (default: plaintext).
     * The node presents {@code certChain} (its certificate, then any intermediates) with {@code
     * privateKey} (unencrypted PKCS#8, RSA or EC), and trusts certificates signed by a CA in
     * {@code trustedCa}. A peer's certificate must name its node id (SAN DNS name, or CN when it
     * has no SAN). The files are re-read when they change; see {@link
     * #securityReloadInterval(Duration)}.
     */
    public Builder tls(Path certChain, Path privateKey, Path trustedCa) {
      if (certChain == null || privateKey == null || trustedCa == null) {
        throw invalid(
            "security.tls",
            certChain + ", " + privateKey + ", " + trustedCa,
            "all three files: certificate chain, private key and trusted CA bundle");
      }
      this.tls = new SecuritySettings.Tls(certChain, privateKey, trustedCa);
      return this;
    }

    /**
     * Checks {@code peerId}'s server certificate against another CA bundle and/or another name
     * than its node id (either may be null: the node-wide CA, the peer id). Needs {@link #tls}.
     */
    public Builder peerTls(String peerId, Path trustedCa, String serverName) {
      if (peerId == null || !NODE_ID.matcher(peerId).matches()) {
        throw invalid("security.tls.peers", peerId, "a peer id, 1 to 64 characters of A-Z a-z 0-9 . _ -");
      }
      try {
        peerTls.put(peerId, new SecuritySettings.PeerTls(trustedCa, serverName));
      } catch (IllegalArgumentException e) {
        throw invalid("security.tls.peers." + peerId + ".serverName", serverName, "a DNS name of at most 253 characters");
      }
      return this;
    }

    /**
     * The cluster token every stream must carry (default: none). At least 16 visible ASCII
     * characters, e.g. from {@code openssl rand -hex 32}. Never logged; an error never shows it.
     */
    public Builder token(String value) {
      try {
        this.token = ClusterToken.of(value, "security.token");
      } catch (IllegalArgumentException e) {
        throw new ConfigException(SOURCE, "security.token", "<hidden>", e.getMessage(), "a token of 16 to 4096 visible ASCII characters");
      }
      return this;
    }

    /**
     * The cluster token, read from {@code file} now and again whenever it changes. The file holds
     * one token per line: the first is sent, every one is accepted (for rotation).
     */
    public Builder tokenFile(Path file) {
      if (file == null) {
        throw invalid("security.tokenFile", null, "a file path");
      }
      try {
        this.token = ClusterToken.fromFile(file);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(SOURCE, "security.tokenFile", file.toString(), e.getMessage(), "a readable file with one token per line");
      }
      return this;
    }

    /**
     * The node ids that may subscribe to this node (default: empty, which admits every node that
     * authenticates with the cluster's CA or token). Its own peers are not added automatically: a
     * hub that serves spokes it does not pull from must list them too.
     */
    public Builder allowedPeers(Collection<String> ids) {
      Objects.requireNonNull(ids, "allowedPeers");
      for (String id : ids) {
        if (id == null || !NODE_ID.matcher(id).matches()) {
          throw invalid("security.allowedPeers", id, "node ids, 1 to 64 characters of A-Z a-z 0-9 . _ -");
        }
      }
      allowedPeers.clear();
      allowedPeers.addAll(ids);
      return this;
    }

    /** Most replication streams served at once, all subscribers together (default 64). */
    public Builder maxInboundStreams(int n) {
      this.maxInboundStreams = positive("limits.maxInboundStreams", n, 100_000);
      return this;
    }

    /** Most replication streams one subscriber id may hold at once (default 2: a reconnect overlaps). */
    public Builder maxStreamsPerPeer(int n) {
      this.maxStreamsPerPeer = positive("limits.maxStreamsPerPeer", n, 100_000);
      return this;
    }

    /** How long a connection may take to finish its handshake and a stream to send Hello (default 10 s). */
    public Builder handshakeTimeout(Duration d) {
      this.handshakeTimeout = positive("limits.handshakeTimeout", d);
      return this;
    }

    /** How often TLS and token files are checked for changes (default 5 s). */
    public Builder securityReloadInterval(Duration d) {
      this.securityReloadInterval = positive("security.reloadInterval", d);
      return this;
    }

    /** Checks the rules between fields and returns an unstarted node. */
    public SyncNode build() {
      if (nodeId == null) {
        throw invalid("nodeId", null, "a node id (it is required)");
      }
      if (dataDir == null) {
        throw invalid("dataDir", null, "a data directory (it is required)");
      }
      if (peers.containsKey(nodeId)) {
        throw invalid("peers", nodeId, "peers other than the node itself (" + nodeId + " is this node's id)");
      }
      if (heartbeatTimeout.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
        throw invalid(
            "replication.heartbeatTimeout",
            heartbeatTimeout.toString(),
            "at least twice replication.heartbeatInterval (" + heartbeatInterval + ")");
      }
      if (reconnectMaxDelay.compareTo(reconnectBaseDelay) < 0) {
        throw invalid(
            "replication.reconnectMaxDelay",
            reconnectMaxDelay.toString(),
            "at least replication.reconnectBaseDelay (" + reconnectBaseDelay + ")");
      }
      if (!peerTls.isEmpty() && tls == null) {
        throw invalid(
            "security.tls.peers",
            peerTls.keySet().toString(),
            "per-peer TLS settings only together with security.tls (cert, key, ca)");
      }
      if (maxStreamsPerPeer > maxInboundStreams) {
        throw invalid(
            "limits.maxStreamsPerPeer",
            Integer.toString(maxStreamsPerPeer),
            "at most limits.maxInboundStreams (" + maxInboundStreams + ")");
      }
      security =
          new SecuritySettings(
              tls,
              peerTls,
              token,
              allowedPeers,
              maxInboundStreams,
              maxStreamsPerPeer,
              handshakeTimeout,
              securityReloadInterval);
      if (meterRegistry == null) {
        meterRegistry = new SimpleMeterRegistry();
      }
      return new SyncNode(this);
    }

    ReplicationSettings replicationSettings() {
      return new ReplicationSettings(
          nodeId,
          cluster,
          listenHost,
          listenPort,
          heartbeatInterval,
          heartbeatTimeout,
          reconnectBaseDelay,
          reconnectMaxDelay,
          batchMaxEntries,
          batchMaxBytes,
          // The largest message is one batch at its byte limit, plus framing.
          batchMaxBytes + maxKeyBytes + maxValueBytes + ReplicationSettings.MIN_MESSAGE_HEADROOM_BYTES,
          maxBatchesInFlight,
          compression,
          security);
    }

    private record HostPort(String host, int port) {}

    private static HostPort parseAddress(String field, String hostPort, boolean allowPortZero) {
      if (hostPort == null) {
        throw invalid(field, null, "host:port");
      }
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw invalid(field, hostPort, "host:port, e.g. 10.0.0.5:7400 or [::1]:7400");
      }
      String host = hostPort.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port;
      try {
        port = Integer.parseInt(hostPort.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw invalid(field, hostPort, "host:port with a numeric port");
      }
      if (port < (allowPortZero ? 0 : 1) || port > 65535) {
        throw invalid(field, hostPort, "a port " + (allowPortZero ? "0" : "1") + "..65535");
      }
      return new HostPort(host, port);
    }

    private static int positive(String field, int n, int max) {
      if (n <= 0 || n > max) {
        throw invalid(field, Integer.toString(n), "an integer from 1 to " + max);
      }
      return n;
    }

    private static Duration positive(String field, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw invalid(field, String.valueOf(d), "a positive duration");
      }
      return d;
    }

    private static ConfigException invalid(String field, String value, String expected) {
      return new ConfigException(SOURCE, field, value, value == null ? "missing" : "invalid value", expected);
    }
  }
}
