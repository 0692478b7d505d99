package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.replication.wire.StreamStatus;
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
public record Failure(String kind, Refusal.Code refusal, StreamStatus.Code code, String message) {

  /** The status to end the stream with. */
  public StreamStatus status() {
    return StreamStatus.of(code, message);
  }

  /** The refusal message to send, or null. */
  public Refusal refusalMessage() {
    return refusal == null ? null : Refusal.newBuilder().setCode(refusal).setMessage(message).build();
  }
}
