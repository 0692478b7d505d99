package dev.edgesync.engine.replication.wire;

import java.util.Objects;

/**
 * How a replication stream ended, independent of the transport: a code and a description that
 * says what happened and, where there is one, what to do. {@link GrpcTransport} maps it to and
 * from a gRPC {@code Status} of the same code name.
 *
 * @param code what kind of end
 * @param description for people: names the nodes and the cause
 * @param cause the local exception behind it, or null
 */
public record StreamStatus(Code code, String description, Throwable cause) {

  /** Kinds of end; the names are those of gRPC status codes. */
  public enum Code {
    OK,
    CANCELLED,
    UNKNOWN,
    INVALID_ARGUMENT,
    DEADLINE_EXCEEDED,
    NOT_FOUND,
    ALREADY_EXISTS,
    PERMISSION_DENIED,
    RESOURCE_EXHAUSTED,
    FAILED_PRECONDITION,
    ABORTED,
    OUT_OF_RANGE,
    UNIMPLEMENTED,
    INTERNAL,
    UNAVAILABLE,
    DATA_LOSS,
    UNAUTHENTICATED
  }

  public StreamStatus {
    Objects.requireNonNull(code, "code");
    description = description == null ? "" : description;
  }

  /** A status without a cause. */
  public static StreamStatus of(Code code, String description) {
    return new StreamStatus(code, description, null);
  }

  /** True for {@link Code#OK}. */
  public boolean isOk() {
    return code == Code.OK;
  }

  @Override
  public String toString() {
    return code + (description.isEmpty() ? "" : ": " + description);
  }
}
