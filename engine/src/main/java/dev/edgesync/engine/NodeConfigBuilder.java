package dev.edgesync.engine;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.security.ClusterToken;
import dev.edgesync.engine.security.SecuritySettings;
import dev.edgesync.engine.storage.ConflictListener;
import dev.edgesync.engine.storage.Durability;
import dev.edgesync.engine.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The setters of {@link SyncNode.Builder}: each validates its one argument at once and stores it;
 * nothing else. The rules between fields, the derived settings and the defaults of unset values
 * belong to {@link NodeConfig}, which copies these fields once when it is built, so a setter
 * called later changes no built node. Defaults come from {@link Defaults}.
 *
 * <p>Over 500 lines on purpose: one setter per setting of the embedding API (about fifty), each with
 * its documentation and its one check; the checks themselves are the shared helpers at the end.
 *
 * <p>Not thread-safe: a builder is filled by one thread.
 */
abstract class NodeConfigBuilder {
  static final String SOURCE = "SyncNode.builder()";

  String nodeId;
  String cluster = Defaults.CLUSTER;
  Path dataDir;
  String listenHost = Defaults.LISTEN_HOST;
  int listenPort = Defaults.LISTEN_PORT;
  final Map<String, PeerSpec> peers = new LinkedHashMap<>();
  Durability durability = Defaults.FSYNC ? Durability.FSYNC : Durability.BUFFERED;
  int maxKeyBytes = Defaults.MAX_KEY_BYTES;
  int maxValueBytes = Defaults.MAX_VALUE_BYTES;
  int writeQueueDepth = Defaults.WRITE_QUEUE_DEPTH;
  int groupCommitMaxEntries = Defaults.GROUP_COMMIT_MAX_ENTRIES;
  int cacheMaxEntries = Defaults.CACHE_MAX_ENTRIES;
  int batchMaxEntries = Defaults.BATCH_MAX_ENTRIES;
  int batchMaxBytes = Defaults.BATCH_MAX_BYTES;
  int maxBatchesInFlight = Defaults.MAX_BATCHES_IN_FLIGHT;
  int listenerQueueCapacity = Defaults.LISTENER_QUEUE_CAPACITY;
  Duration maxClockSkew = Defaults.MAX_CLOCK_SKEW;
  Duration gcInterval = Defaults.GC_INTERVAL;
  Duration gcMinAge = Defaults.GC_MIN_AGE;
  int gcBatchSize = Defaults.GC_BATCH_SIZE;
  boolean gcEnabled = true;
  Duration heartbeatInterval = Defaults.HEARTBEAT_INTERVAL;
  Duration heartbeatTimeout = Defaults.HEARTBEAT_TIMEOUT;
  Duration reconnectBaseDelay = Defaults.RECONNECT_BASE_DELAY;
  Duration reconnectMaxDelay = Defaults.RECONNECT_MAX_DELAY;
  boolean compression = Defaults.COMPRESSION;
  // Null: Defaults.stallTimeout(heartbeatTimeout), derived when the config is built.
  Duration stallTimeout;
  Duration antiEntropySettle = Defaults.ANTI_ENTROPY_SETTLE;
  Duration antiEntropyMinInterval = Defaults.ANTI_ENTROPY_MIN_INTERVAL;
  int repairMaxEntries = Defaults.REPAIR_MAX_ENTRIES;
  int maxProtocolVersion = ProtocolVersion.CURRENT;
  InstantSource clock = InstantSource.system();
  MeterRegistry meterRegistry;
  ConflictListener conflictListener;
  Transport transport;
  boolean inMemoryStorage;
  SecuritySettings.Tls tls;
  final Map<String, SecuritySettings.PeerTls> peerTls = new LinkedHashMap<>();
  ClusterToken token;
  final Set<String> allowedPeers = new TreeSet<>();
  int maxInboundStreams = Defaults.MAX_INBOUND_STREAMS;
  int maxStreamsPerPeer = Defaults.MAX_STREAMS_PER_PEER;
  Duration handshakeTimeout = Defaults.HANDSHAKE_TIMEOUT;
  Duration securityReloadInterval = Defaults.SECURITY_RELOAD_INTERVAL;

