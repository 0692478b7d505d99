package dev.edgesync.node.config;

import static dev.edgesync.node.config.ConfigLoader.DEFAULT_CLUSTER;
import static dev.edgesync.node.config.ConfigLoader.DEFAULT_HTTP;
import static dev.edgesync.node.config.ConfigLoader.DEFAULT_LISTEN;
import static dev.edgesync.node.config.ConfigLoader.ENV_HTTP_TLS_CERT;
import static dev.edgesync.node.config.ConfigLoader.ENV_HTTP_TLS_KEY;
import static dev.edgesync.node.config.ConfigLoader.ENV_HTTP_TOKEN;
import static dev.edgesync.node.config.ConfigLoader.ENV_NODE_ID;
import static dev.edgesync.node.config.ConfigLoader.ENV_TLS_CA;
import static dev.edgesync.node.config.ConfigLoader.ENV_TLS_CERT;
import static dev.edgesync.node.config.ConfigLoader.ENV_TLS_KEY;
import static dev.edgesync.node.config.ConfigLoader.HTTP_BODY_SLACK_BYTES;
import static dev.edgesync.node.config.ConfigValues.ID_FORMAT;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSet;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.storage.Durability;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The configuration of {@link ConfigLoader} while it is being resolved: every value with the
 * source it came from (defaults, the file, a variable, a flag), so that the rules between fields,
 * checked once by {@link #build()}, name the source of the offending value.
 *
 * <p>Not thread-safe: one loader fills one draft.
 */
final class ConfigDraft {
  static final String DEFAULTS = "defaults";

  /** A value and where it came from, so cross-field errors can name the right source. */
  static final class Setting<T> {
    private T value;
    private String source;

    Setting(T value) {
      this.value = value;
      this.source = DEFAULTS;
    }

    void set(T v, String s) {
      this.value = v;
      this.source = s;
    }
  }

  final Setting<String> id = new Setting<>(null);
  final Setting<String> cluster = new Setting<>(DEFAULT_CLUSTER);
  final Setting<HostPort> listen =
      new Setting<>(HostPort.parse(DEFAULT_LISTEN, DEFAULTS, "listen"));
  final Setting<HostPort> http = new Setting<>(HostPort.parse(DEFAULT_HTTP, DEFAULTS, "http"));
  final Setting<Path> dataDir = new Setting<>(null);
  final Setting<PeerSet> peers = new Setting<>(PeerSet.empty());
  final Setting<Durability> durability = new Setting<>(Defaults.FSYNC ? Durability.FSYNC : Durability.BUFFERED);
  final Setting<Duration> heartbeatInterval = new Setting<>(Defaults.HEARTBEAT_INTERVAL);
  final Setting<Duration> heartbeatTimeout = new Setting<>(Defaults.HEARTBEAT_TIMEOUT);
  final Setting<Duration> reconnectBaseDelay = new Setting<>(Defaults.RECONNECT_BASE_DELAY);
  final Setting<Duration> reconnectMaxDelay = new Setting<>(Defaults.RECONNECT_MAX_DELAY);
  final Setting<Integer> batchMaxEntries = new Setting<>(Defaults.BATCH_MAX_ENTRIES);
  final Setting<Integer> batchMaxBytes = new Setting<>(Defaults.BATCH_MAX_BYTES);
  final Setting<Integer> maxBatchesInFlight =
      new Setting<>(Defaults.MAX_BATCHES_IN_FLIGHT);
  final Setting<Boolean> compression = new Setting<>(Defaults.COMPRESSION);
  final Setting<Duration> maxClockSkew = new Setting<>(Defaults.MAX_CLOCK_SKEW);
  // Null: Defaults.stallTimeout(heartbeatTimeout), derived by build().
  final Setting<Duration> stallTimeout = new Setting<>(null);
  final Setting<Duration> antiEntropySettle = new Setting<>(Defaults.ANTI_ENTROPY_SETTLE);
  final Setting<Duration> antiEntropyMinInterval = new Setting<>(Defaults.ANTI_ENTROPY_MIN_INTERVAL);
  final Setting<Integer> repairMaxEntries = new Setting<>(Defaults.REPAIR_MAX_ENTRIES);
  final Setting<Integer> maxProtocolVersion =
      new Setting<>(dev.edgesync.engine.replication.wire.ProtocolVersion.CURRENT);
  final Setting<Duration> gcInterval = new Setting<>(Defaults.GC_INTERVAL);
  final Setting<Duration> gcMinAge = new Setting<>(Defaults.GC_MIN_AGE);
  final Setting<Integer> gcBatchSize = new Setting<>(Defaults.GC_BATCH_SIZE);
  final Setting<Boolean> gcEnabled = new Setting<>(true);
  final Setting<Integer> maxKeyBytes = new Setting<>(Defaults.MAX_KEY_BYTES);
  final Setting<Integer> maxValueBytes = new Setting<>(Defaults.MAX_VALUE_BYTES);
  final Setting<Integer> writeQueueDepth = new Setting<>(Defaults.WRITE_QUEUE_DEPTH);
  final Setting<Integer> httpMaxBodyBytes = new Setting<>(null);
  final Setting<Duration> httpFeedWriteTimeout =
      new Setting<>(ConfigLoader.HTTP_FEED_WRITE_TIMEOUT);
  final Setting<Integer> maxInboundStreams =
      new Setting<>(Defaults.MAX_INBOUND_STREAMS);
  final Setting<Integer> maxStreamsPerPeer =
      new Setting<>(Defaults.MAX_STREAMS_PER_PEER);
  final Setting<Duration> handshakeTimeout =
      new Setting<>(Defaults.HANDSHAKE_TIMEOUT);
  final Setting<Path> tlsCert = new Setting<>(null);
  final Setting<Path> tlsKey = new Setting<>(null);
  final Setting<Path> tlsCa = new Setting<>(null);
  final Setting<Map<String, NodeConfig.PeerTls>> peerTls = new Setting<>(Map.of());
  final Setting<NodeConfig.Secret> token = new Setting<>(null);
  final Setting<List<String>> allowedPeers = new Setting<>(List.of());
  final Setting<String> dnsSrv = new Setting<>(null);
  final Setting<Duration> dnsInterval = new Setting<>(NodeConfig.Discovery.OFF.dnsInterval());
  final Setting<List<HostPort>> dnsServers = new Setting<>(List.of());
  final Setting<Duration> reloadInterval = new Setting<>(Defaults.SECURITY_RELOAD_INTERVAL);
  final Setting<NodeConfig.Secret> httpToken = new Setting<>(null);
  final Setting<Path> httpTlsCert = new Setting<>(null);
  final Setting<Path> httpTlsKey = new Setting<>(null);
  Path configFile;
  boolean peersFromFile;
  Duration clockOffset = Duration.ZERO;

  NodeConfig build() {
    if (id.value == null) {
      throw new ConfigException(
          "configuration",
          "id",
          null,
          "no node id is set",
          "--id, " + ENV_NODE_ID + " or 'id:' in the config file; " + ID_FORMAT);
    }
    if (peers.value.contains(id.value)) {
      throw new ConfigException(
          peers.source,
          "peers",
          peers.value.toString(),
          "the list holds this node's own id '" + id.value + "'",
          "only the other nodes; remove " + id.value);
    }
    if (heartbeatTimeout.value.compareTo(heartbeatInterval.value.multipliedBy(2)) < 0) {
      throw new ConfigException(
          heartbeatTimeout.source,
          "replication.heartbeatTimeout",
          Durations.format(heartbeatTimeout.value),
          "shorter than twice the heartbeat interval",
          "at least 2 x replication.heartbeatInterval ("
              + Durations.format(heartbeatInterval.value.multipliedBy(2))
              + ")");
    }
    Duration stall =
        stallTimeout.value != null ? stallTimeout.value : Defaults.stallTimeout(heartbeatTimeout.value);
    if (stall.compareTo(heartbeatInterval.value.multipliedBy(2)) < 0) {
      throw new ConfigException(
          stallTimeout.value != null ? stallTimeout.source : heartbeatInterval.source,
          "replication.stallTimeout",
          Durations.format(stall),
          "shorter than twice the heartbeat interval",
          "at least 2 x replication.heartbeatInterval ("
              + Durations.format(heartbeatInterval.value.multipliedBy(2))
              + ")");
    }
    if (reconnectMaxDelay.value.compareTo(reconnectBaseDelay.value) < 0) {
      throw new ConfigException(
          reconnectMaxDelay.source,
          "replication.reconnectMaxDelay",
          Durations.format(reconnectMaxDelay.value),
          "shorter than the base delay",
          "at least replication.reconnectBaseDelay ("
              + Durations.format(reconnectBaseDelay.value)
              + ")");
    }
    int bodyLimit =
        httpMaxBodyBytes.value != null
            ? httpMaxBodyBytes.value
            : (int)
                Math.min(
                    Integer.MAX_VALUE - 8, (long) maxValueBytes.value + HTTP_BODY_SLACK_BYTES);
    if (bodyLimit < maxValueBytes.value) {
      throw new ConfigException(
          httpMaxBodyBytes.source,
          "limits.httpMaxBodyBytes",
          Integer.toString(bodyLimit),
          "smaller than the largest value, so such a value could not be written over HTTP",
          "at least limits.maxValueBytes (" + maxValueBytes.value + ")");
    }
    NodeConfig.Security security = security();
    Path dir = dataDir.value != null ? dataDir.value : Path.of("data", id.value);
    return new NodeConfig(
        id.value,
        cluster.value,
        listen.value,
        http.value,
        dir,
        peers.value,
        durability.value,
        new NodeConfig.Replication(
            heartbeatInterval.value,
            heartbeatTimeout.value,
            reconnectBaseDelay.value,
            reconnectMaxDelay.value,
            batchMaxEntries.value,
            batchMaxBytes.value,
            maxBatchesInFlight.value,
            compression.value,
            maxClockSkew.value,
            stall,
            antiEntropySettle.value,
            antiEntropyMinInterval.value,
            repairMaxEntries.value,
            maxProtocolVersion.value,
            gc()),
        new NodeConfig.Limits(
            maxKeyBytes.value,
            maxValueBytes.value,
            writeQueueDepth.value,
            bodyLimit,
            httpFeedWriteTimeout.value),
        configFile,
        peersFromFile && configFile != null,
        clockOffset,
        security,
        new NodeConfig.Discovery(dnsSrv.value, dnsInterval.value, dnsServers.value));
  }

  private dev.edgesync.engine.replication.GcSettings gc() {
    if (gcMinAge.value.compareTo(maxClockSkew.value.multipliedBy(2)) < 0) {
      throw new ConfigException(
          gcMinAge.source,
          "gc.minAge",
          Durations.format(gcMinAge.value),
          "shorter than 2 x replication.maxClockSkew: the tombstone horizon may run up to the skew ahead of the wall"
              + " clocks, and a new node whose clock is behind by up to the skew could write below it",
          "at least 2 x replication.maxClockSkew (" + Durations.format(maxClockSkew.value.multipliedBy(2)) + ")");
    }
    return new dev.edgesync.engine.replication.GcSettings(
        gcInterval.value, gcMinAge.value, gcBatchSize.value, gcEnabled.value);
  }

  private NodeConfig.Security security() {
    List<Setting<Path>> tls = List.of(tlsCert, tlsKey, tlsCa);
    long given = tls.stream().filter(t -> t.value != null).count();
    if (given != 0 && given != 3) {
      Setting<Path> some = tls.stream().filter(t -> t.value != null).findFirst().orElseThrow();
      throw new ConfigException(
          some.source,
          "security.tls",
          "cert " + tlsCert.value + ", key " + tlsKey.value + ", ca " + tlsCa.value,
          "TLS needs all three files, " + (3 - given) + " missing",
          "security.tls.cert, security.tls.key and security.tls.ca (or "
              + ENV_TLS_CERT
              + ", "
              + ENV_TLS_KEY
              + ", "
              + ENV_TLS_CA
              + ")");
    }
    if (given == 0 && !peerTls.value.isEmpty()) {
      throw new ConfigException(
          peerTls.source,
          "security.tls.peers",
          peerTls.value.keySet().toString(),
          "per-peer TLS settings without TLS",
          "security.tls.cert, key and ca as well");
    }
    if ((httpTlsCert.value == null) != (httpTlsKey.value == null)) {
      Setting<Path> some = httpTlsCert.value != null ? httpTlsCert : httpTlsKey;
      throw new ConfigException(
          some.source,
          "security.http.tls",
          "cert " + httpTlsCert.value + ", key " + httpTlsKey.value,
          "HTTPS needs both files",
          "security.http.tls.cert and security.http.tls.key (or "
              + ENV_HTTP_TLS_CERT
              + " and "
              + ENV_HTTP_TLS_KEY
              + ")");
    }
    if (maxStreamsPerPeer.value > maxInboundStreams.value) {
      throw new ConfigException(
          maxStreamsPerPeer.source,
          "limits.maxStreamsPerPeer",
          Integer.toString(maxStreamsPerPeer.value),
          "more than limits.maxInboundStreams",
          "at most limits.maxInboundStreams (" + maxInboundStreams.value + ")");
    }
    if (httpToken.value == null && !http.value.isLoopback()) {
      throw new ConfigException(
          http.source,
          "http",
          http.value.toString(),
          "the HTTP API would be open to the network without a token: it reads and writes every"
              + " key",
          "a bearer token in "
              + ENV_HTTP_TOKEN
              + ", security.http.token or security.http.tokenFile, or a loopback address such as"
              + " "
              + DEFAULT_HTTP);
    }
    return new NodeConfig.Security(
        tlsCert.value,
        tlsKey.value,
        tlsCa.value,
        peerTls.value,
        token.value,
        allowedPeers.value,
        reloadInterval.value,
        maxInboundStreams.value,
        maxStreamsPerPeer.value,
        handshakeTimeout.value,
        httpToken.value,
        httpTlsCert.value,
        httpTlsKey.value);
  }
}
