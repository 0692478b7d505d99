package dev.edgesync.engine.replication.core;

import dev.edgesync.watermark.Watermark;
import java.time.Duration;
import java.time.Instant;

/**
 * How far this node has applied one peer's log, and how far behind it is: the committed watermark
 * {@code (logId, committedSeq, epoch)}, the peer's head as last reported, and since when this node
 * has not been caught up. Pure and not thread-safe.
 *
 * <p>Every seq {@code <= committedSeq} of log {@code logId} is durably applied here, where {@code
 * committedSeq} belongs to epoch {@code epoch} of that log (as the peer reported it). The owner
 * only {@link #advance advances} it over committed batches (see {@link InFlightWindow}).
 */
final class SubscriberProgress {
  private String logId;
  private long committedSeq;
  private String epoch;
  private long peerHeadSeq;
  private Instant lastCaughtUpAt;

  /** Starts from the watermark read from disk; lag is counted from {@code now}. */
  SubscriberProgress(Watermark persisted, Instant now) {
    this.logId = persisted.peerLogId();
    this.committedSeq = persisted.isZero() || persisted.peerLogId().isEmpty() ? 0 : persisted.seq();
    this.epoch = committedSeq == 0 ? Watermark.NO_EPOCH : persisted.peerEpoch();
    this.peerHeadSeq = committedSeq;
    this.lastCaughtUpAt = now;
  }

  /** The watermark now claims only {@code seq} of {@code logId} (another log, or another history). */
  void restart(String logId, long seq, String epoch) {
    this.logId = logId;
    this.committedSeq = seq;
    this.epoch = epoch;
    this.peerHeadSeq = seq;
  }

  /**
   * Batches of {@code streamLogId} up to {@code seq} are committed. Returns false (and changes
   * nothing) when that is another log than the watermark's or nothing new.
   */
  boolean advance(String streamLogId, long seq, String seqEpoch, Instant now) {
    if (!streamLogId.equals(logId) || seq <= committedSeq) {
      return false;
    }
    committedSeq = seq;
    epoch = seqEpoch;
    noteCaughtUp(now);
    return true;
  }

  /**
   * The peer reports its head. On a stream that was already connected, a node caught up until now
   * starts lagging now; the first report of a new stream ({@code wasConnected} false) says nothing
   * about the time before it, so the lag keeps counting from the last catch-up.
   */
  void raiseHead(long head, boolean wasConnected, Instant now) {
    if (wasConnected) {
      noteCaughtUp(now);
    }
    peerHeadSeq = Math.max(peerHeadSeq, head);
    noteCaughtUp(now);
  }

  /** The watermark to persist for {@code peerId}. */
  Watermark watermark(String peerId, Instant now) {
    return new Watermark(peerId, logId, committedSeq, now, epoch);
  }

  /** The log id the watermark is of ("" for none). */
  String logId() {
    return logId;
  }

  long committedSeq() {
    return committedSeq;
  }

  /** The epoch of the peer's log that {@link #committedSeq()} belongs to ("" when unknown). */
  String epoch() {
    return epoch;
  }

  long peerHeadSeq() {
    return peerHeadSeq;
  }

  long lagEntries() {
    return Math.max(0, peerHeadSeq - committedSeq);
  }

  /**
   * 0 while {@code connected} and caught up ({@code committedSeq >= peerHeadSeq}); otherwise the
   * seconds since this node was last seen caught up on a connected stream (since it was made, if
   * never), so it grows while the peer is unreachable as well as while this node is behind.
   */
  double lagSeconds(boolean connected, Instant now) {
    if (connected && committedSeq >= peerHeadSeq) {
      return 0;
    }
    return Math.max(0, Duration.between(lastCaughtUpAt, now).toMillis() / 1000.0);
  }

  private void noteCaughtUp(Instant now) {
    if (committedSeq >= peerHeadSeq) {
      lastCaughtUpAt = now;
    }
  }
}
