package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.replication.wire.StreamStatus;
import java.util.Locale;

/**
 * How loudly a subscription reports its problems: every problem is counted, but a failing peer is
 * logged once per distinct problem, not once per reconnect, and a peer restarting is routine.
 * Pure and not thread-safe: the driver serialises calls and does the logging and counting.
 */
public final class ProblemReports {
  /** The failure kind of a peer that refused because it is shutting down. */
  static final String PEER_SHUTTING_DOWN = "refused_shutting_down";

  /** The failure kind of a refused protocol version that the next attempt answers one lower. */
  static final String VERSION_FALLBACK = "protocol_version_fallback";

  /** How to log a report. */
  public enum Level {
    DEBUG,
    INFO,
    WARN
  }

  /**
   * What to do about one problem.
   *
   * @param level how to log it
   * @param errorKind the {@code kind} to count in {@code edgesync.replication.errors}, or null
   */
  public record Report(Level level, String errorKind) {}

  // The problem logged last (at info or warn, or at debug as a repeat).
  private String lastReported;

  /** This side stops a stream for {@code failure}. */
  public Report stopped(Failure failure) {
    Report r =
        failure.kind().equals(PEER_SHUTTING_DOWN) || failure.kind().equals(VERSION_FALLBACK)
            ? new Report(Level.INFO, null)
            : new Report(repeat(failure.message()) ? Level.DEBUG : Level.WARN, failure.kind());
    lastReported = failure.message();
    return r;
  }

  /**
   * A stream ended with {@code status}.
   *
   * @param problem the subscription's last error (see {@link SubscriberCore#lastError()})
   * @param wasConnected whether the stream had been welcomed and was healthy until it ended
   */
  public Report ended(StreamStatus status, String problem, boolean wasConnected) {
    // Failures this side raised itself were counted when stopped and end as CANCELLED; what is
    // left came from the network or the peer (refused connection, reset, peer refusal).
    String kind =
        status.code() != StreamStatus.Code.OK && status.code() != StreamStatus.Code.CANCELLED
            ? "transport_" + status.code().name().toLowerCase(Locale.ROOT)
            : null;
    Level level = repeat(problem) ? Level.DEBUG : wasConnected ? Level.INFO : Level.WARN;
    lastReported = problem;
    return new Report(level, kind);
  }

  /** A stream was welcomed: the next problem is news again. */
  public void connected() {
    lastReported = null;
  }

  private boolean repeat(String problem) {
    return problem != null && problem.equals(lastReported);
  }
}
