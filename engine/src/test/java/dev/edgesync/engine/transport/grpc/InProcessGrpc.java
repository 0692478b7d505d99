package dev.edgesync.engine.transport.grpc;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.security.SecuritySettings;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;

/**
 * {@link GrpcTransport}s over gRPC's in-process transport, for tests of everything but TLS (no
 * sockets). Kept in the test tree so that {@code grpc-inprocess} is a test dependency only.
 */
final class InProcessGrpc {
  private InProcessGrpc() {}

  /**
   * A transport whose {@link GrpcTransport#serve} ignores host and port and serves under {@code
   * name}, and whose {@link GrpcTransport#connect} reaches the in-process server named by the
   * peer's host.
   */
  static GrpcTransport transport(String name, String nodeId, SecuritySettings security, EngineMetrics metrics) {
    return GrpcTransport.overStreamLayer(nodeId, security, metrics, new Layer(name));
  }

  private record Layer(String name) implements StreamLayer {
    @Override
    public ServerBuilder<?> serverBuilder(String host, int port) {
      return InProcessServerBuilder.forName(name);
    }

    @Override
    public ManagedChannelBuilder<?> channelBuilder(PeerSpec peer) {
      return InProcessChannelBuilder.forName(peer.host());
    }

    @Override
    public boolean reachableFromOtherHosts(String host) {
      return false;
    }
  }
}
