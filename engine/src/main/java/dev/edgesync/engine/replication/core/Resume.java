package dev.edgesync.engine.replication.core;

/** How a subscriber took a publisher's {@code Welcome} (see {@link ResumeDecision}). */
public enum Resume {
  /** The same log as the watermark: streaming resumes after the watermark. */
  RESUMED,
  /** No watermark yet: first sync from seq 0. */
  FIRST_SYNC,
  /** The peer's log id changed (database wiped or restored): re-sync from seq 0. */
  LOG_CHANGED,
  /**
   * The same log, but the peer no longer has the watermark's seq in the watermark's epoch (its
   * database was restored from an older copy): the peer streams from an earlier seq (0).
   */
  HISTORY_CHANGED
}
