package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.StoredEntry;

/**
 * An entry that cannot be sent on this stream: larger than a message ({@code
 * message_too_large}), or not expressible in the protocol version agreed with the subscriber
 * ({@code protocol_version}). The stream ends with {@link #reason()} and {@link #status()}.
 */
public final class UnsendableEntryException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String reason;
  private final StreamStatus.Code status;

  UnsendableEntryException(String reason, StreamStatus.Code status, String message) {
    super(message);
    this.reason = reason;
    this.status = status;
  }

  static UnsendableEntryException tooLarge(String message) {
    return new UnsendableEntryException("message_too_large", StreamStatus.Code.RESOURCE_EXHAUSTED, message);
  }

  /**
   * {@code stored} expires, and the protocol {@code version} agreed with the subscriber cannot say
   * so. Sent without its expiry, the value would live for ever on the subscriber: the stream stops
   * at this entry instead (a batch with entries before it ends there first), and resumes from it
   * once the subscriber speaks a version that carries it.
   */
  static UnsendableEntryException notCarried(
      int version, int ownMax, StoredEntry stored, String what, String nodeId, String subscriberId) {
    String cause =
        ownMax < ProtocolVersion.EXPIRING_KEYS
            ? "node '" + nodeId + "' itself is capped at version " + ownMax + " by its replication.maxProtocolVersion:"
                + " raise it to " + ProtocolVersion.EXPIRING_KEYS + " (every site speaks it once upgraded)"
            : "node '" + subscriberId + "' offered at most version " + version + ": it runs an older build (upgrade it),"
                + " or its replication.maxProtocolVersion caps it (raise it)";
    return new UnsendableEntryException(
        "protocol_version",
        StreamStatus.Code.FAILED_PRECONDITION,
        what + " of node '" + nodeId + "' expires (written with a ttl), which replication protocol version " + version
            + " cannot carry; " + cause + ". The sync of node '" + subscriberId + "' from node '" + nodeId
            + "' waits at this entry and resumes from it then; nothing is skipped");
  }

  /** The error kind, for metrics. */
  public String reason() {
    return reason;
  }

  /** The status the stream ends with. */
  public StreamStatus.Code status() {
    return status;
  }
}
