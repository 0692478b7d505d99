package dev.edgesync.engine.transport.grpc;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import java.net.SocketAddress;

/**
 * Counts and logs inbound connections that end before they are ready: a failed TLS or HTTP/2
 * handshake (plaintext to a TLS port, an untrusted certificate, garbage, or slower than {@code
 * limits.handshakeTimeout}). A connection is marked when it becomes ready; one that terminates
 * unmarked failed.
 */
final class FailedConnectionCounter extends ServerTransportFilter {
  private static final Attributes.Key<Boolean> READY = Attributes.Key.create("edgesync.ready");

  private final String nodeId;
  private final boolean tls;
  private final Refusals refusals;

  FailedConnectionCounter(String nodeId, boolean tls, Refusals refusals) {
    this.nodeId = nodeId;
    this.tls = tls;
    this.refusals = refusals;
  }

  @Override
  public Attributes transportReady(Attributes attributes) {
    return attributes.toBuilder().set(READY, Boolean.TRUE).build();
  }

  @Override
  public void transportTerminated(Attributes attributes) {
    if (attributes == null || attributes.get(READY) == null) {
      SocketAddress address = attributes == null ? null : attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      refusals.connectionFailed(
          "node '" + nodeId + "': a connection" + (address == null ? "" : " from " + address)
              + " ended before its " + (tls ? "TLS " : "") + "handshake completed ("
              + (tls ? "no TLS, an untrusted certificate, " : "not HTTP/2, ") + "garbage, or slower than"
              + " limits.handshakeTimeout)");
    }
  }
}
