package dev.edgesync.engine.config;

import dev.edgesync.conflict.HybridLogicalClock;
import java.time.Duration;

/**
 * The one home of every default of an edgesync node. {@code SyncNode.Builder}, the settings
 * records of the engine's parts ({@code ReplicationSettings}, {@code SecuritySettings}, {@code
 * StoreOptions}) and the node program's configuration loader all read their defaults from here,
 * so an embedding application and {@code edgesync run} behave alike. The README's configuration
 * and limits tables document these values; change them together.
 *
 * <p>This package depends on no other package of the engine, so every one of them may read it.
 */
public final class Defaults {
  private Defaults() {}

  // ---- identity and addresses ----

  /** {@code cluster}: the cluster name. */
  public static final String CLUSTER = "default";

  /** {@code listen}: the host the replication server binds. */
  public static final String LISTEN_HOST = "0.0.0.0";

  /** {@code listen}: the port the replication server binds. */
  public static final int LISTEN_PORT = 7400;

  /** {@code listen} as {@code host:port}. */
  public static final String LISTEN = LISTEN_HOST + ":" + LISTEN_PORT;

  // ---- storage ----

  /**
   * {@code durability}: true for {@code fsync} (a write counts as committed once its group commit
   * is fsynced), false for {@code buffered}.
   */
  public static final boolean FSYNC = true;

  /** {@code limits.maxKeyBytes}: 1 KiB. */
  public static final int MAX_KEY_BYTES = 1024;

  /** {@code limits.maxValueBytes}: 1 MiB. */
  public static final int MAX_VALUE_BYTES = 1024 * 1024;

  /** {@code limits.writeQueueDepth}: writes waiting for the writer before local writes are refused. */
  public static final int WRITE_QUEUE_DEPTH = 10_000;

  /** {@code limits.groupCommitMaxEntries}: most entries committed in one group commit. */
  public static final int GROUP_COMMIT_MAX_ENTRIES = 4096;

  /** {@code limits.cacheMaxEntries}: entries in the key-to-version cache. */
  public static final int CACHE_MAX_ENTRIES = 100_000;

  /** {@code limits.listenerQueueCapacity}: changes a listener may fall behind before it is unsubscribed. */
  public static final int LISTENER_QUEUE_CAPACITY = 10_000;

  /** {@code replication.maxClockSkew}: 60 s, the hybrid logical clock's own default. */
  public static final Duration MAX_CLOCK_SKEW = HybridLogicalClock.DEFAULT_MAX_CLOCK_SKEW;

  // ---- replication ----

  /** {@code replication.heartbeatInterval}: 1 s. */
  public static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(1);

  /** {@code replication.heartbeatTimeout}: 5 s. */
  public static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(5);

  /**
   * {@code replication.stallTimeout} when it is not set: this many heartbeat timeouts (see {@link
   * #stallTimeout(Duration)}).
   */
  public static final int STALL_TIMEOUT_HEARTBEAT_TIMEOUTS = 3;

  /**
   * {@code replication.stallTimeout}: 15 s, three heartbeat timeouts ({@link
   * #stallTimeout(Duration)} of the default heartbeat timeout).
   */
  public static final Duration STALL_TIMEOUT = stallTimeout(HEARTBEAT_TIMEOUT);

  /**
   * The {@code replication.stallTimeout} of a node that does not set it: {@value
   * #STALL_TIMEOUT_HEARTBEAT_TIMEOUTS} x its heartbeat timeout. A connected peer that this node is
   * behind and whose watermark has not advanced for this long is reported stalled and its stream
   * reopened. Longer than the heartbeat timeout, so that a silent link is reported disconnected
   * first; it catches a link that still carries heartbeats (or whose silence does not count) but
   * no data.
   */
  public static Duration stallTimeout(Duration heartbeatTimeout) {
    return heartbeatTimeout.multipliedBy(STALL_TIMEOUT_HEARTBEAT_TIMEOUTS);
  }

  /** {@code replication.reconnectBaseDelay}: 200 ms. */
  public static final Duration RECONNECT_BASE_DELAY = Duration.ofMillis(200);

