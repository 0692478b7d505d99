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
   * Throws when {@code stored} expires and the protocol {@code version} agreed with the subscriber
   * cannot say so. A batch that holds entries before it ends there (they are sent first). Sent without its expiry, the value would live for ever on the subscriber: the stream stops
   * at this entry instead, and resumes from it once the subscriber speaks a version that carries it.
   */
  static void requireCarried(int version, StoredEntry stored, String what, String nodeId, String subscriberId)
      throws UnsendableEntryException {
    if (ProtocolVersion.carries(version, stored)) {
      return;
    }
    throw new UnsendableEntryException(
        "protocol_version",
        StreamStatus.Code.FAILED_PRECONDITION,
        what + " of node '" + nodeId + "' (key of " + stored.key().length + " bytes) expires (it was written"
            + " with a ttl), which replication protocol version " + version + " cannot carry: node '" + subscriberId
            + "' speaks at most version " + version + "; upgrade it to a build that speaks "
            + ProtocolVersion.EXPIRING_KEYS + " or later. Its sync from node '" + nodeId + "' waits at this"
            + " entry and resumes from it after the upgrade; nothing is skipped (until every site is upgraded,"
            + " write without a ttl, or set replication.maxProtocolVersion: 1 on the upgraded sites so that"
            + " they refuse such writes)");
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
