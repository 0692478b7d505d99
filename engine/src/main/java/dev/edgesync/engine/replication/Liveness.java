package dev.edgesync.engine.replication;

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
 * <p>Pure and not thread-safe: the owner serialises calls and passes the time in.
 */
final class Liveness {
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
    lastSent = later(lastSent, now);
  }

  /** Something arrived from the other end. */
  void heard(Instant now) {
    lastHeard = later(lastHeard, now);
  }

  /** This end stopped listening for a while (busy with local work); silence does not count. */
  void pause() {
    paused = true;
  }

  /** This end listens again; the silence window starts now. */
  void resume(Instant now) {
    paused = false;
    lastHeard = later(lastHeard, now);
  }

  /** True when nothing was sent for at least the heartbeat interval. */
  boolean heartbeatDue(Instant now) {
    return !now.isBefore(lastSent.plus(interval));
  }

  /** True when this end listens and heard nothing for at least the timeout. */
  boolean timedOut(Instant now) {
    return !paused && !now.isBefore(lastHeard.plus(timeout));
  }

  /** How long nothing was heard. */
  Duration silence(Instant now) {
    return Duration.between(lastHeard, now);
  }

  private static Instant later(Instant a, Instant b) {
    return b.isAfter(a) ? b : a;
  }
}
