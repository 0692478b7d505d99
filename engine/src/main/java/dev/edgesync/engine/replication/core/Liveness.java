package dev.edgesync.engine.replication.core;

import java.time.Duration;
import java.time.Instant;

/**
 * Heartbeat bookkeeping of one end of one stream: when a heartbeat is due (nothing sent for an
 * interval) and when the other end counts as gone (nothing heard for the timeout).
 *
 * <p>Silence is only held against the other end while this end is able to hear: a subscriber
 * that is blocked handing a batch to its own store has not asked for more messages, so it {@link
 * #pause() pauses} the clock and {@link #resume resumes} it when it asks again.
 *
 * <p>The time passed in is the node's wall clock, which may step backwards (an NTP correction, a
 * restored VM). Such a step must not suspend liveness for its size, so every call first moves the
 * last-sent and last-heard times back to {@code now} when they lie in its future: silence and the
 * heartbeat interval are then counted from the step. (A step forwards only makes a timeout or a
 * heartbeat come early, which costs one reconnect at worst.)
 *
 * <p>Pure and not thread-safe: the owner serialises calls and passes the time in.
 */
public final class Liveness {
  private final Duration interval;
  private final Duration timeout;
  private Instant lastSent;
  private Instant lastHeard;
  private boolean paused;

  Liveness(Duration interval, Duration timeout, Instant now) {
    this.interval = interval;
    this.timeout = timeout;
    this.lastSent = now;
    this.lastHeard = now;
  }

  /** Something was sent to the other end. */
  void sent(Instant now) {
    rebase(now);
    lastSent = now;
  }

  /** Something arrived from the other end. */
  void heard(Instant now) {
    rebase(now);
    lastHeard = now;
  }

  /** This end stopped listening for a while (busy with local work); silence does not count. */
  void pause() {
    paused = true;
  }

  /** This end listens again; the silence window starts now. */
  void resume(Instant now) {
    paused = false;
    rebase(now);
    lastHeard = now;
  }

  /** True when nothing was sent for at least the heartbeat interval. */
  boolean heartbeatDue(Instant now) {
    rebase(now);
    return !now.isBefore(lastSent.plus(interval));
  }

  /** True when this end listens and heard nothing for at least the timeout. */
  boolean timedOut(Instant now) {
    rebase(now);
    return !paused && !now.isBefore(lastHeard.plus(timeout));
  }

  /** How long nothing was heard. */
  Duration silence(Instant now) {
    rebase(now);
    return Duration.between(lastHeard, now);
  }

  /** The wall clock stepped back past an event: count from the step instead. */
  private void rebase(Instant now) {
    if (now.isBefore(lastSent)) {
      lastSent = now;
    }
    if (now.isBefore(lastHeard)) {
      lastHeard = now;
    }
  }
}