  NodeConfigBuilder() {}

  /** This builder, typed as the public one, for chaining. */
  abstract SyncNode.Builder self();

  /** Required: this node's id, {@code [A-Za-z0-9._-]{1,64}}, stored in the data dir. */
  public SyncNode.Builder nodeId(String nodeId) {
    if (nodeId == null || !SyncNode.NODE_ID.matcher(nodeId).matches()) {
      throw invalid("nodeId", nodeId, "1 to 64 characters of A-Z a-z 0-9 . _ -");
    }
    this.nodeId = nodeId;
    return self();
  }

  /** Cluster name (default {@value Defaults#CLUSTER}); nodes of different clusters refuse to sync. */
  public SyncNode.Builder cluster(String cluster) {
    if (cluster == null || cluster.isBlank() || cluster.length() > 128) {
      throw invalid("cluster", cluster, "a non-blank name of at most 128 characters");
    }
    this.cluster = cluster;
    return self();
  }

  /** Required: the directory holding {@code db/} and {@code .watermarks/}. */
  public SyncNode.Builder dataDir(Path dataDir) {
    if (dataDir == null) {
      throw invalid("dataDir", null, "a directory path");
    }
    this.dataDir = dataDir;
    return self();
  }

  /** The gRPC listen address {@code host:port} (default {@value Defaults#LISTEN}; port 0 picks one). */
  public SyncNode.Builder listen(String hostPort) {
    HostPort parsed = parseAddress("listen", hostPort, true);
    this.listenHost = parsed.host();
    this.listenPort = parsed.port();
    return self();
  }

  /** The gRPC listen address (port 0 picks a free port). */
  public SyncNode.Builder listen(String host, int port) {
    return listen(host + ":" + port);
  }

  /** Adds a peer to subscribe to. */
  public SyncNode.Builder peer(PeerSpec peer) {
    Objects.requireNonNull(peer, "peer");
    if (peers.containsKey(peer.id())) {
      throw invalid("peers", peer.id(), "unique peer ids (" + peer.id() + " is listed twice)");
    }
    peers.put(peer.id(), peer);
    return self();
  }

  /** Adds a peer by id and {@code host:port}. */
  public SyncNode.Builder peer(String id, String hostPort) {
    HostPort address = parseAddress("peers[" + id + "].address", hostPort, false);
    return peer(new PeerSpec(id, address.host(), address.port()));
  }

  /** Replaces the peer list. */
  public SyncNode.Builder peers(Collection<PeerSpec> list) {
    peers.clear();
    list.forEach(this::peer);
    return self();
  }

  /** When a local write counts as committed (default {@link Durability#FSYNC}, see {@link Defaults#FSYNC}). */
  public SyncNode.Builder durability(Durability durability) {
    this.durability = Objects.requireNonNull(durability, "durability");
    return self();
  }

  /** Largest key in bytes (default {@value Defaults#MAX_KEY_BYTES}). */
  public SyncNode.Builder maxKeyBytes(int n) {
    this.maxKeyBytes = positive("limits.maxKeyBytes", n, 64 * 1024);
    return self();
  }

  /** Largest value in bytes (default {@value Defaults#MAX_VALUE_BYTES}). */
  public SyncNode.Builder maxValueBytes(int n) {
    this.maxValueBytes = positive("limits.maxValueBytes", n, 64 * 1024 * 1024);
    return self();
  }

  /** Most writes waiting for the writer before local writes are refused (default {@value Defaults#WRITE_QUEUE_DEPTH}). */
  public SyncNode.Builder writeQueueDepth(int n) {
    this.writeQueueDepth = positive("limits.writeQueueDepth", n, 10_000_000);
    return self();
  }

  /** Most entries in one group commit (default {@value Defaults#GROUP_COMMIT_MAX_ENTRIES}). */
  public SyncNode.Builder groupCommitMaxEntries(int n) {
    this.groupCommitMaxEntries = positive("limits.groupCommitMaxEntries", n, 1_000_000);
    return self();
  }

