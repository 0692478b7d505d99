package dev.edgesync.engine.replication.core;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.replication.wire.Untrusted;
import dev.edgesync.engine.storage.GcState;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.SubscriberMessage;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Whether a publisher accepts a subscription's first message, in this order: it must be a
 * {@code Hello} with a valid node id; who the subscriber is (admission) comes before what it asks,
 * so that a stranger learns nothing about this node's cluster or version from its refusal; then
 * the cluster, the protocol version, not this node itself, and its data ({@link StaleData}).
 */
final class HelloCheck {
  private HelloCheck() {}

  /** Why {@code message} is refused, or null when the subscription may go on. */
  static Failure refusal(
      String nodeId,
      String cluster,
      PeerAdmission admission,
      Optional<Set<String>> certificateNames,
      SubscriberMessage message,
      GcState gc,
      Predicate<String> forgotten,
      java.util.function.ToLongFunction<String> recordedStable,
      int maxVersion) {
    if (!message.hasHello()) {
      return refuse(
          "protocol_error",
          Refusal.Code.PROTOCOL_ERROR,
          StreamStatus.Code.INVALID_ARGUMENT,
          "the first message of a subscription must be Hello, got " + message.getKindCase()
              + "; node '" + nodeId + "' closes the stream");
    }
    Hello hello = message.getHello();
    String who = "node '" + hello.getNodeId() + "'";
    if (!PeerSpec.isValidId(hello.getNodeId())) {
      return refuse(
          "protocol_error",
          Refusal.Code.PROTOCOL_ERROR,
          StreamStatus.Code.INVALID_ARGUMENT,
          "Hello carries an invalid node id '" + Untrusted.text(hello.getNodeId()) + "' (expected "
              + PeerSpec.ID_FORMAT + ")");
    }
    Failure denied = admission.check(nodeId, hello.getNodeId(), certificateNames);
    if (denied != null) {
      return denied;
    }
    if (!hello.getCluster().equals(cluster)) {
      return refuse(
          "wrong_cluster",
          Refusal.Code.WRONG_CLUSTER,
          StreamStatus.Code.FAILED_PRECONDITION,
          who + " of cluster '" + Untrusted.text(hello.getCluster()) + "' tried to subscribe to node '" + nodeId
              + "' of cluster '" + cluster + "': nodes of different clusters never sync; fix the"
              + " cluster name or the peer list");
    }
    if (negotiated(hello, maxVersion) < 0) {
      int theirMin = hello.getMinProtocolVersion() == 0 ? hello.getProtocolVersion() : hello.getMinProtocolVersion();
      return refuse(
          "protocol_version",
          Refusal.Code.PROTOCOL_VERSION,
          StreamStatus.Code.FAILED_PRECONDITION,
          who + " speaks replication protocol versions " + ProtocolVersion.range(theirMin, hello.getProtocolVersion())
              + " but node '" + nodeId + "' speaks " + ProtocolVersion.range(ProtocolVersion.MIN, maxVersion)
              + ": upgrade the older of the two (or raise its replication.maxProtocolVersion); builds one"
              + " protocol version apart sync, so sites can be upgraded one at a time");
    }
    if (hello.getNodeId().equals(nodeId)) {
      if (hello.getCreatedHlc() != 0 && gc.createdHlc() != 0 && hello.getCreatedHlc() != gc.createdHlc()) {
        // Another database under the same id: two nodes were given one id.
        return refuse(
            "same_id",
            Refusal.Code.NOT_ALLOWED,
            StreamStatus.Code.FAILED_PRECONDITION,
            "another node also uses the id '" + nodeId + "' (its database was created at "
                + Hlc.format(hello.getCreatedHlc()) + ", this node's at " + Hlc.format(gc.createdHlc())
                + "): every node needs an id of its own; give one of them another id, with an empty data dir");
      }
      return refuse(
          "self",
          Refusal.Code.NOT_ALLOWED,
          StreamStatus.Code.FAILED_PRECONDITION,
          "node '" + nodeId + "' tried to subscribe to itself: remove it from its own peer list");
    }
    return StaleData.refusal(nodeId, hello, gc.purgeHorizon(), forgotten, recordedStable);
  }

  /** The version a subscriber's {@code hello} and a publisher speaking up to {@code maxVersion} agree on, or -1. */
  static int negotiated(Hello hello, int maxVersion) {
    return ProtocolVersion.negotiate(
        hello.getMinProtocolVersion(), hello.getProtocolVersion(), ProtocolVersion.MIN, maxVersion);
  }

  private static Failure refuse(String reason, Refusal.Code code, StreamStatus.Code status, String message) {
    return new Failure(reason, code, status, message);
  }
}
