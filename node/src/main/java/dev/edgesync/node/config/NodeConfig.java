package dev.edgesync.node.config;

import dev.edgesync.discovery.PeerSet;
import dev.edgesync.engine.Durability;
import java.nio.file.Path;
import java.time.Duration;
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
    Duration clockOffset) {

  /** Checks that nothing required is null. */
  public NodeConfig {
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
   * Replication tuning ({@code replication:} in the file).
   *
   * @param heartbeatInterval heartbeat period on idle streams
   * @param heartbeatTimeout silence after which a peer is considered gone and reconnected
   * @param reconnectBaseDelay first reconnect delay, doubled per failure with jitter
   * @param reconnectMaxDelay longest reconnect delay
   * @param batchMaxEntries most entries per replication batch
   * @param batchMaxBytes most bytes per replication batch
   * @param compression gzip on replication streams
   * @param maxClockSkew how far ahead of the local clock a remote timestamp may be
   */
  public record Replication(
      Duration heartbeatInterval,
      Duration heartbeatTimeout,
      Duration reconnectBaseDelay,
      Duration reconnectMaxDelay,
      int batchMaxEntries,
      int batchMaxBytes,
      boolean compression,
      Duration maxClockSkew) {}

  /**
   * Limits ({@code limits:} in the file).
   *
   * @param maxKeyBytes largest key
   * @param maxValueBytes largest value
   * @param writeQueueDepth most local writes waiting for the writer
   * @param httpMaxBodyBytes largest HTTP request body (PUT value or bulk JSON)
   */
  public record Limits(
      int maxKeyBytes, int maxValueBytes, int writeQueueDepth, int httpMaxBodyBytes) {}
}
