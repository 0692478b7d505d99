package dev.edgesync.engine.storage;

/**
 * A configured limit was exceeded: oversize key or value, full write queue, oversize batch. The
 * message names the limit's configuration name, its value and the size that exceeded it. Nothing
 * was written.
 */
public class LimitExceededException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String limitName;

  public LimitExceededException(String limitName, String message) {
    super(message);
    this.limitName = limitName;
  }

  /** The configuration name of the limit, e.g. {@code limits.maxValueBytes}. */
  public String limitName() {
    return limitName;
  }
}
