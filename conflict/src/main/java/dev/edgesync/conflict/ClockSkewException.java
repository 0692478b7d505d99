package dev.edgesync.conflict;

import java.time.Duration;

/**
 * A remote timestamp is further ahead of the local wall clock than the configured maximum
 * clock skew. Nothing carrying such a timestamp may be applied: accepting it would drag this
 * node's clock (and every later write's timestamp) into the future.
 */
public final class ClockSkewException extends Exception {
  private static final long serialVersionUID = 1L;

  private final long remoteHlc;
  private final long localWallMillis;
  private final Duration maxClockSkew;

  /** Creates the error for {@code remoteHlc} seen when the local wall clock read {@code localWallMillis}. */
  public ClockSkewException(long remoteHlc, long localWallMillis, Duration maxClockSkew) {
    super(
        "remote timestamp "
            + Hlc.format(remoteHlc)
            + " is "
            + (Hlc.physicalMillis(remoteHlc) - localWallMillis)
            + " ms ahead of the local clock (maximum allowed skew "
            + maxClockSkew.toMillis()
            + " ms): fix the clock of the node that wrote it (NTP), or raise maxClockSkew");
    this.remoteHlc = remoteHlc;
    this.localWallMillis = localWallMillis;
    this.maxClockSkew = maxClockSkew;
  }

  /** The refused timestamp. */
  public long remoteHlc() {
    return remoteHlc;
  }

  /** How far ahead of the local wall clock the remote timestamp is. */
  public Duration offset() {
    return Duration.ofMillis(Hlc.physicalMillis(remoteHlc) - localWallMillis);
  }

  /** The configured limit that was exceeded. */
  public Duration maxClockSkew() {
    return maxClockSkew;
  }
}