  /** Entries in the key-to-version cache (default {@value Defaults#CACHE_MAX_ENTRIES}). */
  public SyncNode.Builder cacheMaxEntries(int n) {
    this.cacheMaxEntries = positive("limits.cacheMaxEntries", n, 100_000_000);
    return self();
  }

  /** Most entries per replication batch (default {@value Defaults#BATCH_MAX_ENTRIES}). */
  public SyncNode.Builder batchMaxEntries(int n) {
    this.batchMaxEntries = positive("replication.batchMaxEntries", n, 1_000_000);
    return self();
  }

  /** Most bytes per replication batch (default {@value Defaults#BATCH_MAX_BYTES}; one entry larger than it is sent alone). */
  public SyncNode.Builder batchMaxBytes(int n) {
    this.batchMaxBytes = positive("replication.batchMaxBytes", n, 256 * 1024 * 1024);
    return self();
  }

  /**
   * Most batches of one peer held uncommitted at a time (default {@value Defaults#MAX_BATCHES_IN_FLIGHT}); the peer's stream is read
   * on only as commits free a slot, so a catching-up node's memory stays bounded per peer.
   */
  public SyncNode.Builder maxBatchesInFlight(int n) {
    this.maxBatchesInFlight = positive("replication.maxBatchesInFlight", n, 1024);
    return self();
  }

  /** Changes a listener may fall behind before it is unsubscribed (default {@value Defaults#LISTENER_QUEUE_CAPACITY}). */
  public SyncNode.Builder listenerQueueCapacity(int n) {
    this.listenerQueueCapacity = positive("limits.listenerQueueCapacity", n, 10_000_000);
    return self();
  }

  /** How far ahead of the local clock a remote timestamp may be (default {@link Defaults#MAX_CLOCK_SKEW}). */
  public SyncNode.Builder maxClockSkew(Duration d) {
    this.maxClockSkew = positive("maxClockSkew", d);
    return self();
  }

  /** Heartbeat period on idle streams (default {@link Defaults#HEARTBEAT_INTERVAL}). */
  public SyncNode.Builder heartbeatInterval(Duration d) {
    this.heartbeatInterval = positive("replication.heartbeatInterval", d);
    return self();
  }

  /** Silence after which a peer counts as disconnected and is reconnected (default {@link Defaults#HEARTBEAT_TIMEOUT}). */
  public SyncNode.Builder heartbeatTimeout(Duration d) {
    this.heartbeatTimeout = positive("replication.heartbeatTimeout", d);
    return self();
  }

  /** First reconnect delay (default {@link Defaults#RECONNECT_BASE_DELAY}); doubles per failure, with jitter. */
  public SyncNode.Builder reconnectBaseDelay(Duration d) {
    this.reconnectBaseDelay = positive("replication.reconnectBaseDelay", d);
    return self();
  }

  /** Longest reconnect delay (default {@link Defaults#RECONNECT_MAX_DELAY}). */
  public SyncNode.Builder reconnectMaxDelay(Duration d) {
    this.reconnectMaxDelay = positive("replication.reconnectMaxDelay", d);
    return self();
  }

  /**
   * How long a connected peer that this node is behind may go without its watermark advancing
   * before it is reported stalled ({@code PeerStatus.stalledSince}) and its stream reopened
   * (default {@value Defaults#STALL_TIMEOUT_HEARTBEAT_TIMEOUTS} x the heartbeat timeout); at least
   * twice the heartbeat interval.
   */
  public SyncNode.Builder stallTimeout(Duration d) {
    this.stallTimeout = positive("replication.stallTimeout", d);
    return self();
  }

  /**
   * How long two nodes caught up with each other must keep showing different state digests before
   * a repair starts (default {@link Defaults#ANTI_ENTROPY_SETTLE}); 0 repairs at the first such
   * heartbeat.
   */
  public SyncNode.Builder antiEntropySettle(Duration d) {
    this.antiEntropySettle = notNegative("replication.antiEntropySettle", d);
    return self();
  }

