package dev.edgesync.engine.replication;

import java.time.Duration;

/**
 * Too few peers confirmed a write within the {@link Acks} timeout. The write itself is committed
 * locally and will still replicate when peers are reachable; it is only not yet confirmed.
 */
public class AckTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long seq;
  private final int required;
  private final int confirmed;

  public AckTimeoutException(long seq, int required, int confirmed, Duration timeout) {
    super(
        "write is committed locally (seq "
            + seq
            + ") but was confirmed by only "
            + confirmed
            + " of "
            + required
            + " required peers within "
            + timeout.toMillis()
            + " ms; it will replicate when peers are reachable");
    this.seq = seq;
    this.required = required;
    this.confirmed = confirmed;
  }

  /** The local seq of the write. */
  public long seq() {
    return seq;
  }

  public int required() {
    return required;
  }

  public int confirmed() {
    return confirmed;
  }
}