  /** {@code replication.reconnectMaxDelay}: 30 s. */
  public static final Duration RECONNECT_MAX_DELAY = Duration.ofSeconds(30);

  /** {@code replication.batchMaxEntries}: 1000. */
  public static final int BATCH_MAX_ENTRIES = 1000;

  /**
   * {@code replication.batchMaxBytes}: 1 MiB. An entry larger than this is sent in a batch of its
   * own, so it need not fit the largest value.
   */
  public static final int BATCH_MAX_BYTES = 1024 * 1024;

  /**
   * {@code replication.maxBatchesInFlight}: enough that the store commits one group while the next
   * batches arrive and decode, few enough that a node catching up holds a few MiB per peer.
   */
  public static final int MAX_BATCHES_IN_FLIGHT = 4;

  /**
   * {@code replication.antiEntropySettle}: 10 s. How long two nodes caught up with each other must
   * keep showing different digests before a repair starts: a few heartbeats, so that writes in
   * flight between them never count as a divergence.
   */
  public static final Duration ANTI_ENTROPY_SETTLE = Duration.ofSeconds(10);

  /** {@code replication.antiEntropyMinInterval}: 60 s between the starts of two repairs of one link. */
  public static final Duration ANTI_ENTROPY_MIN_INTERVAL = Duration.ofSeconds(60);

  /**
   * {@code replication.repairMaxEntries}: 10,000 rows sent per repair round (and at most 4 x
   * batchMaxBytes of keys and values); a larger difference is repaired over several rounds.
   */
  public static final int REPAIR_MAX_ENTRIES = 10_000;

  /** {@code replication.compression}: off. */
  public static final boolean COMPRESSION = false;

  /**
   * The largest inbound message of replication settings made without a node's limits ({@code
   * ReplicationSettings.defaults}): 16 MiB, room for a full batch plus one maximal (1 MiB) value
   * and the per-entry framing of the wire format. A node built by {@code SyncNode.Builder} derives
   * its own from its batch, key and value limits instead.
   */
  public static final int MAX_INBOUND_MESSAGE_BYTES = 16 * 1024 * 1024;

  // ---- security and inbound bounds ----

  /** {@code limits.maxInboundStreams}: replication streams served at once, all subscribers together. */
  public static final int MAX_INBOUND_STREAMS = 64;

  /** {@code limits.maxStreamsPerPeer}: 2, so a reconnect may overlap the stream it replaces. */
  public static final int MAX_STREAMS_PER_PEER = 2;

  /** {@code limits.handshakeTimeout}: 10 s for a TLS/HTTP2 handshake and for a stream's {@code Hello}. */
  public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /** {@code security.reloadInterval}: how often TLS and token files are checked for changes. */
  public static final Duration SECURITY_RELOAD_INTERVAL = Duration.ofSeconds(5);

  // ---- tombstone collection ----

  /** {@code gc.interval}: 5 s between two rounds of tombstone collection (shorter than the anti-entropy settle). */
  public static final Duration GC_INTERVAL = Duration.ofSeconds(5);

  /**
   * {@code gc.minAge}: 1 day. A tombstone goes no sooner than this after its delete, even once
   * every node holds it; at least 2 x {@code replication.maxClockSkew}. It is also the promise to
   * a site that writes before it ever connects (a new shop installed offline): it joins with those
   * writes if it connects within this time; with older data it is refused as stale (it could hold
   * keys deleted, and collected, meanwhile). Disk cost: one day of deletes.
   */
  public static final Duration GC_MIN_AGE = Duration.ofDays(1);

  /**
   * How often a node looks for values that expired, to tell its change listeners (not a setting:
   * expiry itself needs no check, reads judge it against the clock); each look announces at most
   * {@code gc.batchSize} and the next follows at once while more are left.
   */
  public static final Duration EXPIRY_ANNOUNCE_INTERVAL = Duration.ofSeconds(1);

  /** {@code gc.batchSize}: tombstones purged per round, in one write. */
  public static final int GC_BATCH_SIZE = 10_000;
}
