package dev.edgesync.engine.storage;

/**
 * A seam between a {@link GroupCommitStore}'s writer thread and a harness that must control when
 * group commits happen, such as a deterministic simulation that runs the rest of the engine on one
 * thread and lets the writer run only between two of its steps. Production uses {@link #NONE},
 * whose methods do nothing.
 *
 * <p>Threading: {@link #submitted} is called on the submitting thread, {@link #beforeGroup} on the
 * writer thread, {@link #finished} on the writer thread (or, for commands failed after the writer
 * stopped, on the thread that found them), {@link #closing} on the thread calling {@code close()}.
 * Implementations must be thread-safe and must not call back into the store.
 */
public interface WriterGate {
  /** The gate of production: never blocks, never drops a group, counts nothing. */
  WriterGate NONE = new WriterGate() {};

  /**
   * A command (a local write or a remote batch) is about to be queued; {@link #finished} follows
   * for it exactly once, also when queueing fails.
   */
  default void submitted() {}

  /**
   * {@code commands} commands are finished: committed or failed, with their futures completed and
   * the commit listeners told.
   */
  default void finished(int commands) {}

  /**
   * Called by the writer after it took the first command of its next group, before it gathers the
   * rest; may block until the group may go. Returns whether the group is committed: {@code false}
   * fails its commands with {@link StoreClosedException}, uncommitted, as the queue of a killed
   * process is lost.
   */
  default boolean beforeGroup() {
    return true;
  }

  /**
   * {@code close()} has begun: from now on {@link #beforeGroup} must not block, since close waits
   * for the writer to drain the queue and stop.
   */
  default void closing() {}
}
