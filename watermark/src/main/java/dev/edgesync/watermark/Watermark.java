package dev.edgesync.watermark;

import java.time.Instant;
import java.util.Objects;

/**
 * What this node has durably applied from one peer's change log.
 *
 * <p>A watermark says: every entry of the log {@code peerLogId} of peer {@code peerId} up to and
 * including {@code seq} has been committed to local storage. A replication client resumes the
 * peer's stream from {@code seq}; if the peer answers with a different log id (its database was
 * wiped or restored), the watermark no longer means anything and the client starts from {@link
 * #zero(String)} again.
 *
 * <p>A log id alone does not pin down a log: a peer whose data dir is restored from an older copy
 * keeps its log id but re-issues seqs above the copy's head with other content. So a watermark
 * also records {@code peerEpoch}, the epoch of the peer's log that {@code seq} belongs to (as the
 * peer reported it); the peer resumes from {@code seq} only if that seq still belongs to that epoch
 * in its log, and streams from 0 otherwise.
 *
 * <p>The zero watermark ({@code seq == 0}, empty log id) means "nothing applied yet, sync from
 * the beginning". It is always safe to fall back to it, because applying an entry twice changes
 * nothing.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param peerId the id of the peer whose log this watermark covers; never empty
 * @param peerLogId the log id the peer announced; empty when no log has been seen yet
 * @param seq the last sequence number of that log applied durably here; never negative
 * @param updatedAt when this watermark was recorded; {@link Instant#EPOCH} for a zero watermark
 * @param peerEpoch the epoch of the peer's log that {@code seq} belongs to; empty when unknown
 *     (seq 0, or a file written before epochs existed: the peer then streams from 0, which is safe)
 */
public record Watermark(String peerId, String peerLogId, long seq, Instant updatedAt, String peerEpoch) {

  /** The log id of a watermark that has not seen any log of its peer yet. */
  public static final String NO_LOG_ID = "";

  /** The epoch of a watermark that does not know which epoch of the peer's log its seq is in. */
  public static final String NO_EPOCH = "";

  /**
   * Validates the components.
   *
   * @throws IllegalArgumentException if {@code peerId} is empty or {@code seq} is negative
   * @throws NullPointerException if any component is null
   */
  public Watermark {
    Objects.requireNonNull(peerId, "peerId");
    Objects.requireNonNull(peerLogId, "peerLogId");
    Objects.requireNonNull(updatedAt, "updatedAt");
    Objects.requireNonNull(peerEpoch, "peerEpoch");
    if (peerId.isEmpty()) {
      throw new IllegalArgumentException("peerId must not be empty");
    }
    if (seq < 0) {
      throw new IllegalArgumentException(
          "seq must not be negative, got " + seq + " for peer '" + peerId + "'");
    }
  }

  /** A watermark without an epoch ({@link #NO_EPOCH}). */
  public Watermark(String peerId, String peerLogId, long seq, Instant updatedAt) {
    this(peerId, peerLogId, seq, updatedAt, NO_EPOCH);
  }

  /**
   * Returns the watermark of a peer nothing has been applied from yet.
   *
   * @param peerId the peer's id; never empty
   * @return a watermark with seq 0, no log id and {@link Instant#EPOCH} as its time
   */
  public static Watermark zero(String peerId) {
    return new Watermark(peerId, NO_LOG_ID, 0, Instant.EPOCH, NO_EPOCH);
  }

  /** Returns true if this is the watermark of a peer nothing has been applied from yet. */
  public boolean isZero() {
    return seq == 0 && peerLogId.isEmpty();
  }

  /**
   * Returns true if this watermark was recorded against the given log of its peer. The caller
   * uses this to decide whether to resume from {@link #seq()} or to restart from zero because
   * the peer's database is no longer the one this watermark describes.
   *
   * @param logId the log id the peer announced in its {@code Welcome}
   */
  public boolean isForLog(String logId) {
    return peerLogId.equals(logId);
  }

  /**
   * Returns a watermark for the same peer advanced to {@code newSeq} of {@code newLogId}, with no
   * epoch ({@link #NO_EPOCH}): the peer will stream from 0 on the next resume unless an epoch is
   * given; see {@link #advancedTo(String, long, String, Instant)}.
   *
   * @param newLogId the peer's current log id
   * @param newSeq the last seq now durably applied from that log
   * @param at when the entries up to {@code newSeq} were committed
   */
  public Watermark advancedTo(String newLogId, long newSeq, Instant at) {
    return new Watermark(peerId, newLogId, newSeq, at, NO_EPOCH);
  }

  /**
   * Returns a watermark for the same peer advanced to {@code newSeq} of {@code newLogId}, which
   * belongs to epoch {@code newEpoch} of that log.
   *
   * @param newLogId the peer's current log id
   * @param newSeq the last seq now durably applied from that log
   * @param newEpoch the epoch of the peer's log that {@code newSeq} belongs to
   * @param at when the entries up to {@code newSeq} were committed
   */
  public Watermark advancedTo(String newLogId, long newSeq, String newEpoch, Instant at) {
    return new Watermark(peerId, newLogId, newSeq, at, newEpoch);
  }
}
