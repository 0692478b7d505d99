package dev.edgesync.engine.replication.core;

import java.time.Duration;
import java.time.Instant;

/**
 * Finds a stuck subscription: one that is connected, behind its peer ({@code lagEntries > 0}) and
 * whose committed watermark has not moved for {@code stallTimeout}. Heartbeats alone cannot see
 * it: a publisher whose reads hang still sends them, and a subscriber whose store holds its
 * batches does not count silence at all (see {@link Liveness#pause()}).
 *
 * <p>The clock only runs while an attempt is connected and behind: it starts at the first tick
 * that sees lag, restarts at every change of the committed seq (progress), and stops when the lag
 * is 0. A peer that is not connected is disconnected, not stalled.
 *
 * <p>Once found, the link stays {@link #stalledSince() stalled} through the reopen that the
 * driver does about it, until the watermark moves, the lag reaches 0 or the link fails for
 * another reason ({@link #onDisconnected()}: then it is disconnected). A reopened stream that
 * connects and still makes no progress is found stalled again after another {@code stallTimeout}.
 *
 * <p>Pure and not thread-safe: the owner ({@link SubscriberCore}) serialises calls and passes the
 * time in.
 */
public final class StallDetector {
  /** The {@code kind} of {@code edgesync.replication.errors} counted for each stall. */
  public static final String ERROR_KIND = "stalled";

  private final Duration timeout;
  // When the current wait for progress started; null while not watching (caught up, or no tick
  // of a connected attempt since the last stop).
  private Instant watchingSince;
  // The committed seq seen at the last tick; any change is progress (it also goes back when the
  // peer's log or history changed, which restarts the wait too).
  private long lastCommitted = Long.MIN_VALUE;
  private Instant stalledSince;

  StallDetector(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("stallTimeout must be a positive duration, got " + timeout);
    }
    this.timeout = timeout;
  }

  /**
   * A tick of a connected attempt. Returns true when the link is found stalled now: the driver
   * should stop the stream so that it is reopened.
   *
   * @param committedSeq the committed watermark's seq
   * @param lagEntries how far the peer's last known head is ahead of it
   */
  boolean onTick(long committedSeq, long lagEntries, Instant now) {
    boolean progressed = committedSeq != lastCommitted;
    lastCommitted = committedSeq;
    if (lagEntries <= 0 || progressed) {
      stalledSince = null;
      watchingSince = lagEntries <= 0 ? null : now;
      return false;
    }
    if (watchingSince == null || now.isBefore(watchingSince)) {
      // Starts the wait (also after a wall-clock step back, which must not stretch it).
      watchingSince = now;
      return false;
    }
    if (now.isBefore(watchingSince.plus(timeout))) {
      return false;
    }
    if (stalledSince == null) {
      stalledSince = now;
    }
    // The attempt is being stopped; the next connected attempt gets a full stallTimeout.
    watchingSince = null;
    return true;
  }

  /** The attempt ended for another reason than a stall: the peer is disconnected, not stalled. */
  void onDisconnected() {
    watchingSince = null;
    stalledSince = null;
  }

  /** The attempt ended because it stalled: stay stalled through the reopen, but stop the clock. */
  void onStalledAttemptClosed() {
    watchingSince = null;
  }

  /** When the link was found stalled, or null when it is not. */
  Instant stalledSince() {
    return stalledSince;
  }

  Duration timeout() {
    return timeout;
  }
}
