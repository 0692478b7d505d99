package dev.edgesync.engine.transport.grpc;

import dev.edgesync.engine.security.CertificateNames;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.ServerCall;
import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;

/**
 * What the server knows about the subscriber of an inbound call before its {@code Hello}: a
 * description for log lines and refusals (its address, and with TLS its certificate's subject),
 * and the names of the certificate it authenticated with (empty without TLS).
 *
 * <p>{@link ClientCertificateInterceptor} puts it into the call's {@link Context}; the
 * interceptors after it and the stream handler read it with {@link #of}.
 */
record InboundPeer(String description, Optional<Set<String>> certificateNames) {
  static final Context.Key<InboundPeer> KEY = Context.key("edgesync.inbound-peer");

  /** The peer of {@code call} as the interceptors before this point described it. */
  static InboundPeer of(ServerCall<?, ?> call) {
    InboundPeer known = KEY.get();
    return known != null ? known : new InboundPeer(remoteAddress(call), Optional.empty());
  }

  /** This peer, authenticated by {@code certificate}. */
  InboundPeer withCertificate(X509Certificate certificate) {
    return new InboundPeer(
        description + " (" + CertificateNames.describe(certificate) + ")",
        Optional.of(CertificateNames.of(certificate)));
  }

  private static String remoteAddress(ServerCall<?, ?> call) {
    SocketAddress address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    return address == null ? "an unknown address" : address.toString();
  }
}
