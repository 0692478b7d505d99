package dev.edgesync.engine.replication;

/**
 * A node that pulls from this one (an inbound subscriber), listed or not in this node's peers:
 * such nodes count toward {@code Acks.peers(n)}.
 *
 * @param id its node id
 * @param connected whether a stream of it is open now
 * @param ackedSeq the highest seq of this node's log it acknowledged (durably committed there)
 * @param entriesSent entries this node streamed to it, since start
 * @param protocolVersion the replication protocol version of its open stream; 0 when none is open
 */
public record SubscriberStatus(String id, boolean connected, long ackedSeq, long entriesSent, int protocolVersion) {}
