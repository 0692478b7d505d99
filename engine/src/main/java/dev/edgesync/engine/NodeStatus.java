package dev.edgesync.engine;

import dev.edgesync.engine.replication.PeerStatus;
import java.util.List;

/**
 * A snapshot of a node's state for operators and tests.
 *
 * @param nodeId this node's id
 * @param cluster the cluster name
 * @param logId this node's log id
 * @param headSeq this node's highest seq
 * @param digest the state digest (32 hex digits); equal on nodes holding equal state
 * @param state lifecycle state
 * @param failure why the node failed, when {@code state} is FAILED, else null
 * @param listenPort the gRPC port actually bound, or -1 before start
 * @param peers one entry per configured peer
 */
public record NodeStatus(
    String nodeId,
    String cluster,
    String logId,
    long headSeq,
    String digest,
    State state,
    String failure,
    int listenPort,
    List<PeerStatus> peers) {

  /** Lifecycle of a node. */
  public enum State {
    /** Built, not started. */
    NEW,
    /** Serving reads, writes and replication. */
    RUNNING,
    /** Storage failed: writes are refused; the failure says why. */
    FAILED,
    /** Closing or closed. */
    CLOSED
  }
}
