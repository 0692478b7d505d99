package dev.edgesync.node.config;

import dev.edgesync.discovery.PeerSet;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.storage.Durability;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The resolved configuration of one node program: defaults, then the config file, then the
 * environment, then flags. Immutable; made and validated once by {@link ConfigLoader}.
 *
 * @param id the node id
 * @param cluster the cluster name
 * @param listen the gRPC (replication) bind address
 * @param http the HTTP API bind address
 * @param dataDir the data directory
 * @param peers the peers to replicate with
 * @param durability when a write counts as committed
 * @param replication replication tuning
 * @param limits size and queue limits
 * @param configFile the config file read, or null when none was given
 * @param peersFromFile true when the peers came from {@code configFile} (so a change of the file at
 *     run time changes them); false when the environment or a flag set them
 * @param clockOffset added to the system clock (fault tests only; zero otherwise)
 * @param security TLS, tokens, allowlist and inbound bounds of the replication port and the HTTP API
 * @param discovery peers from DNS, besides {@code peers}
 */
public record NodeConfig(
    String id,
    String cluster,
    HostPort listen,
    HostPort http,
    Path dataDir,
    PeerSet peers,
    Durability durability,
    Replication replication,
    Limits limits,
    Path configFile,
    boolean peersFromFile,
    Duration clockOffset,
    Security security,
    Discovery discovery) {

  /** A configuration without security settings ({@link Security#none()}). */
  public NodeConfig(
      String id,
      String cluster,
      HostPort listen,
      HostPort http,
      Path dataDir,
      PeerSet peers,
      Durability durability,
      Replication replication,
      Limits limits,
      Path configFile,
      boolean peersFromFile,
      Duration clockOffset) {
    this(
        id, cluster, listen, http, dataDir, peers, durability, replication, limits, configFile, peersFromFile,
        clockOffset, Security.none(), Discovery.OFF);
  }

  /** Checks that nothing required is null. */
  public NodeConfig {
    Objects.requireNonNull(security, "security");
    Objects.requireNonNull(discovery, "discovery");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(http, "http");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(peers, "peers");
    Objects.requireNonNull(durability, "durability");
    Objects.requireNonNull(replication, "replication");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(clockOffset, "clockOffset");
  }

  /**
   * Peers from the SRV records of a DNS name ({@code discovery:} in the file), re-resolved every
   * {@code dnsInterval}; they join the peers of the file, environment or flags.
   *
   * @param dnsSrv the SRV name, or null when DNS discovery is off
   * @param dnsInterval time between two lookups
   * @param dnsServers the DNS servers to ask; empty: the system's
   */
  public record Discovery(String dnsSrv, Duration dnsInterval, List<HostPort> dnsServers) {
    /** DNS discovery off. */
    public static final Discovery OFF = new Discovery(null, Duration.ofSeconds(30), List.of());

    public Discovery {
      dnsServers = List.copyOf(dnsServers);
    }
  }

  /**
   * Replication tuning ({@code replication:} in the file).
   *
   * @param heartbeatInterval heartbeat period on idle streams
   * @param heartbeatTimeout silence after which a peer is considered gone and reconnected
   * @param reconnectBaseDelay first reconnect delay, doubled per failure with jitter
   * @param reconnectMaxDelay longest reconnect delay
   * @param batchMaxEntries most entries per replication batch
   * @param batchMaxBytes most bytes per replication batch
   * @param maxBatchesInFlight most batches of one peer held uncommitted; the stream is read on as
   *     commits free a slot
   * @param compression gzip on replication streams
   * @param maxClockSkew how far ahead of the local clock a remote timestamp may be
   * @param stallTimeout how long a connected peer this node is behind may go without its
   *     watermark advancing before it is reported stalled and its stream reopened
   * @param antiEntropySettle how long two caught-up nodes must keep showing different digests
   *     before a repair starts
   * @param antiEntropyMinInterval least time between the starts of two repairs of one link
   * @param repairMaxEntries most state rows sent for one repair request
   * @param maxProtocolVersion the newest replication protocol version the node speaks
   * @param gc tombstone collection ({@code gc:} in the file)
   */
  public record Replication(
      Duration heartbeatInterval,
      Duration heartbeatTimeout,
      Duration reconnectBaseDelay,
      Duration reconnectMaxDelay,
      int batchMaxEntries,
      int batchMaxBytes,
      int maxBatchesInFlight,
      boolean compression,
      Duration maxClockSkew,
      Duration stallTimeout,
      Duration antiEntropySettle,
      Duration antiEntropyMinInterval,
      int repairMaxEntries,
      int maxProtocolVersion,
      dev.edgesync.engine.replication.GcSettings gc) {}

  /**
   * Limits ({@code limits:} in the file).
   *
   * @param maxKeyBytes largest key
   * @param maxValueBytes largest value
   * @param writeQueueDepth most local writes waiting for the writer
   * @param httpMaxBodyBytes largest HTTP request body (PUT value or bulk JSON)
   * @param httpFeedWriteTimeout how long a changes-feed client may leave the node's bytes untaken
   *     before it is disconnected
   */
  public record Limits(
      int maxKeyBytes,
      int maxValueBytes,
      int writeQueueDepth,
      int httpMaxBodyBytes,
      Duration httpFeedWriteTimeout) {}

  /**
   * A secret (a token) given inline or as a file. {@link #toString()} never shows the value.
   *
   * @param value the secret, or null when it is kept in {@code file}
   * @param file the file holding it (one token per line; the first is sent, all are accepted), or
   *     null
   */
  public record Secret(String value, Path file) {
    public Secret {
      if ((value == null) == (file == null)) {
        throw new IllegalArgumentException("a secret is either a value or a file");
      }
    }

    @Override
    public String toString() {
      return value != null ? "<hidden>" : "<from file " + file + ">";
    }
  }

  /**
   * Per-peer TLS overrides ({@code security.tls.peers.<id>}).
   *
   * @param ca CA bundle that signs this peer's certificate, or null for {@code security.tls.ca}
   * @param serverName the name the peer's certificate carries, or null for its node id
   */
  public record PeerTls(Path ca, String serverName) {}

  /**
   * Security of the replication port and the HTTP API ({@code security:} in the file). See
   * docs/SECURITY.md.
   *
   * @param tlsCert this node's PEM certificate chain, or null (then no TLS: all three are null)
   * @param tlsKey its PKCS#8 PEM private key
   * @param tlsCa PEM bundle of the CAs that sign peers' certificates
   * @param peerTls per-peer overrides, by peer id
   * @param token the cluster token, or null
   * @param allowedPeers node ids that may subscribe; empty admits every authenticated node
   * @param reloadInterval how often certificate, key, CA and token files are checked for changes
   * @param maxInboundStreams {@code limits.maxInboundStreams}
   * @param maxStreamsPerPeer {@code limits.maxStreamsPerPeer}
   * @param handshakeTimeout {@code limits.handshakeTimeout}
   * @param httpToken the bearer token of the HTTP API, or null (allowed only on loopback)
   * @param httpTlsCert PEM certificate chain for HTTPS on the HTTP API, or null for plain HTTP
   * @param httpTlsKey its PKCS#8 PEM private key
   */
  public record Security(
      Path tlsCert,
      Path tlsKey,
      Path tlsCa,
      Map<String, PeerTls> peerTls,
      Secret token,
      List<String> allowedPeers,
      Duration reloadInterval,
      int maxInboundStreams,
      int maxStreamsPerPeer,
      Duration handshakeTimeout,
      Secret httpToken,
      Path httpTlsCert,
      Path httpTlsKey) {
    public Security {
      peerTls = Map.copyOf(peerTls);
      allowedPeers = List.copyOf(allowedPeers);
    }

    /** No TLS, no tokens, no allowlist, the engine's default bounds. */
    public static Security none() {
      return new Security(
          null,
          null,
          null,
          Map.of(),
          null,
          List.of(),
          Defaults.SECURITY_RELOAD_INTERVAL,
          Defaults.MAX_INBOUND_STREAMS,
          Defaults.MAX_STREAMS_PER_PEER,
          Defaults.HANDSHAKE_TIMEOUT,
          null,
          null,
          null);
    }

    /** True when the replication port uses TLS. */
    public boolean tls() {
      return tlsCert != null;
    }

    /** True when the HTTP API serves HTTPS. */
    public boolean httpTls() {
      return httpTlsCert != null;
    }
  }
}
