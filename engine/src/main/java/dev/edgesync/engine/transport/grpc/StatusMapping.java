package dev.edgesync.engine.transport.grpc;

import dev.edgesync.engine.replication.wire.StreamStatus;
import io.grpc.Status;

/**
 * Maps between gRPC's {@link Status} and the transport-neutral {@link StreamStatus}. The codes
 * share their names, so the mapping is by name; a cause that gRPC carries only as an object is
 * appended to the description, where the engine's log and {@code /status} show it.
 */
final class StatusMapping {
  private StatusMapping() {}

  static Status toGrpc(StreamStatus status) {
    return Status.fromCode(Status.Code.valueOf(status.code().name()))
        .withDescription(status.description())
        .withCause(status.cause());
  }

  static StreamStatus fromGrpc(Status status) {
    String description = status.getDescription() == null ? "" : status.getDescription();
    if (status.getCause() != null) {
      description = description + (description.isEmpty() ? "" : " ") + "(" + status.getCause() + ")";
    }
    return new StreamStatus(StreamStatus.Code.valueOf(status.getCode().name()), description, status.getCause());
  }
}
