// Over 500 lines on purpose: this is the whole public API of an embedded node (writes, reads,
// listeners, peers, status, lifecycle) in one class an app developer reads top to bottom; every
// method is a thin delegation to the runtime's parts.
package dev.edgesync.engine;

import dev.edgesync.conflict.HybridLogicalClock;
import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.replication.ReplicationEngine;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.ChangeBatch;
import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.Precondition;
import dev.edgesync.engine.storage.StateDigest;
import dev.edgesync.engine.storage.StoreBackup;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
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

  private final NodeConfig config;
  private final EngineMetrics metrics;
  private final Object lifecycle = new Object();
  private volatile NodeStatus.State state = NodeStatus.State.NEW;
  // Set once start() succeeded; its parts are read through it.
  private volatile NodeRuntime runtime;

  private SyncNode(NodeConfig config) {
    this.config = config;
    this.metrics = new EngineMetrics(config.meterRegistry());
    for (NodeStatus.State s : NodeStatus.State.values()) {
      io.micrometer.core.instrument.Gauge.builder("edgesync.node.state", this, n -> n.currentState() == s ? 1 : 0)
          .description("1 for the state the node is in (NEW, RUNNING, FAILED: storage failed, writes refused; CLOSED)")
          .tag("state", s.name().toLowerCase(java.util.Locale.ROOT))
          .strongReference(false)
          .register(config.meterRegistry());
    }
  }

  /** Returns a builder with the documented defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Opens storage and starts replication (see {@link NodeRuntime} for the order).
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
        throw new IllegalStateException("node " + config.nodeId() + " is " + state + "; start() works once");
      }
      NodeRuntime.Parts parts = new NodeRuntime.Parts();
      if (config.transport() != null) {
        parts.transport(config.transport());
      }
      if (config.inMemoryStorage()) {
        parts.kvStore(MemoryKvStore::new);
      }
      NodeRuntime.Settings settings =
          new NodeRuntime.Settings(
              config.dataDir(),
              config.storeOptions(),
              config.replicationSettings(),
              config.peers(),
              config.listenerQueueCapacity());
      NodeRuntime started;
      try {
        started = NodeRuntime.start(settings, parts, metrics);
      } catch (RuntimeException e) {
        state = NodeStatus.State.CLOSED;
        throw e;
      }
      runtime = started;
      state = NodeStatus.State.RUNNING;
      log.info(
          "node {} started: cluster {}, log id {}, head seq {}, listening on port {}, {} peer(s)",
          config.nodeId(),
          config.cluster(),
          started.store().logId(),
          started.store().headSeq(),
          started.replication().boundPort(),
          config.peers().size());
      return this;
    }
  }

  /** The configuration this node was built with. */
  public NodeConfig config() {
    return config;
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
    return putAsync(key, value, null, acks);
  }

  /** Puts a UTF-8 key and a value that expires {@code ttl} after the write; see {@link #putAsync(byte[], byte[], Duration, Acks)}. */
  public WriteResult put(String key, String value, Duration ttl) {
    return join(putAsync(utf8(key), utf8(value), ttl, Acks.none()));
  }

  /**
   * Puts a value that expires {@code ttl} after the write (null: never): from then on every node
   * reads the key as absent, without a new write, and collects it like a delete; listeners get an
   * {@link Change#isExpiry() expiry}. The expiry is part of the version: a later write of the key
   * replaces it, with or without a ttl of its own.
   *
   * @throws IllegalArgumentException when {@code ttl} is not positive or over 100 years
   */
  public CompletableFuture<WriteResult> putAsync(byte[] key, byte[] value, Duration ttl, Acks acks) {
    Objects.requireNonNull(value, "value (use delete to remove a key)");
    return write(key, value, null, ttl, acks);
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

  /**
   * Compare-and-set on this node: puts only if the key's current version here is {@code
   * expected} (a live value, as {@link KeyValue#version()} returned it).
   *
   * <p>The check is local and atomic with the write, not cluster-wide: a newer version made on
   * another site that has not arrived yet still wins by last-writer-wins when it does (the
   * conflict listener and the change listener show it).
   *
   * @throws PreconditionFailedException when the current version differs (nothing written); it
   *     carries the current version
   */
  public WriteResult putIf(byte[] key, byte[] value, Version expected) {
    Objects.requireNonNull(value, "value (use deleteIf to remove a key)");
    return join(writeIf(key, value, Precondition.version(expected), Acks.none()));
  }

  /** Puts only if the key is absent on this node (never written, deleted or expired); see {@link #putIf}. */
  public WriteResult putIfAbsent(byte[] key, byte[] value) {
    return putIfAbsent(key, value, null);
  }

  /**
   * {@link #putIfAbsent(byte[], byte[])} of a value that expires {@code ttl} after the write (null:
   * never): a lease on this node that lapses by itself unless renewed with {@link #putIf}.
   */
  public WriteResult putIfAbsent(byte[] key, byte[] value, Duration ttl) {
    Objects.requireNonNull(value, "value");
    return join(writeIf(key, value, Precondition.absent(), ttl, Acks.none()));
  }

  /** Deletes only if the key's current version here is {@code expected}; see {@link #putIf}. */
  public WriteResult deleteIf(byte[] key, Version expected) {
    return join(writeIf(key, null, Precondition.version(expected), Acks.none()));
  }

  /**
   * A conditional put ({@code value != null}) or delete, waiting for {@code acks} like {@link
   * #putAsync(byte[], byte[], Acks)}; fails with {@link PreconditionFailedException} when {@code
   * precondition} does not hold here.
   */
  public CompletableFuture<WriteResult> writeIf(byte[] key, byte[] value, Precondition precondition, Acks acks) {
    return writeIf(key, value, precondition, null, acks);
  }

  private CompletableFuture<WriteResult> write(byte[] key, byte[] value, Acks acks) {
    return write(key, value, null, null, acks);
  }

  /** {@link #writeIf(byte[], byte[], Precondition, Acks)} of a put whose value expires {@code ttl} after it (null: never). */
  public CompletableFuture<WriteResult> writeIf(
      byte[] key, byte[] value, Precondition precondition, Duration ttl, Acks acks) {
    Objects.requireNonNull(precondition, "precondition");
    return write(key, value, precondition, ttl, acks);
  }

  private CompletableFuture<WriteResult> write(
      byte[] key, byte[] value, Precondition precondition, Duration ttl, Acks acks) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(acks, "acks");
    long ttlMillis = ttlMillis(ttl);
    if (ttlMillis > 0 && !acceptsTtl()) {
      throw new IllegalArgumentException(
          "node '" + config.nodeId() + "' speaks replication protocol version " + config.maxProtocolVersion()
              + " (replication.maxProtocolVersion), which cannot carry a ttl to its peers: write without a"
              + " ttl, or raise replication.maxProtocolVersion to " + ProtocolVersion.EXPIRING_KEYS
              + " once every site runs a build that speaks it");
    }
    VersionedStore s = running();
    CompletableFuture<WriteResult> local = s.submitLocal(key, value, precondition, ttlMillis);
    if (acks.peers() == 0) {
      return local;
    }
    ReplicationEngine r = runtime.replication();
    return local.thenCompose(
        result -> r.awaitAcks(result.seq(), acks.peers(), acks.timeout()).thenApply(v -> result));
  }

  // ---- reads ----

  /** The live value of a UTF-8 key, or empty when absent, deleted or expired. */
  public Optional<String> get(String key) {
    return get(utf8(key)).map(KeyValue::valueUtf8);
  }

  /** The live value of a key with its version, or empty when absent, deleted or expired. */
  public Optional<KeyValue> get(byte[] key) {
    GroupCommitStore s = readable();
    // The read time only for a value that expires: it may cost a write (the read lease).
    return s.get(key).filter(e -> !e.tombstone() && !(e.expires() && e.expiredAt(s.readTime()))).map(SyncNode::keyValue);
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
    GroupCommitStore s = readable();
    long[] readAt = {0}; // taken at the first value that expires, then the same for the whole scan
    VersionedStore.EntryIterator it = s.scan(prefix, startAfter);
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false)
        .filter(e -> !e.expires() || !e.expiredAt(readAt[0] != 0 ? readAt[0] : (readAt[0] = s.readTime())))
        .map(SyncNode::keyValue)
        .onClose(it::close);
  }

  /**
   * The node's changes after {@code afterSeq} in commit order, from the compacted change log: each
   * key at most once, with its newest version (tombstones included), so a reader that resumes from
   * the last seq it saw misses no key's final version. At most {@code maxEntries} entries and
   * about {@code maxBytes} bytes. Seqs belong to {@link NodeStatus#logId() the log}: after the data
   * dir is replaced the log id changes and a reader starts again from 0.
   */
  public ChangeBatch changes(long afterSeq, int maxEntries, long maxBytes) {
    return readable().readChanges(afterSeq, maxEntries, maxBytes);
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
    return runtime.notifier().subscribe(prefix, Objects.requireNonNull(listener, "listener"));
  }

  // ---- peers and status ----

  /** Adds a peer (or changes its address) at run time: a stream to it opens. */
  public void addPeer(PeerSpec peer) {
    replication().addPeer(peer);
  }

  /** Removes a peer at run time: its stream closes; its watermark file stays. */
  public void removePeer(String peerId) {
    replication().removePeer(peerId);
  }

  /** Replaces the peer set at run time: streams open and close to match. */
  public void setPeers(Collection<PeerSpec> peers) {
    replication().setPeers(peers);
  }

  /**
   * The nodes that pull from this one (inbound subscribers, listed in its peers or not), with what
   * each acknowledged; empty before start.
   */
  public List<dev.edgesync.engine.replication.SubscriberStatus> subscribers() {
    NodeRuntime r = runtime;
    return r == null ? List.of() : r.replication().subscribers();
  }

  /**
   * Keys whose value this node holds: not deleted (expired values not yet collected count); kept
   * as writes commit, counted once at start. 0 before start.
   */
  public long keyCount() {
    NodeRuntime r = runtime;
    return r == null ? 0 : r.store().keyCount();
  }

  /** Whether writes with a ttl are accepted: not on a node capped below protocol version 2. */
  public boolean acceptsTtl() {
    return config.maxProtocolVersion() >= ProtocolVersion.EXPIRING_KEYS;
  }

  /** The newest replication protocol version this node speaks ({@code replication.maxProtocolVersion}). */
  public int maxProtocolVersion() {
    return config.maxProtocolVersion();
  }

  /** Tombstone collection: counts, horizons and what holds the horizon back. */
  public dev.edgesync.engine.replication.GcStatus gcStatus() {
    return replication().gcStatus();
  }

  /**
   * Decommissions {@code nodeId}, a node that pulled from this one and is gone for good: it no
   * longer holds the tombstone horizon back. Returns whether it was known. Should it come back
   * with its old data after the horizon has passed it, it is refused (its data dir must be moved
   * aside so that it re-syncs).
   *
   * @throws IllegalArgumentException when it is still in this node's peer list (remove it there)
   */
  public boolean forget(String nodeId) {
    return replication().forget(nodeId);
  }

  /**
   * Writes a consistent backup of this node's database to {@code out} (not closed): state, change
   * log, log id and epochs, one compressed stream with a manifest and a checksum; writes and
   * replication go on meanwhile. Restore it with {@link #restoreBackup}.
   *
   * @param progress hears the rows written so far, now and then
   */
  public StoreBackup.Manifest backup(java.io.OutputStream out, java.util.function.LongConsumer progress)
      throws java.io.IOException {
    StoreBackup.Manifest m = readable().backup(out, progress);
    log.info("node {}: backup of {} rows ({} bytes), head seq {}, digest {}", config.nodeId(), m.rows(), m.bytes(), m.headSeq(), m.digest());
    return m;
  }

  /**
   * Rebuilds the database of {@code dataDir} from a backup, for a node that then starts on that data
   * dir with the backup's node id. The data dir must not exist or be empty (no old watermarks). The restored node starts a
   * new log epoch and pulls from its peers from the start, so it gets what it lacks.
   *
   * @param nodeId the id the node will run under, or null to take the backup's
   * @throws IllegalArgumentException when the data dir is not empty or the backup is of another node
   * @throws StoreBackup.DamagedBackupException when the backup is damaged (nothing is left behind)
   */
  public static StoreBackup.Manifest restoreBackup(java.io.InputStream in, java.nio.file.Path dataDir, String nodeId) {
    return StoreBackup.restore(in, dataDir, nodeId);
  }


  /** A snapshot of this node's state and of every peer. */
  public NodeStatus status() {
    NodeRuntime r = runtime;
    if (r == null) {
      return new NodeStatus(
          config.nodeId(), config.cluster(), "", 0, StateDigest.EMPTY.toHex(), state, null, -1, List.of());
    }
    GroupCommitStore s = r.store();
    Throwable failure = s.failure();
    NodeStatus.State current = currentState();
    return new NodeStatus(
        config.nodeId(),
        config.cluster(),
        s.logId(),
        s.headSeq(),
        s.digest().toHex(),
        current,
        failure == null ? null : failure.getMessage(),
        r.replication().boundPort(),
        r.replication().peerStatuses());
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
    return replication().boundPort();
  }

  /** This node's id. */
  public String nodeId() {
    return config.nodeId();
  }

  /** The metrics registry this node records to. */
  public MeterRegistry meterRegistry() {
    return config.meterRegistry();
  }

  /** The hybrid logical clock of this node (for tools and tests). */
  public HybridLogicalClock clock() {
    return readable().clock();
  }

  /**
   * Stops the node: refuses new writes, commits what is queued, persists watermarks, closes
   * streams, the server and the database (in the order {@link NodeRuntime#close()} gives).
   * Idempotent; returns when done. Operations after it fail with {@link IllegalStateException}.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (state == NodeStatus.State.CLOSED) {
        return;
      }
      state = NodeStatus.State.CLOSED;
      NodeRuntime r = runtime;
      if (r != null) {
        r.close();
      }
      log.info("node {} closed", config.nodeId());
    }
  }

  /** The state as {@link #status()} reports it: RUNNING becomes FAILED once the store failed. */
  private NodeStatus.State currentState() {
    NodeRuntime r = runtime;
    return r != null && state == NodeStatus.State.RUNNING && r.store().failure() != null ? NodeStatus.State.FAILED : state;
  }

  private GroupCommitStore running() {
    if (state != NodeStatus.State.RUNNING) {
      throw new IllegalStateException("node " + config.nodeId() + " is " + state + ": call start() first, or it is closed");
    }
    return runtime.store();
  }

  private ReplicationEngine replication() {
    running();
    return runtime.replication();
  }

  private GroupCommitStore readable() {
    return running();
  }

  private static KeyValue keyValue(StoredEntry e) {
    return new KeyValue(e.key(), e.value(), e.version(), e.seq(), e.expiresHlc());
  }

  /** A time to live in whole milliseconds (0: none), refused when under 1 ms or over 100 years. */
  private static long ttlMillis(Duration ttl) {
    if (ttl == null) {
      return 0;
    }
    long ms;
    try {
      ms = ttl.toMillis();
    } catch (ArithmeticException tooLong) {
      ms = Long.MAX_VALUE;
    }
    if (ttl.isNegative() || ms < 1 || ms > VersionedStore.MAX_TTL_MILLIS) {
      throw new IllegalArgumentException(
          "time to live must be 1 ms to 100 years (36,500 days), got " + ttl + " (null: the value does not expire)");
    }
    return ms;
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
   * field, the value and what is expected. The builder only collects values: {@link #build()}
   * makes an immutable {@link NodeConfig} of them, so the builder may be changed and built again
   * without touching a node built before. Not thread-safe.
   */
  public static final class Builder extends NodeConfigBuilder {
    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    /** Checks the rules between fields and returns an unstarted node over the resulting config. */
    public SyncNode build() {
      return new SyncNode(new NodeConfig(this));
    }
  }
}
