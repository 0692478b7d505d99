package dev.edgesync.engine.transport.grpc;

import dev.edgesync.engine.logging.RateLimitedLog;
import dev.edgesync.engine.metrics.EngineMetrics;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the replication server says no. Every refusal is logged and counted in {@code
 * edgesync.replication.refused{reason}}; a flood of one reason is logged once per {@value
 * RateLimitedLog#INTERVAL_SECONDS} s with a count (see {@link RateLimitedLog}), so it cannot fill
 * the disk. Messages never hold a token: callers build them from ids, addresses and settings.
 *
 * <p>Thread-safe: interceptors, stream listeners and the TLS handshake call it concurrently.
 */
final class Refusals {
  // Refusals are logged under the transport's name, where operators look for them.
  private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);

  private final RateLimitedLog lines = new RateLimitedLog(log);
  private final EngineMetrics metrics;

  Refusals(EngineMetrics metrics) {
    this.metrics = metrics;
  }

  /** Logs, then counts: whoever sees the count can find the line. */
  void record(String reason, String message) {
    lines.warn(reason, message);
    metrics.refused(reason).increment();
  }

  /**
   * Refuses {@code call} before the engine sees it: records the refusal, closes the call with
   * {@code status} described by {@code message}, and returns a listener that ignores the rest.
   */
  <ReqT, RespT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, RespT> call, Status status, String reason, String message) {
    record(reason, message);
    call.close(status.withDescription(message), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /**
   * A connection that ended before its TLS or HTTP/2 handshake completed: logged like a refusal,
   * counted in {@code inbound_connections_failed} (it never became a stream with a reason).
   */
  void connectionFailed(String message) {
    lines.warn("connection_failed", message);
    metrics.inboundConnectionsFailed().increment();
  }
}
