package dev.edgesync.engine;

/** A registered {@link ChangeListener}; closing it stops notifications (idempotent). */
public interface Subscription extends AutoCloseable {
  @Override
  void close();

  /** True until closed or overflowed. */
  boolean isActive();
}
