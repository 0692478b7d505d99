package dev.edgesync.engine.transport.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Gives every inbound stream a {@link StreamLimits.Slot}, and refuses with {@code
 * RESOURCE_EXHAUSTED} a stream beyond {@code limits.maxInboundStreams}. The first interceptor of
 * the chain, so a stranger holds a slot only while the later checks look at it.
 *
 * <p>Invariant: a slot taken here is released exactly when the call ends — when this end closes
 * it (a refusal further down, or the stream's own close), when gRPC reports it cancelled or
 * complete, or when the rest of the chain throws. The slot travels in the call's {@link Context}
 * under {@link #SLOT}, where {@link HelloGuard} binds it to the subscriber's id.
 */
final class StreamLimitsInterceptor implements ServerInterceptor {
  static final Context.Key<StreamLimits.Slot> SLOT = Context.key("edgesync.stream-slot");

  private final String nodeId;
  private final StreamLimits limits;
  private final Refusals refusals;

  StreamLimitsInterceptor(String nodeId, StreamLimits limits, Refusals refusals) {
    this.nodeId = nodeId;
    this.limits = limits;
    this.refusals = refusals;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    StreamLimits.Slot slot = limits.tryOpen();
    if (slot == null) {
      return refusals.refuse(
          call,
          Status.RESOURCE_EXHAUSTED,
          "too_many_streams",
          "node '" + nodeId + "' already serves " + limits.maxTotal()
              + " replication streams (limits.maxInboundStreams); refused a stream from "
              + InboundPeer.of(call).description() + ", try again later");
    }
    // Releasing on close frees the slot as soon as this end has decided, before gRPC's
    // onComplete or onCancel (which release it too; a release is idempotent).
    ServerCall<ReqT, RespT> releasing =
        new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            super.close(status, trailers);
            slot.release();
          }
        };
    boolean started = false;
    try {
      ServerCall.Listener<ReqT> listener =
          Contexts.interceptCall(Context.current().withValue(SLOT, slot), releasing, headers, next);
      started = true;
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
        @Override
        public void onCancel() {
          try {
            super.onCancel();
          } finally {
            slot.release();
          }
        }

        @Override
        public void onComplete() {
          try {
            super.onComplete();
          } finally {
            slot.release();
          }
        }
      };
    } finally {
      if (!started) {
        slot.release();
      }
    }
  }
}
