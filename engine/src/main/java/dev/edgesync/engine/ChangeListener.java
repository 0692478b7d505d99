package dev.edgesync.engine;

/**
 * Receives committed changes under a key prefix, local and remote, in commit order.
 *
 * <p>Called on the node's notification thread (never the writer thread, never a gRPC thread),
 * one change at a time per listener. A listener that throws is logged and keeps its
 * subscription. A slow listener delays later notifications, not writes: notifications wait in a
 * bounded queue and, when it is full, the subscription is closed and told via {@link
 * #onOverflow()} (it can resubscribe and re-read with {@code scan}).
 */
@FunctionalInterface
public interface ChangeListener {
  void onChange(Change change);

  /** The listener fell too far behind and was unsubscribed. */
  default void onOverflow() {}

  /**
   * Whether this listener is told about expiries ({@link Change#isExpiry()}); true by default. A
   * listener that only follows writes says false, so expiries take no room in its queue.
   */
  default boolean wantsExpiries() {
    return true;
  }

  /** {@code listener}, told about writes only (not expiries). */
  static ChangeListener writesOnly(ChangeListener listener) {
    return new ChangeListener() {
      @Override
      public void onChange(Change change) {
        listener.onChange(change);
      }

      @Override
      public void onOverflow() {
        listener.onOverflow();
      }

      @Override
      public boolean wantsExpiries() {
        return false;
      }
    };
  }
}
