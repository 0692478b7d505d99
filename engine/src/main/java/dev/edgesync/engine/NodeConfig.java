package dev.edgesync.engine;

import static dev.edgesync.engine.NodeConfigBuilder.invalid;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.replication.AntiEntropySettings;
import dev.edgesync.engine.replication.ReplicationSettings;
import dev.edgesync.engine.replication.GcSettings;
import dev.edgesync.engine.security.SecuritySettings;
import dev.edgesync.engine.storage.ConflictListener;
import dev.edgesync.engine.storage.Durability;
import dev.edgesync.engine.storage.StoreOptions;
import dev.edgesync.engine.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;

/**
 * The configuration of one {@link SyncNode}, immutable, made by {@link SyncNode.Builder#build()}
 * and validated once, then: every field was checked by its setter, and the rules between fields
 * are checked here, each failure a {@link dev.edgesync.discovery.ConfigException} naming the
 * field, the value and what is expected. The node reads it once when built and never sees the
 * builder again, so a setter called after {@code build()} changes nothing of a built node.
 *
 * <p>It also derives the settings of the node's parts: {@link #storeOptions()}, {@link
 * #replicationSettings()} (whose largest inbound message follows from the batch, key and value
 * limits) and {@link #security()}. Defaults live in {@link dev.edgesync.engine.config.Defaults}.
 *
 * <p>Thread safety: immutable, so safe to share; {@link #transport()}, {@link #meterRegistry()},
 * {@link #clock()} and {@link #conflictListener()} are the objects the application passed in.
 */
public final class NodeConfig {
  private final String nodeId;
  private final String cluster;
  private final Path dataDir;
  private final String listenHost;
  private final int listenPort;
  private final List<PeerSpec> peers;
  private final Durability durability;
  private final int maxKeyBytes;
  private final int maxValueBytes;
  private final int writeQueueDepth;
  private final int groupCommitMaxEntries;
  private final int cacheMaxEntries;
  private final int batchMaxEntries;
  private final int batchMaxBytes;
  private final int maxBatchesInFlight;
  private final int listenerQueueCapacity;
  private final Duration maxClockSkew;
  private final Duration heartbeatInterval;
  private final Duration heartbeatTimeout;
  private final Duration reconnectBaseDelay;
  private final Duration reconnectMaxDelay;
  private final boolean compression;
  private final Duration stallTimeout;
  private final AntiEntropySettings antiEntropy;
  private final GcSettings gc;
  private final int maxProtocolVersion;
  private final InstantSource clock;
  private final MeterRegistry meterRegistry;
  private final ConflictListener conflictListener;
  private final Transport transport;
  private final boolean inMemoryStorage;
  private final SecuritySettings security;

