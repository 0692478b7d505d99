package dev.edgesync.engine;

import java.time.Duration;
import java.util.Objects;

/**
 * How many peers must confirm a write before {@code put} completes: the leaderless "sync" mode.
 * A peer confirms by acknowledging a seq of this node's log that covers the write, after it has
 * committed the write durably.
 *
 * @param peers number of distinct peers that must confirm; 0 means local commit only
 * @param timeout how long to wait for them
 */
public record Acks(int peers, Duration timeout) {
  private static final Acks NONE = new Acks(0, Duration.ZERO);

  public Acks {
    Objects.requireNonNull(timeout, "timeout");
    if (peers < 0) {
      throw new IllegalArgumentException("Acks.peers must be >= 0, got " + peers);
    }
    if (peers > 0 && (timeout.isNegative() || timeout.isZero())) {
      throw new IllegalArgumentException("Acks.timeout must be positive, got " + timeout);
    }
  }

  /** Local commit only (the default). */
  public static Acks none() {
    return NONE;
  }

  /** Wait for {@code peers} peers, at most {@code timeout}. */
  public static Acks of(int peers, Duration timeout) {
    return new Acks(peers, timeout);
  }
}
