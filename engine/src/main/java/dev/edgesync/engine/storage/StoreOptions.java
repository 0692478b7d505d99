package dev.edgesync.engine.storage;

import dev.edgesync.engine.config.Defaults;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

/**
 * Settings of a {@link VersionedStore}, validated when built by {@code SyncNode.Builder}.
 *
 * @param nodeId this node's id; a data dir created under another id is refused
 * @param sync fsync every group commit ({@code Durability.FSYNC}) or not ({@code Durability.BUFFERED})
 * @param maxKeyBytes largest key accepted ({@code limits.maxKeyBytes})
 * @param maxValueBytes largest value accepted ({@code limits.maxValueBytes})
 * @param writeQueueDepth most writes and remote batches waiting for the writer ({@code
 *     limits.writeQueueDepth}); a full queue rejects local writes and blocks remote batches
 * @param groupCommitMaxEntries most entries committed in one {@code WriteBatch}
 * @param cacheMaxEntries size of the key to version cache
 * @param wallClock wall clock for the HLC
 * @param maxClockSkew how far ahead of the local clock a remote timestamp may be
 * @param conflictListener audit hook for LWW losers, or null
 */
public record StoreOptions(
    String nodeId,
    boolean sync,
    int maxKeyBytes,
    int maxValueBytes,
    int writeQueueDepth,
    int groupCommitMaxEntries,
    int cacheMaxEntries,
    InstantSource wallClock,
    Duration maxClockSkew,
    ConflictListener conflictListener) {

  public StoreOptions {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(wallClock, "wallClock");
    Objects.requireNonNull(maxClockSkew, "maxClockSkew");
    // SyncNode.Builder validates user input with the same names; this guards direct users (tests,
    // the simulation) against settings that would make the writer misbehave rather than fail.
    atLeast("limits.maxKeyBytes", maxKeyBytes, 1);
    atLeast("limits.maxValueBytes", maxValueBytes, 0);
    atLeast("limits.writeQueueDepth", writeQueueDepth, 1);
    atLeast("limits.groupCommitMaxEntries", groupCommitMaxEntries, 1);
    atLeast("limits.cacheMaxEntries", cacheMaxEntries, 0);
    if (maxClockSkew.isNegative() || maxClockSkew.isZero()) {
      throw new IllegalArgumentException("maxClockSkew must be positive, got " + maxClockSkew);
    }
  }

  private static void atLeast(String name, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
    }
  }

  /** Defaults for tests and the simulation: the design defaults ({@link Defaults}) for every limit. */
  public static StoreOptions defaults(String nodeId, InstantSource wallClock) {
    return new StoreOptions(
        nodeId,
        Defaults.FSYNC,
        Defaults.MAX_KEY_BYTES,
        Defaults.MAX_VALUE_BYTES,
        Defaults.WRITE_QUEUE_DEPTH,
        Defaults.GROUP_COMMIT_MAX_ENTRIES,
        Defaults.CACHE_MAX_ENTRIES,
        wallClock,
        Defaults.MAX_CLOCK_SKEW,
        null);
  }
}