  /** Copies {@code b}'s values and checks the rules between them. */
  NodeConfig(NodeConfigBuilder b) {
    if (b.nodeId == null) {
      throw invalid("nodeId", null, "a node id (it is required)");
    }
    if (b.dataDir == null) {
      throw invalid("dataDir", null, "a data directory (it is required)");
    }
    if (b.peers.containsKey(b.nodeId)) {
      throw invalid("peers", b.nodeId, "peers other than the node itself (" + b.nodeId + " is this node's id)");
    }
    if (b.heartbeatTimeout.compareTo(b.heartbeatInterval.multipliedBy(2)) < 0) {
      throw invalid(
          "replication.heartbeatTimeout",
          b.heartbeatTimeout.toString(),
          "at least twice replication.heartbeatInterval (" + b.heartbeatInterval + ")");
    }
    Duration stall = b.stallTimeout != null ? b.stallTimeout : Defaults.stallTimeout(b.heartbeatTimeout);
    if (stall.compareTo(b.heartbeatInterval.multipliedBy(2)) < 0) {
      throw invalid(
          "replication.stallTimeout",
          stall.toString(),
          "at least twice replication.heartbeatInterval (" + b.heartbeatInterval + ")");
    }
    if (b.reconnectMaxDelay.compareTo(b.reconnectBaseDelay) < 0) {
      throw invalid(
          "replication.reconnectMaxDelay",
          b.reconnectMaxDelay.toString(),
          "at least replication.reconnectBaseDelay (" + b.reconnectBaseDelay + ")");
    }
    if (!b.peerTls.isEmpty() && b.tls == null) {
      throw invalid(
          "security.tls.peers",
          b.peerTls.keySet().toString(),
          "per-peer TLS settings only together with security.tls (cert, key, ca)");
    }
    if (b.gcMinAge.compareTo(b.maxClockSkew.multipliedBy(2)) < 0) {
      throw invalid(
          "gc.minAge",
          b.gcMinAge.toString(),
          "at least 2 x maxClockSkew (" + b.maxClockSkew.multipliedBy(2) + "): the horizon is at most the highest HLC,"
              + " which may run up to the skew ahead of the wall clocks, and a node not known yet whose clock is behind"
              + " by up to the skew must never write below it");
    }
    if (b.maxStreamsPerPeer > b.maxInboundStreams) {
      throw invalid(
          "limits.maxStreamsPerPeer",
          Integer.toString(b.maxStreamsPerPeer),
          "at most limits.maxInboundStreams (" + b.maxInboundStreams + ")");
    }
    this.nodeId = b.nodeId;
    this.cluster = b.cluster;
    this.dataDir = b.dataDir;
    this.listenHost = b.listenHost;
    this.listenPort = b.listenPort;
    this.peers = List.copyOf(b.peers.values());
    this.durability = b.durability;
    this.maxKeyBytes = b.maxKeyBytes;
    this.maxValueBytes = b.maxValueBytes;
    this.writeQueueDepth = b.writeQueueDepth;
    this.groupCommitMaxEntries = b.groupCommitMaxEntries;
    this.cacheMaxEntries = b.cacheMaxEntries;
    this.batchMaxEntries = b.batchMaxEntries;
    this.batchMaxBytes = b.batchMaxBytes;
    this.maxBatchesInFlight = b.maxBatchesInFlight;
    this.listenerQueueCapacity = b.listenerQueueCapacity;
    this.maxClockSkew = b.maxClockSkew;
    this.heartbeatInterval = b.heartbeatInterval;
    this.heartbeatTimeout = b.heartbeatTimeout;
    this.reconnectBaseDelay = b.reconnectBaseDelay;
    this.reconnectMaxDelay = b.reconnectMaxDelay;
    this.compression = b.compression;
    this.stallTimeout = stall;
    // Each value was checked by its setter, so this cannot fail.
    this.antiEntropy = new AntiEntropySettings(b.antiEntropySettle, b.antiEntropyMinInterval, b.repairMaxEntries);
    this.gc = new GcSettings(b.gcInterval, b.gcMinAge, b.gcBatchSize, b.gcEnabled);
    this.maxProtocolVersion = b.maxProtocolVersion;
    this.clock = b.clock;
    this.meterRegistry = b.meterRegistry != null ? b.meterRegistry : new SimpleMeterRegistry();
    this.conflictListener = b.conflictListener;
    this.transport = b.transport;
    this.inMemoryStorage = b.inMemoryStorage;
    // SecuritySettings copies the maps and sets, so later calls of the builder do not reach it.
    this.security =
        new SecuritySettings(
            b.tls,
            b.peerTls,
            b.token,
            b.allowedPeers,
            b.maxInboundStreams,
            b.maxStreamsPerPeer,
            b.handshakeTimeout,
            b.securityReloadInterval);
  }

  /** The settings of the node's store. */
  public StoreOptions storeOptions() {
    return new StoreOptions(
        nodeId,
        durability == Durability.FSYNC,
        maxKeyBytes,
        maxValueBytes,
        writeQueueDepth,
        groupCommitMaxEntries,
        cacheMaxEntries,
        clock,
        maxClockSkew,
        conflictListener);
  }

