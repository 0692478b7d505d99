package dev.edgesync.engine.replication;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.security.SecuritySettings;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Settings of a node's replication: its identity on the wire, timers, batch and message bounds.
 * Validated once, when made; every rule violation names the field and the value.
 *
 * @param nodeId this node's id, sent in {@code Hello} and {@code Welcome}
 * @param cluster the cluster name; nodes of different clusters refuse each other
 * @param listenHost address the replication server binds, e.g. {@code 0.0.0.0} or {@code
 *     127.0.0.1}
 * @param listenPort port the replication server binds; 0 picks a free port (see {@link
 *     ReplicationEngine#boundPort()})
 * @param heartbeatInterval a side that has sent nothing for this long sends a {@code Heartbeat}
 * @param heartbeatTimeout a side that has heard nothing for this long drops the stream; must be
 *     at least twice {@code heartbeatInterval}
 * @param reconnectBaseDelay smallest delay before re-opening a failed stream
 * @param reconnectMaxDelay largest delay before re-opening a failed stream
 * @param batchMaxEntries most entries the publisher puts in one {@code Batch}
 * @param batchMaxBytes approximate byte size at which the publisher closes a {@code Batch}
 * @param maxInboundMessageBytes largest message accepted from a peer, on the server and on every
 *     channel; must exceed {@code batchMaxBytes} (a batch may overshoot it by one entry)
 * @param maxBatchesInFlight most batches of one peer that this node holds at a time, handed to its
 *     store and not yet committed; the next one is only read from the stream when a commit frees
 *     a slot, so a fast publisher waits in gRPC flow control instead of filling this node's heap
 *     (at most {@code maxBatchesInFlight x maxInboundMessageBytes} per peer)
 * @param compression gzip every stream this node opens and every stream it serves
 * @param security TLS, token, allowlist and inbound stream bounds ({@link SecuritySettings#none()}
 *     for plaintext without authentication)
 * @param antiEntropy when digests that differ start a repair, and how much one repair sends
 * @param stallTimeout how long a connected peer that this node is behind may go without its
 *     watermark advancing before the link is reported stalled and its stream reopened; at least
 *     twice {@code heartbeatInterval} (ticks come every half interval), and longer than one batch
 *     takes to arrive and commit. It may be shorter than {@code heartbeatTimeout}: a silent link
 *     that is behind is then reported stalled before it counts as disconnected. Default {@link
 *     Defaults#stallTimeout 3 x heartbeatTimeout}
 * @param gc tombstone collection
 * @param maxProtocolVersion the newest replication protocol version this node speaks, {@link
 *     ProtocolVersion#MIN} to {@link ProtocolVersion#CURRENT} (the default). Lower only while sites
 *     of an older build remain: a node that speaks at most version 1 refuses writes with a ttl,
 *     which such sites could not receive (see docs/OPERATIONS, "Rolling upgrades")
 */
public record ReplicationSettings(
    String nodeId,
    String cluster,
    String listenHost,
    int listenPort,
    Duration heartbeatInterval,
    Duration heartbeatTimeout,
    Duration reconnectBaseDelay,
    Duration reconnectMaxDelay,
    int batchMaxEntries,
    int batchMaxBytes,
    int maxInboundMessageBytes,
    int maxBatchesInFlight,
    boolean compression,
    SecuritySettings security,
    AntiEntropySettings antiEntropy,
    Duration stallTimeout,
    GcSettings gc,
    int maxProtocolVersion) {

  /**
   * Headroom a message needs beyond {@code batchMaxBytes} for framing of a full batch; {@code
   * SyncNode.Builder} adds it to derive {@link #maxInboundMessageBytes()}.
   */
  public static final int MIN_MESSAGE_HEADROOM_BYTES = 64 * 1024;

  /** Validates every field; see the record description for the rules. */
  public ReplicationSettings {
    Objects.requireNonNull(security, "replication.security (use SecuritySettings.none())");
    Objects.requireNonNull(antiEntropy, "replication.antiEntropy (use AntiEntropySettings.DEFAULTS)");
    Objects.requireNonNull(gc, "gc (use GcSettings.DEFAULTS)");
    require(nodeId != null && PeerSpec.isValidId(nodeId), "nodeId", nodeId, PeerSpec.ID_FORMAT);
    require(
        cluster != null && !cluster.isBlank() && cluster.length() <= 128,
        "cluster",
        cluster,
        "1 to 128 characters, not blank");
    require(listenHost != null && !listenHost.isBlank(), "listenHost", listenHost, "a host name or IP address");
    require(listenPort >= 0 && listenPort <= 65535, "listenPort", listenPort, "0 (any free port) to 65535");
    requirePositive(heartbeatInterval, "heartbeatInterval");
    requirePositive(heartbeatTimeout, "heartbeatTimeout");
    require(
        heartbeatTimeout.compareTo(heartbeatInterval.multipliedBy(2)) >= 0,
        "heartbeatTimeout",
        heartbeatTimeout,
        "at least twice heartbeatInterval (" + heartbeatInterval + ") so one late heartbeat does not drop a healthy stream");
    requirePositive(reconnectBaseDelay, "reconnectBaseDelay");
    requirePositive(reconnectMaxDelay, "reconnectMaxDelay");
    require(
        reconnectMaxDelay.compareTo(reconnectBaseDelay) >= 0,
        "reconnectMaxDelay",
        reconnectMaxDelay,
        "at least reconnectBaseDelay (" + reconnectBaseDelay + ")");
    require(batchMaxEntries >= 1 && batchMaxEntries <= 1_000_000, "batchMaxEntries", batchMaxEntries, "1 to 1000000");
    require(batchMaxBytes >= 1, "batchMaxBytes", batchMaxBytes, "at least 1 (a batch always holds one entry)");
    require(
        (long) maxInboundMessageBytes >= (long) batchMaxBytes + MIN_MESSAGE_HEADROOM_BYTES,
        "maxInboundMessageBytes",
        maxInboundMessageBytes,
        "at least batchMaxBytes (" + batchMaxBytes + ") + " + MIN_MESSAGE_HEADROOM_BYTES
            + " bytes of framing; a batch may also overshoot batchMaxBytes by one entry, so allow"
            + " for the largest value too (default " + Defaults.MAX_INBOUND_MESSAGE_BYTES + ")");
    require(
        maxBatchesInFlight >= 1 && maxBatchesInFlight <= 1024,
        "maxBatchesInFlight",
        maxBatchesInFlight,
        "1 to 1024 (default " + Defaults.MAX_BATCHES_IN_FLIGHT + ")");
    requirePositive(stallTimeout, "stallTimeout");
    require(
        stallTimeout.compareTo(heartbeatInterval.multipliedBy(2)) >= 0,
        "stallTimeout",
        stallTimeout,
        "at least twice heartbeatInterval (" + heartbeatInterval + "); default "
            + Defaults.STALL_TIMEOUT_HEARTBEAT_TIMEOUTS + " x heartbeatTimeout");
    require(
        maxProtocolVersion >= ProtocolVersion.MIN && maxProtocolVersion <= ProtocolVersion.CURRENT,
        "maxProtocolVersion",
        maxProtocolVersion,
        ProtocolVersion.range(ProtocolVersion.MIN, ProtocolVersion.CURRENT) + " (default " + ProtocolVersion.CURRENT
            + ", the newest this build speaks)");
  }

  /**
   * The design defaults ({@link Defaults}): bind {@code 0.0.0.0:7400}, 1 s heartbeats with a 5 s
   * timeout, reconnect between 200 ms and 30 s, batches of 1000 entries or 1 MiB, 16 MiB messages,
   * no compression.
   */
  public static ReplicationSettings defaults(String nodeId, String cluster) {
    return new ReplicationSettings(
        nodeId,
        cluster,
        Defaults.LISTEN_HOST,
        Defaults.LISTEN_PORT,
        Defaults.HEARTBEAT_INTERVAL,
        Defaults.HEARTBEAT_TIMEOUT,
        Defaults.RECONNECT_BASE_DELAY,
        Defaults.RECONNECT_MAX_DELAY,
        Defaults.BATCH_MAX_ENTRIES,
        Defaults.BATCH_MAX_BYTES,
        Defaults.MAX_INBOUND_MESSAGE_BYTES,
        Defaults.MAX_BATCHES_IN_FLIGHT,
        Defaults.COMPRESSION,
        SecuritySettings.none(),
        AntiEntropySettings.DEFAULTS,
        Defaults.stallTimeout(Defaults.HEARTBEAT_TIMEOUT),
        GcSettings.DEFAULTS,
        ProtocolVersion.CURRENT);
  }

  /** A copy listening on {@code host:port}. */
  public ReplicationSettings withListen(String host, int port) {
    return with(c -> {
      c.listenHost = host;
      c.listenPort = port;
    });
  }

  /** A copy in another cluster. */
  public ReplicationSettings withCluster(String newCluster) {
    return with(c -> c.cluster = newCluster);
  }

  /**
   * A copy with other heartbeat timers. A stall timeout at its default ({@value
   * Defaults#STALL_TIMEOUT_HEARTBEAT_TIMEOUTS} x the old heartbeat timeout) follows the new one; a
   * stall timeout set on purpose is kept.
   */
  public ReplicationSettings withHeartbeat(Duration interval, Duration timeout) {
    boolean stallAtDefault = stallTimeout.equals(Defaults.stallTimeout(heartbeatTimeout)) && timeout != null;
    return with(c -> {
      c.heartbeatInterval = interval;
      c.heartbeatTimeout = timeout;
      if (stallAtDefault) {
        c.stallTimeout = Defaults.stallTimeout(timeout);
      }
    });
  }

  /** A copy with other reconnect delays. */
  public ReplicationSettings withReconnect(Duration base, Duration max) {
    return with(c -> {
      c.reconnectBaseDelay = base;
      c.reconnectMaxDelay = max;
    });
  }

  /** A copy with other batch bounds. */
  public ReplicationSettings withBatch(int maxEntries, int maxBytes) {
    return with(c -> {
      c.batchMaxEntries = maxEntries;
      c.batchMaxBytes = maxBytes;
    });
  }

  /** A copy with another batch byte bound and largest accepted message (checked together). */
  public ReplicationSettings withMessageBounds(int newBatchMaxBytes, int newMaxInboundMessageBytes) {
    return with(c -> {
      c.batchMaxBytes = newBatchMaxBytes;
      c.maxInboundMessageBytes = newMaxInboundMessageBytes;
    });
  }

  /** A copy holding at most {@code n} uncommitted batches per peer. */
  public ReplicationSettings withMaxBatchesInFlight(int n) {
    return with(c -> c.maxBatchesInFlight = n);
  }

  /** A copy with compression on or off. */
  public ReplicationSettings withCompression(boolean on) {
    return with(c -> c.compression = on);
  }

  /** A copy with other security settings. */
  public ReplicationSettings withSecurity(SecuritySettings newSecurity) {
    return with(c -> c.security = newSecurity);
  }

  /** A copy with other tombstone collection settings. */
  public ReplicationSettings withGc(GcSettings newGc) {
    return with(c -> c.gc = newGc);
  }

  /** A copy with other anti-entropy settings. */
  public ReplicationSettings withAntiEntropy(AntiEntropySettings newAntiEntropy) {
    return with(c -> c.antiEntropy = newAntiEntropy);
  }

  /** A copy with another stall timeout. */
  public ReplicationSettings withStallTimeout(Duration newStallTimeout) {
    return with(c -> c.stallTimeout = newStallTimeout);
  }

  /** A copy that speaks replication protocol versions up to {@code version}. */
  public ReplicationSettings withMaxProtocolVersion(int version) {
    return with(c -> c.maxProtocolVersion = version);
  }

  /** A copy with the changes {@code change} makes; validated like any new settings. */
  private ReplicationSettings with(Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return c.build();
  }

  /** The fields of settings being copied, for the withers: the one place besides the record that lists them all. */
  private static final class Copy {
    String nodeId;
    String cluster;
    String listenHost;
    int listenPort;
    Duration heartbeatInterval;
    Duration heartbeatTimeout;
    Duration reconnectBaseDelay;
    Duration reconnectMaxDelay;
    int batchMaxEntries;
    int batchMaxBytes;
    int maxInboundMessageBytes;
    int maxBatchesInFlight;
    boolean compression;
    SecuritySettings security;
    AntiEntropySettings antiEntropy;
    Duration stallTimeout;
    GcSettings gc;
    int maxProtocolVersion;

    Copy(ReplicationSettings s) {
      nodeId = s.nodeId;
      cluster = s.cluster;
      listenHost = s.listenHost;
      listenPort = s.listenPort;
      heartbeatInterval = s.heartbeatInterval;
      heartbeatTimeout = s.heartbeatTimeout;
      reconnectBaseDelay = s.reconnectBaseDelay;
      reconnectMaxDelay = s.reconnectMaxDelay;
      batchMaxEntries = s.batchMaxEntries;
      batchMaxBytes = s.batchMaxBytes;
      maxInboundMessageBytes = s.maxInboundMessageBytes;
      maxBatchesInFlight = s.maxBatchesInFlight;
      compression = s.compression;
      security = s.security;
      antiEntropy = s.antiEntropy;
      stallTimeout = s.stallTimeout;
      gc = s.gc;
      maxProtocolVersion = s.maxProtocolVersion;
    }

    ReplicationSettings build() {
      return new ReplicationSettings(
          nodeId, cluster, listenHost, listenPort, heartbeatInterval, heartbeatTimeout, reconnectBaseDelay,
          reconnectMaxDelay, batchMaxEntries, batchMaxBytes, maxInboundMessageBytes, maxBatchesInFlight, compression,
          security, antiEntropy, stallTimeout, gc, maxProtocolVersion);
    }
  }

  private static void requirePositive(Duration value, String field) {
    Objects.requireNonNull(value, "replication." + field);
    require(!value.isNegative() && !value.isZero(), field, value, "a positive duration");
  }

  private static void require(boolean ok, String field, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(
          "invalid replication." + field + ": " + (value == null ? "missing" : "'" + value + "'")
              + "; expected " + expected);
    }
  }
}
