package dev.edgesync.engine.transport.grpc;

import dev.edgesync.engine.metrics.EngineMetrics;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import java.util.Locale;

/**
 * Counts inbound streams by final status ({@code inbound_streams_closed{status}}), and records a
 * stream that gRPC reset for an oversize message as a {@code message_too_large} refusal: gRPC
 * enforces the inbound size limit itself, and this is the only place that sees it happen.
 */
final class ClosedStreamCounter extends ServerStreamTracer.Factory {
  private final String nodeId;
  private final EngineMetrics metrics;
  private final Refusals refusals;

  ClosedStreamCounter(String nodeId, EngineMetrics metrics, Refusals refusals) {
    this.nodeId = nodeId;
    this.metrics = metrics;
    this.refusals = refusals;
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    return new ServerStreamTracer() {
      @Override
      public void streamClosed(Status status) {
        metrics.inboundStreamsClosed(status.getCode().name()).increment();
        String description = status.getDescription();
        if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED
            && description != null
            && description.toLowerCase(Locale.ROOT).contains("exceeds maximum")) {
          refusals.record(
              "message_too_large",
              "node '" + nodeId + "' closed a replication stream whose message is too large (" + description
                  + "; replication.maxInboundMessageBytes follows limits.maxValueBytes and batchMaxBytes)");
        }
      }
    };
  }
}
