package dev.edgesync.engine.replication;

import dev.edgesync.engine.config.Defaults;
import java.time.Duration;
import java.util.Objects;

/**
 * Tombstone collection (see {@link TombstoneGc}). Validated when made; a rule violation names the
 * setting and the value.
 *
 * @param interval time between two collection rounds (a round that leaves older tombstones is
 *     followed by the next at once)
 * @param minAge a tombstone goes no sooner than this after its delete, even when every node holds
 *     it; must be at least the maximum clock skew (checked by the node's configuration)
 * @param batchSize most tombstones purged by one round, in one write
 * @param enabled false: stable times are still exchanged, nothing is purged
 */
public record GcSettings(Duration interval, Duration minAge, int batchSize, boolean enabled) {
  /** The defaults of {@link Defaults}. */
  public static final GcSettings DEFAULTS = new GcSettings(Defaults.GC_INTERVAL, Defaults.GC_MIN_AGE, Defaults.GC_BATCH_SIZE, true);

  /** Validates every field. */
  public GcSettings {
    Objects.requireNonNull(interval, "gc.interval");
    Objects.requireNonNull(minAge, "gc.minAge");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("invalid gc.interval: '" + interval + "'; expected a positive duration");
    }
    if (minAge.isNegative()) {
      throw new IllegalArgumentException("invalid gc.minAge: '" + minAge + "'; expected a duration of 0 or more");
    }
    if (batchSize < 1 || batchSize > 1_000_000) {
      throw new IllegalArgumentException(
          "invalid gc.batchSize: '" + batchSize + "'; expected 1 to 1000000 (default " + Defaults.GC_BATCH_SIZE + ")");
    }
  }

  /**
   * The step purge horizons are rounded down to, so that nodes purge the same tombstones at about
   * the same moment and their state digests differ only briefly: a quarter of the minimum age, at
   * most a minute, at least the interval.
   */
  public long quantumMillis() {
    return Math.max(interval.toMillis(), Math.min(60_000, minAge.toMillis() / 4));
  }
}
