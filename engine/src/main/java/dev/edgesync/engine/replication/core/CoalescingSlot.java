package dev.edgesync.engine.replication.core;

/**
 * Keeps at most one write in flight and remembers only the newest value offered meanwhile, so
 * a burst of watermark advances costs two writes, not one per batch, and the last value offered
 * is always the last one written.
 *
 * <p>Pure and not thread-safe: the owner serialises calls. Values are offered in the order their
 * owner decided them, so the latest offered is the newest.
 *
 * @param <T> the value written
 */
public final class CoalescingSlot<T> {
  private boolean writing;
  private T pending;

  /** Offers {@code value}; returns it when the caller must start writing it now, else null. */
  public T offer(T value) {
    if (writing) {
      pending = value;
      return null;
    }
    writing = true;
    return value;
  }

  /**
   * The running write finished; returns the value to write next (the caller keeps writing), or
   * null when there is none (the slot is idle again).
   */
  public T done() {
    T next = pending;
    pending = null;
    if (next == null) {
      writing = false;
    }
    return next;
  }

  /** True while a write is in flight. */
  boolean writing() {
    return writing;
  }
}