  /** The settings of the node's replication, security included. */
  public ReplicationSettings replicationSettings() {
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
        security,
        antiEntropy,
        stallTimeout,
        gc,
        maxProtocolVersion);
  }

  /** This node's id. */
  public String nodeId() {
    return nodeId;
  }

  /** The cluster name. */
  public String cluster() {
    return cluster;
  }

  /** The directory holding {@code db/} and {@code .watermarks/}. */
  public Path dataDir() {
    return dataDir;
  }

  /** The host the replication server binds. */
  public String listenHost() {
    return listenHost;
  }

  /** The port the replication server binds (0: any free one). */
  public int listenPort() {
    return listenPort;
  }

  /** The peers subscribed to at start, in the order given. */
  public List<PeerSpec> peers() {
    return peers;
  }

  /** When a local write counts as committed. */
  public Durability durability() {
    return durability;
  }

  /** Largest key in bytes. */
  public int maxKeyBytes() {
    return maxKeyBytes;
  }

  /** Largest value in bytes. */
  public int maxValueBytes() {
    return maxValueBytes;
  }

  /** Most writes waiting for the writer. */
  public int writeQueueDepth() {
    return writeQueueDepth;
  }

  /** Most entries in one group commit. */
  public int groupCommitMaxEntries() {
    return groupCommitMaxEntries;
  }

  /** Entries in the key-to-version cache. */
  public int cacheMaxEntries() {
    return cacheMaxEntries;
  }

  /** Most entries per replication batch. */
  public int batchMaxEntries() {
    return batchMaxEntries;
  }

  /** Most bytes per replication batch. */
  public int batchMaxBytes() {
    return batchMaxBytes;
  }

  /** Most batches of one peer held uncommitted at a time. */
  public int maxBatchesInFlight() {
    return maxBatchesInFlight;
  }

  /** Changes a listener may fall behind before it is unsubscribed. */
  public int listenerQueueCapacity() {
    return listenerQueueCapacity;
  }

  /** How far ahead of the local clock a remote timestamp may be. */
  public Duration maxClockSkew() {
    return maxClockSkew;
  }

  /** Heartbeat period on idle streams. */
  public Duration heartbeatInterval() {
    return heartbeatInterval;
  }

  /** Silence after which a peer counts as disconnected. */
  public Duration heartbeatTimeout() {
    return heartbeatTimeout;
  }

  /** First reconnect delay. */
  public Duration reconnectBaseDelay() {
    return reconnectBaseDelay;
  }

  /** Longest reconnect delay. */
  public Duration reconnectMaxDelay() {
    return reconnectMaxDelay;
  }

  /** How long a connected peer this node is behind may go without progress before it counts as stalled. */
  public Duration stallTimeout() {
    return stallTimeout;
  }

  /** When anti-entropy repairs a link, and how much one repair sends. */
  public AntiEntropySettings antiEntropy() {
    return antiEntropy;
  }

  /** Tombstone collection. */
  public GcSettings gc() {
    return gc;
  }

  /** The newest replication protocol version this node speaks. */
  public int maxProtocolVersion() {
    return maxProtocolVersion;
  }

  /** Gzip on replication streams. */
  public boolean compression() {
    return compression;
  }

  /** The wall clock of the store's HLC and of replication. */
  public InstantSource clock() {
    return clock;
  }

  /** The registry metrics are recorded into (a private one when none was given). */
  public MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  /** The audit hook told about every LWW loser, or null. */
  public ConflictListener conflictListener() {
    return conflictListener;
  }

  /** The replication transport given, or null for the node's own gRPC transport. */
  public Transport transport() {
    return transport;
  }

  /** True when state is kept in memory instead of LevelDB. */
  public boolean inMemoryStorage() {
    return inMemoryStorage;
  }

  /** TLS, token, allowlist and inbound stream bounds. */
  public SecuritySettings security() {
    return security;
  }
}
