package dev.edgesync.engine.transport.grpc;

import dev.edgesync.discovery.PeerSpec;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;

/**
 * Where {@link GrpcTransport} gets its servers and channels: the network below the transport,
 * with its encryption, as hashicorp/raft's {@code StreamLayer} is below its network transport.
 * The transport adds what every layer shares (message limits, the handshake deadline, the
 * authentication interceptors and call credentials, the service); the layer adds addresses,
 * connection limits and TLS. {@link NettyStreamLayer} is the real one; tests supply gRPC's
 * in-process transport through {@link GrpcTransport#overStreamLayer}.
 *
 * <p>Called from any thread; each call returns a new builder.
 */
interface StreamLayer {
  /** A builder for the server of {@link GrpcTransport#serve}. */
  ServerBuilder<?> serverBuilder(String host, int port);

  /** A builder for the channel to {@code peer}. */
  ManagedChannelBuilder<?> channelBuilder(PeerSpec peer);

  /**
   * True when a server on {@code host} can be reached from other machines, so that serving
   * without authentication deserves a warning.
   */
  boolean reachableFromOtherHosts(String host);
}
