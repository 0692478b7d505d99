package dev.edgesync.engine.replication;

import dev.edgesync.proto.Refusal;

/**
 * A decision of the core to stop a stream.
 *
 * @param kind the {@code kind} tag of the {@code edgesync.replication.errors} metric, e.g. {@code
 *     crc}, {@code clock_skew}, {@code protocol}
 * @param refusal the refusal to send to the other end before stopping, or null to send none
 * @param code the status the stream ends with
 * @param message for people: names both nodes, the cause and the fix
 */
record Failure(String kind, Refusal.Code refusal, StreamStatus.Code code, String message) {

  /** The status to end the stream with. */
  StreamStatus status() {
    return StreamStatus.of(code, message);
  }

  /** The refusal message to send, or null. */
  Refusal refusalMessage() {
    return refusal == null ? null : Refusal.newBuilder().setCode(refusal).setMessage(message).build();
  }
}
