package dev.edgesync.engine.transport.grpc;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.security.TlsMaterial;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * TCP sockets through grpc-netty-shaded, with mutual TLS when there is {@link TlsMaterial}. The
 * SSL contexts are built per server and per channel from the material's key manager and trust
 * managers, which follow file reloads, so a new connection uses the newest certificate without
 * the transport knowing. Thread-safe (immutable).
 */
final class NettyStreamLayer implements StreamLayer {
  /** HTTP/2 streams one connection may hold at once; a subscriber needs one (two in a reconnect). */
  static final int MAX_STREAMS_PER_CONNECTION = 8;

  /** A connection without streams for this long is closed. */
  static final Duration MAX_CONNECTION_IDLE = Duration.ofMinutes(5);

  /** Largest header block accepted; the token is at most 4 KiB. */
  static final int MAX_METADATA_BYTES = 16 * 1024;

  private final String nodeId;
  private final TlsMaterial tls;

  /** {@code tls} null: plaintext. */
  NettyStreamLayer(String nodeId, TlsMaterial tls) {
    this.nodeId = nodeId;
    this.tls = tls;
  }

  @Override
  public ServerBuilder<?> serverBuilder(String host, int port) {
    NettyServerBuilder netty =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
            .maxConcurrentCallsPerConnection(MAX_STREAMS_PER_CONNECTION)
            .maxConnectionIdle(MAX_CONNECTION_IDLE.toMillis(), TimeUnit.MILLISECONDS)
            .maxInboundMetadataSize(MAX_METADATA_BYTES);
    if (tls != null) {
      netty.sslContext(serverSslContext());
    }
    return netty;
  }

  @Override
  public ManagedChannelBuilder<?> channelBuilder(PeerSpec peer) {
    NettyChannelBuilder netty = NettyChannelBuilder.forAddress(peer.host(), peer.port());
    if (tls != null) {
      netty.sslContext(clientSslContext(peer.id()));
    } else {
      netty.usePlaintext();
    }
    return netty;
  }

  @Override
  public boolean reachableFromOtherHosts(String host) {
    return !(host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]"));
  }

  private SslContext serverSslContext() {
    try {
      // OPTIONAL rather than REQUIRE: a client without a certificate completes the handshake and
      // is then refused with UNAUTHENTICATED and a message it can act on (ClientCertificate-
      // Interceptor), and the refusal is counted; REQUIRE would leave both sides with a bare
      // handshake alert. A certificate that is presented is always checked against the trusted
      // CAs during the handshake.
      return GrpcSslContexts.configure(SslContextBuilder.forServer(tls.keyManager()), SslProvider.JDK)
          .trustManager(tls.serverTrust())
          .clientAuth(ClientAuth.OPTIONAL)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("node '" + nodeId + "' cannot set up TLS for its server: " + e.getMessage(), e);
    }
  }

  private SslContext clientSslContext(String peerId) {
    try {
      return GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
          .keyManager(tls.keyManager())
          .trustManager(tls.clientTrust(peerId))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("node '" + nodeId + "' cannot set up TLS to peer '" + peerId + "': " + e.getMessage(), e);
    }
  }
}
