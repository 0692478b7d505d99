package dev.edgesync.engine.replication.core;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Reconnect delays: exponential growth with full jitter, between a base and a cap.
 *
 * <p>The n-th delay after a reset (n = 0, 1, ...) is drawn uniformly from {@code [base,
 * min(cap, base * 2^(n+1))]}. Full jitter spreads the reconnects of many subscribers of one
 * restarted publisher over the whole window instead of synchronising them; the lower bound keeps
 * even an unlucky draw from hammering a peer that just failed. {@link #reset()} goes back to the
 * first window, and is called after a stream that worked.
 *
 * <p>Pure and not thread-safe: the owner serialises calls. The random source is injected so a
 * test (or a simulation) can seed it.
 */
public final class Backoff {
  private final long baseNanos;
  private final long capNanos;
  private final RandomGenerator random;
  private int attempt;

  public Backoff(Duration base, Duration cap, RandomGenerator random) {
    this.baseNanos = base.toNanos();
    this.capNanos = cap.toNanos();
    this.random = Objects.requireNonNull(random, "random");
    if (baseNanos <= 0 || capNanos < baseNanos) {
      throw new IllegalArgumentException("need 0 < base <= cap, got base " + base + ", cap " + cap);
    }
  }

  /** The next delay; each call widens the window until it reaches the cap. */
  Duration nextDelay() {
    long ceiling = ceilingNanos(attempt);
    if (attempt < 62) {
      attempt++;
    }
    long span = ceiling - baseNanos;
    return Duration.ofNanos(baseNanos + (span == 0 ? 0 : random.nextLong(span + 1)));
  }

  /** The upper end of the window of the {@code n}-th delay. */
  long ceilingNanos(int n) {
    // Doubling overflows after ~62 steps; the cap is reached long before for any sane setting.
    long ceiling = baseNanos;
    for (int i = 0; i <= n && ceiling < capNanos; i++) {
      ceiling = ceiling > capNanos / 2 ? capNanos : ceiling * 2;
    }
    return Math.min(ceiling, capNanos);
  }

  /** Delays drawn since the last reset. */
  int attempts() {
    return attempt;
  }

  /** Starts over from the first window. */
  void reset() {
    attempt = 0;
  }
}
