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
 * @param lagSeconds 0 while connected and caught up ({@code watermark >= peerHeadSeq}); otherwise
 *     the seconds since this node was last caught up with the peer on a connected stream (since
 *     the peer was added, if never). It grows while the peer is down or unreachable as well as
 *     while this node is behind, so a dead peer does not show lag 0
 * @param entriesApplied entries from the peer that won LWW and were stored, since start
 * @param duplicates entries from the peer that were already stored, since start
 * @param conflicts entries from the peer that lost LWW, since start
 * @param entriesSent entries this node streamed to the peer's subscription, since start
 * @param ackedSeq the highest seq of this node's log the peer has acknowledged
 * @param reconnects stream re-openings to the peer, since start
 * @param lastError the last error on the stream, or null
 * @param lastErrorAt when it happened, or null
 * @param lastErrorResolved true when the link connected after that error: it is history
 * @param stalledSince when the link was found stalled: connected, behind ({@code lagEntries > 0})
 *     and the watermark not advancing for {@code replication.stallTimeout}; its stream is then
 *     reopened, and this stays set until the watermark moves, the lag reaches 0 or the link fails
 *     for another reason (then it is just disconnected). Null when not stalled
 * @param repairs anti-entropy repairs this node started against the peer, since start
 * @param keysRepaired keys whose version such repairs replaced, since start
 * @param lastDivergenceAt when the state digests of this node and the peer last differed while
 *     both were caught up with each other, or null if never since start
 * @param protocolVersion the replication protocol version agreed with the peer on the last stream
 *     it welcomed; 0 before one
 * @param peerDigest the state digest the peer reported in its last heartbeat (hex), or null: equal
 *     to this node's digest when both hold the same state
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
    Instant lastErrorAt,
    boolean lastErrorResolved,
    Instant stalledSince,
    long repairs,
    long keysRepaired,
    Instant lastDivergenceAt,
    int protocolVersion,
    String peerDigest) {}
