package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;

/**
 * A conditional write was not made: the key's current version on this node did not meet its
 * {@link Precondition}. Nothing was written.
 */
public final class PreconditionFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Version current;
  private final boolean currentIsTombstone;

  public PreconditionFailedException(String message, Version current, boolean currentIsTombstone) {
    super(message);
    this.current = current;
    this.currentIsTombstone = currentIsTombstone;
  }

  /** The key's current version here (a tombstone's when deleted); null when it was never written. */
  public Version current() {
    return current;
  }

  /** True when the current version is a delete. */
  public boolean currentIsTombstone() {
    return currentIsTombstone;
  }
}
