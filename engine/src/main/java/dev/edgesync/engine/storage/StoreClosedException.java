package dev.edgesync.engine.storage;

/**
 * A write was submitted to a store that is closing or closed. Writes queued before {@code close()}
 * are still committed; this one was not written.
 */
public class StoreClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public StoreClosedException(String message) {
    super(message);
  }
}
