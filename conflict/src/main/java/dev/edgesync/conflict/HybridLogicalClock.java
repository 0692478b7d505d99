package dev.edgesync.conflict;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

/**
 * A hybrid logical clock (Kulkarni et al.): timestamps that follow the wall clock when it moves
 * forward and never go backwards when it does not.
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>{@link #now()} returns strictly increasing values, whatever the injected wall clock does.
 *   <li>After {@link #update(long)} with a remote timestamp {@code r}, every later {@link #now()}
 *       is greater than {@code r}: a write made after seeing a remote version wins over it.
 *   <li>A remote timestamp whose physical part is more than {@code maxClockSkew} ahead of the
 *       local wall clock is refused ({@link ClockSkewException}) and changes nothing.
 * </ul>
 *
 * <p>Logical overflow: when more than 65,535 events share one millisecond, incrementing the
 * 64-bit value carries into the physical part, so the clock runs ahead of the wall clock by one
 * millisecond per 65,536 events until the wall clock catches up. Ordering is never violated.
 *
 * <p>Thread safety: all methods are safe to call from any thread.
 */
public final class HybridLogicalClock {
  /** Default maximum tolerated skew of remote timestamps, as in the design. */
  public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofSeconds(60);

  private final InstantSource wallClock;
  private final Duration maxClockSkew;
  private final long maxClockSkewMillis;
  private long last; // guarded by this
  private long peeked; // guarded by this: the highest peek()

  /**
   * Creates a clock.
   *
   * @param wallClock source of wall-clock time; tests inject a manual one
   * @param maxClockSkew how far ahead of the local wall clock a remote timestamp may be
   * @param initial a timestamp every later one must exceed (the persisted high-water mark after
   *     a restart, or 0)
   */
  public HybridLogicalClock(InstantSource wallClock, Duration maxClockSkew, long initial) {
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
    this.maxClockSkew = Objects.requireNonNull(maxClockSkew, "maxClockSkew");
    if (maxClockSkew.isNegative() || maxClockSkew.isZero()) {
      throw new IllegalArgumentException("maxClockSkew must be positive, got " + maxClockSkew);
    }
    if (initial < 0) {
      throw new IllegalArgumentException("initial timestamp must be >= 0, got " + initial);
    }
    this.maxClockSkewMillis = maxClockSkew.toMillis();
    this.last = initial;
  }

  /** Returns a new timestamp for a local event, greater than every timestamp seen so far. */
  public synchronized long now() {
    long wall = Hlc.of(Math.max(0, wallClock.millis()), 0);
    last = Math.max(wall, last + 1);
    return last;
  }

  /**
   * Accounts for a timestamp received from another node, so that later local timestamps exceed
   * it.
   *
   * @throws ClockSkewException if {@code remote} is more than {@code maxClockSkew} ahead of the
   *     local wall clock; the clock is unchanged then
   */
  public synchronized void update(long remote) throws ClockSkewException {
    check(remote);
    if (remote > last) {
      last = remote;
    }
  }

  /**
   * Checks a remote timestamp against the skew limit without changing the clock.
   *
   * @throws ClockSkewException if {@code remote} is too far in the future
   */
  public void check(long remote) throws ClockSkewException {
    long wallMillis = wallClock.millis();
    if (Hlc.physicalMillis(remote) - wallMillis > maxClockSkewMillis) {
      throw new ClockSkewException(remote, wallMillis, maxClockSkew);
    }
  }

  /**
   * The HLC time of this moment without issuing a new timestamp: the wall clock, or the highest
   * timestamp issued or seen when that is later. Reads judge expiry against it, so every node hides
   * an expiring value once its own clock reaches the value's expiry. It never goes back while the
   * clock lives, even when the wall clock is set back, so a value once read as expired never reads
   * as live again; it issues nothing, so {@link #current()} does not move.
   */
  public synchronized long peek() {
    peeked = Math.max(peeked, Math.max(Hlc.of(Math.max(0, wallClock.millis()), 0), last));
    return peeked;
  }

  /** Makes {@link #peek()} return at least {@code floor} from now on (a read time persisted before a restart). */
  public synchronized void raisePeekFloor(long floor) {
    peeked = Math.max(peeked, floor);
  }

  /** The highest timestamp issued or seen; persisted so that a restart never goes back. */
  public synchronized long current() {
    return last;
  }

  /** The configured skew limit. */
  public Duration maxClockSkew() {
    return maxClockSkew;
  }

  /** The wall clock this HLC reads. */
  public InstantSource wallClock() {
    return wallClock;
  }
}