  /** Least time between the starts of two repairs of one link (default {@link Defaults#ANTI_ENTROPY_MIN_INTERVAL}). */
  public SyncNode.Builder antiEntropyMinInterval(Duration d) {
    this.antiEntropyMinInterval = notNegative("replication.antiEntropyMinInterval", d);
    return self();
  }

  /** Time between two rounds of tombstone collection (default {@link Defaults#GC_INTERVAL}). */
  public SyncNode.Builder gcInterval(Duration d) {
    this.gcInterval = positive("gc.interval", d);
    return self();
  }

  /**
   * How long a tombstone stays at least, even once every node holds it (default {@link
   * Defaults#GC_MIN_AGE}); at least {@code maxClockSkew}.
   */
  public SyncNode.Builder gcMinAge(Duration d) {
    this.gcMinAge = notNegative("gc.minAge", d);
    return self();
  }

  /** Most tombstones purged per round (default {@value Defaults#GC_BATCH_SIZE}). */
  public SyncNode.Builder gcBatchSize(int n) {
    this.gcBatchSize = positive("gc.batchSize", n, 1_000_000);
    return self();
  }

  /** False keeps every tombstone for ever (stable times are still exchanged). Default true. */
  public SyncNode.Builder gcEnabled(boolean enabled) {
    this.gcEnabled = enabled;
    return self();
  }

  /** Most state rows sent for one repair request (default {@value Defaults#REPAIR_MAX_ENTRIES}); the next round continues. */
  public SyncNode.Builder repairMaxEntries(int n) {
    this.repairMaxEntries = positive("replication.repairMaxEntries", n, 1_000_000);
    return self();
  }

  /**
   * The newest replication protocol version this node speaks (default: the newest of this build);
   * lower it while sites of an older build remain, so that this node refuses ttl writes.
   */
  public SyncNode.Builder maxProtocolVersion(int version) {
    if (version < ProtocolVersion.MIN || version > ProtocolVersion.CURRENT) {
      throw invalid("replication.maxProtocolVersion", Integer.toString(version),
          "a version this build speaks, " + ProtocolVersion.range(ProtocolVersion.MIN, ProtocolVersion.CURRENT));
    }
    this.maxProtocolVersion = version;
    return self();
  }

  /** Gzip on replication streams (default off). */
  public SyncNode.Builder compression(boolean on) {
    this.compression = on;
    return self();
  }

  /** The wall clock (default the system clock); tests inject one. */
  public SyncNode.Builder clock(InstantSource clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    return self();
  }

  /** Registry to record metrics into (default a private in-memory one). */
  public SyncNode.Builder meterRegistry(MeterRegistry registry) {
    this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
    return self();
  }

  /** Audit hook told about every LWW loser. */
  public SyncNode.Builder conflictListener(ConflictListener listener) {
    this.conflictListener = listener;
    return self();
  }

  /** The replication transport (default gRPC); tests pass an in-memory one. */
  public SyncNode.Builder transport(Transport transport) {
    this.transport = Objects.requireNonNull(transport, "transport");
    return self();
  }

  /** Keeps state in memory instead of LevelDB (tests); watermarks still go to the data dir. */
  public SyncNode.Builder inMemoryStorage(boolean inMemory) {
    this.inMemoryStorage = inMemory;
    return self();
  }

  /**
   * Mutual TLS on the replication port and to every peer, from PEM files (default: plaintext).
   * The node presents {@code certChain} (its certificate, then any intermediates) with {@code
   * privateKey} (unencrypted PKCS#8, RSA or EC), and trusts certificates signed by a CA in
   * {@code trustedCa}. A peer's certificate must name its node id (SAN DNS name, or CN when it
   * has no SAN). The files are re-read when they change; see {@link
   * #securityReloadInterval(Duration)}.
   */
  public SyncNode.Builder tls(Path certChain, Path privateKey, Path trustedCa) {
    if (certChain == null || privateKey == null || trustedCa == null) {
      throw invalid(
          "security.tls",
          certChain + ", " + privateKey + ", " + trustedCa,
          "all three files: certificate chain, private key and trusted CA bundle");
    }
    this.tls = new SecuritySettings.Tls(certChain, privateKey, trustedCa);
    return self();
  }

