package dev.edgesync.engine.replication;

import java.time.Instant;

/**
 * What this node knows about one configured peer, as seen from its subscription to that peer.
 *
 * @param id the peer's node id
 * @param address the peer's {@code host:port}
 * @param connected true while the stream to the peer is open and heartbeats arrive
 * @param peerLogId the peer's log id, as last reported by it (empty before the first connect)
 * @param watermark the last seq of the peer's log this node has durably applied
 * @param peerHeadSeq the peer's head seq as last reported
 * @param lagEntries {@code peerHeadSeq - watermark}, at least 0 (an upper bound: the peer's log is
 *     compacted)
 * @param lagSeconds seconds since this node was last caught up with the peer (0 when caught up)
 * @param entriesApplied entries from the peer that won LWW and were stored, since start
 * @param duplicates entries from the peer that were already stored, since start
 * @param conflicts entries from the peer that lost LWW, since start
 * @param entriesSent entries this node streamed to the peer's subscription, since start
 * @param ackedSeq the highest seq of this node's log the peer has acknowledged
 * @param reconnects stream re-openings to the peer, since start
 * @param lastError the last error on the stream, or null
 * @param lastErrorAt when it happened, or null
 */
public record PeerStatus(
    String id,
    String address,
    boolean connected,
    String peerLogId,
    long watermark,
    long peerHeadSeq,
    long lagEntries,
    double lagSeconds,
    long entriesApplied,
    long duplicates,
    long conflicts,
    long entriesSent,
    long ackedSeq,
    long reconnects,
    String lastError,
    Instant lastErrorAt) {}
