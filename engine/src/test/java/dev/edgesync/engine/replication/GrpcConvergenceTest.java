package dev.edgesync.engine.replication;

import dev.edgesync.engine.transport.Transport;
import dev.edgesync.engine.transport.grpc.GrpcTransport;
import java.net.ServerSocket;

/** The convergence suite over {@link GrpcTransport} on loopback, ephemeral ports. */
class GrpcConvergenceTest extends ConvergenceSuite {
  @Override
  Transports transports() {
    return new Transports() {
      @Override
      public Transport create(String nodeId) {
        return new GrpcTransport();
      }

      @Override
      public String host() {
        return "127.0.0.1";
      }

      @Override
      public int unusedPort() throws Exception {
        // Bound and released at once: nothing listens there during the test.
        try (ServerSocket s = new ServerSocket(0)) {
          return s.getLocalPort();
        }
      }
    };
  }
}
