package dev.edgesync.engine.transport.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Refuses with {@code UNAUTHENTICATED} a stream whose headers carry no cluster token or a wrong
 * one (compared in constant time by {@link ClusterTokenKeeper}). The refusal says which, never
 * the token.
 */
final class ClusterTokenInterceptor implements ServerInterceptor {
  private final String nodeId;
  private final ClusterTokenKeeper tokens;
  private final Refusals refusals;

  ClusterTokenInterceptor(String nodeId, ClusterTokenKeeper tokens, Refusals refusals) {
    this.nodeId = nodeId;
    this.tokens = tokens;
    this.refusals = refusals;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String problem = tokens.check(headers.get(ClusterTokenKeeper.AUTHORIZATION));
    if (problem != null) {
      return refusals.refuse(
          call,
          Status.UNAUTHENTICATED,
          problem,
          "node '" + nodeId + "' refused a stream from " + InboundPeer.of(call).description()
              + ": the cluster token is " + (problem.equals("missing_token") ? "missing" : "wrong")
              + "; every node needs the same security.token, security.tokenFile or EDGESYNC_TOKEN");
    }
    return next.startCall(call, headers);
  }
}
