package dev.edgesync.engine.replication.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * Decides when to report the progress of a long catch-up from one peer, and what to say: entries
 * applied, position, rate and an estimate of the time left. Reports come at most every {@link
 * #EVERY}, so a catch-up shorter than that logs nothing, and a finished catch-up that did report
 * says so once.
 *
 * <p>Pure and not thread-safe: the owner serialises calls and passes the time in.
 */
public final class CatchUpProgress {
  /** Least time between two reports. */
  static final Duration EVERY = Duration.ofSeconds(5);

  private Instant startedAt;
  private long startSeq;
  private long entries;
  private Instant lastReportAt;
  private boolean reported;

  /**
   * A batch was committed.
   *
   * @param committedSeq the peer's seq now durably applied
   * @param headSeq the peer's head, as last reported
   * @param batchEntries entries the batch held
   * @return a line to log, or null
   */
  String onCommitted(Instant now, long committedSeq, long headSeq, int batchEntries) {
    if (committedSeq >= headSeq) {
      String line = null;
      if (startedAt != null && reported) {
        double seconds = Math.max(0.001, Duration.between(startedAt, now).toMillis() / 1000.0);
        line =
            String.format(
                Locale.ROOT,
                "caught up at seq %d: %d entries in %.1f s (%.0f entries/s)",
                committedSeq,
                entries + batchEntries,
                seconds,
                (entries + batchEntries) / seconds);
      }
      reset();
      return line;
    }
    if (startedAt == null) {
      startedAt = now;
      lastReportAt = now;
      startSeq = committedSeq;
      entries = 0;
    }
    entries += batchEntries;
    if (Duration.between(lastReportAt, now).compareTo(EVERY) < 0) {
      return null;
    }
    lastReportAt = now;
    reported = true;
    double seconds = Math.max(0.001, Duration.between(startedAt, now).toMillis() / 1000.0);
    double seqPerSecond = (committedSeq - startSeq) / seconds;
    String eta =
        seqPerSecond > 0
            ? String.format(Locale.ROOT, "%.0f s", (headSeq - committedSeq) / seqPerSecond)
            : "unknown";
    return String.format(
        Locale.ROOT,
        "catching up: %d entries applied, at seq %d of %d (%.0f%%), %.0f entries/s, ETA %s",
        entries,
        committedSeq,
        headSeq,
        headSeq == 0 ? 100.0 : 100.0 * committedSeq / headSeq,
        entries / seconds,
        eta);
  }

  /** The stream ended; a later catch-up starts over. */
  void reset() {
    startedAt = null;
    lastReportAt = null;
    reported = false;
    entries = 0;
  }
}
