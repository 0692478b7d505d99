package dev.edgesync.engine.replication;

import dev.edgesync.engine.config.Defaults;
import java.time.Duration;
import java.util.Objects;

/**
 * When anti-entropy repairs a link, and how much one repair may send. Validated when made; a rule
 * violation names the setting and the value.
 *
 * @param settle how long two nodes caught up with each other must keep showing different state
 *     digests (at every heartbeat) before the subscriber asks for a repair
 * @param minInterval least time between the starts of two repairs of one subscription
 * @param repairMaxEntries most state rows a publisher sends for one repair request (it also stops
 *     at 4 x {@code batchMaxBytes} of keys and values); the next round continues
 */
public record AntiEntropySettings(Duration settle, Duration minInterval, int repairMaxEntries) {
  /** The defaults of {@link Defaults}. */
  public static final AntiEntropySettings DEFAULTS =
      new AntiEntropySettings(
          Defaults.ANTI_ENTROPY_SETTLE, Defaults.ANTI_ENTROPY_MIN_INTERVAL, Defaults.REPAIR_MAX_ENTRIES);

  /** Validates every field. */
  public AntiEntropySettings {
    Objects.requireNonNull(settle, "replication.antiEntropySettle");
    Objects.requireNonNull(minInterval, "replication.antiEntropyMinInterval");
    if (settle.isNegative()) {
      throw new IllegalArgumentException(
          "invalid replication.antiEntropySettle: '" + settle + "'; expected a duration of 0 or more");
    }
    if (minInterval.isNegative()) {
      throw new IllegalArgumentException(
          "invalid replication.antiEntropyMinInterval: '" + minInterval + "'; expected a duration of 0 or more");
    }
    if (repairMaxEntries < 1 || repairMaxEntries > 1_000_000) {
      throw new IllegalArgumentException(
          "invalid replication.repairMaxEntries: '" + repairMaxEntries + "'; expected 1 to 1000000 (default "
              + Defaults.REPAIR_MAX_ENTRIES + ")");
    }
  }
}