  /**
   * Checks {@code peerId}'s server certificate against another CA bundle and/or another name
   * than its node id (either may be null: the node-wide CA, the peer id). Needs {@link #tls}.
   */
  public SyncNode.Builder peerTls(String peerId, Path trustedCa, String serverName) {
    if (peerId == null || !SyncNode.NODE_ID.matcher(peerId).matches()) {
      throw invalid("security.tls.peers", peerId, "a peer id, 1 to 64 characters of A-Z a-z 0-9 . _ -");
    }
    try {
      peerTls.put(peerId, new SecuritySettings.PeerTls(trustedCa, serverName));
    } catch (IllegalArgumentException e) {
      throw invalid("security.tls.peers." + peerId + ".serverName", serverName, "a DNS name of at most 253 characters");
    }
    return self();
  }

  /**
   * The cluster token every stream must carry (default: none). At least 16 visible ASCII
   * characters, e.g. from {@code openssl rand -hex 32}. Never logged; an error never shows it.
   */
  public SyncNode.Builder token(String value) {
    try {
      this.token = ClusterToken.of(value, "security.token");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(SOURCE, "security.token", "<hidden>", e.getMessage(), "a token of 16 to 4096 visible ASCII characters");
    }
    return self();
  }

  /**
   * The cluster token, read from {@code file} now and again whenever it changes. The file holds
   * one token per line: the first is sent, every one is accepted (for rotation).
   */
  public SyncNode.Builder tokenFile(Path file) {
    if (file == null) {
      throw invalid("security.tokenFile", null, "a file path");
    }
    try {
      this.token = ClusterToken.fromFile(file);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(SOURCE, "security.tokenFile", file.toString(), e.getMessage(), "a readable file with one token per line");
    }
    return self();
  }

  /**
   * The node ids that may subscribe to this node (default: empty, which admits every node that
   * authenticates with the cluster's CA or token). Its own peers are not added automatically: a
   * hub that serves spokes it does not pull from must list them too.
   */
  public SyncNode.Builder allowedPeers(Collection<String> ids) {
    Objects.requireNonNull(ids, "allowedPeers");
    for (String id : ids) {
      if (id == null || !SyncNode.NODE_ID.matcher(id).matches()) {
        throw invalid("security.allowedPeers", id, "node ids, 1 to 64 characters of A-Z a-z 0-9 . _ -");
      }
    }
    allowedPeers.clear();
    allowedPeers.addAll(ids);
    return self();
  }

  /** Most replication streams served at once, all subscribers together (default {@value Defaults#MAX_INBOUND_STREAMS}). */
  public SyncNode.Builder maxInboundStreams(int n) {
    this.maxInboundStreams = positive("limits.maxInboundStreams", n, 100_000);
    return self();
  }

  /** Most replication streams one subscriber id may hold at once (default {@value Defaults#MAX_STREAMS_PER_PEER}: a reconnect overlaps). */
  public SyncNode.Builder maxStreamsPerPeer(int n) {
    this.maxStreamsPerPeer = positive("limits.maxStreamsPerPeer", n, 100_000);
    return self();
  }

  /** How long a connection may take to finish its handshake and a stream to send Hello (default {@link Defaults#HANDSHAKE_TIMEOUT}). */
  public SyncNode.Builder handshakeTimeout(Duration d) {
    this.handshakeTimeout = positive("limits.handshakeTimeout", d);
    return self();
  }

  /** How often TLS and token files are checked for changes (default {@link Defaults#SECURITY_RELOAD_INTERVAL}). */
  public SyncNode.Builder securityReloadInterval(Duration d) {
    this.securityReloadInterval = positive("security.reloadInterval", d);
    return self();
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

  private static Duration notNegative(String field, Duration d) {
    if (d == null || d.isNegative()) {
      throw invalid(field, String.valueOf(d), "a duration of 0 or more");
    }
    return d;
  }

  static ConfigException invalid(String field, String value, String expected) {
    return new ConfigException(SOURCE, field, value, value == null ? "missing" : "invalid value", expected);
  }
}
