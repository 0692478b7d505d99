package dev.edgesync.engine.transport.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * With TLS: refuses with {@code UNAUTHENTICATED} a stream whose connection presented no client
 * certificate, and passes on the certificate's names as the call's {@link InboundPeer}. The
 * server's TLS asks for a certificate without requiring one (see {@link NettyStreamLayer}), so
 * that a client without one hears why here instead of seeing a bare handshake alert; a
 * certificate that was presented has already been checked against the trusted CAs.
 */
final class ClientCertificateInterceptor implements ServerInterceptor {
  private final String nodeId;
  private final Refusals refusals;

  ClientCertificateInterceptor(String nodeId, Refusals refusals) {
    this.nodeId = nodeId;
    this.refusals = refusals;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    InboundPeer peer = InboundPeer.of(call);
    X509Certificate certificate = clientCertificate(call);
    if (certificate == null) {
      return refusals.refuse(
          call,
          Status.UNAUTHENTICATED,
          "no_client_certificate",
          "node '" + nodeId + "' requires a client certificate signed by its trusted CA (security.tls.ca);"
              + " the connection from " + peer.description() + " presented none");
    }
    Context context = Context.current().withValue(InboundPeer.KEY, peer.withCertificate(certificate));
    return Contexts.interceptCall(context, call, headers, next);
  }

  private static X509Certificate clientCertificate(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }
}
