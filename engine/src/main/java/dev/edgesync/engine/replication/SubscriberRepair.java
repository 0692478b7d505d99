package dev.edgesync.engine.replication;

import com.google.protobuf.ByteString;
import dev.edgesync.engine.replication.core.AntiEntropy;
import dev.edgesync.engine.storage.BucketDigests;
import dev.edgesync.engine.storage.StateDigest;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.proto.Heartbeat;
import dev.edgesync.proto.RepairDone;
import dev.edgesync.proto.RepairRequest;
import dev.edgesync.proto.SubscriberMessage;
import io.micrometer.core.instrument.Counter;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The subscriber's half of anti-entropy for one peer: carries out what {@link AntiEntropy} decides
 * (asks for a repair with this node's bucket digests), counts what repairs brought, and tells the
 * operator. {@link PeerLink} owns it and calls it under its own lock, except {@link #request},
 * which scans the store and runs on the I/O executor.
 */
final class SubscriberRepair {
  private static final Logger log = LoggerFactory.getLogger(SubscriberRepair.class);

  /** 4,096 buckets: 64 KiB of digests per request, ~250 rows per bucket in a store of a million keys. */
  static final int BUCKET_BITS = 12;

  private final Shared shared;
  private final String peerId;
  private final AntiEntropy decisions;
  private final Counter repairs;
  private final Counter keysRepaired;
  // Epoch millis of the last divergence seen, 0 for never; read by the metrics gauge.
  private final AtomicLong lastDivergenceMillis = new AtomicLong();

  // Guarded by the owning PeerLink.
  private long roundKeysRepaired;
  private long roundEntriesReceived;
  private long totalKeysRepaired;

  SubscriberRepair(Shared shared, String peerId) {
    this.shared = shared;
    this.peerId = peerId;
    ReplicationSettings s = shared.settings();
    this.decisions = new AntiEntropy(s.antiEntropy().settle(), s.antiEntropy().minInterval());
    this.repairs = shared.metrics().antiEntropyRepairs(peerId);
    this.keysRepaired = shared.metrics().antiEntropyKeysRepaired(peerId);
    shared.metrics().antiEntropyLastDivergence(peerId, lastDivergenceMillis);
  }

  private volatile String lastPeerDigest;

  /**
   * Evaluates a publisher heartbeat. Returns the round of a repair to start now, or -1.
   *
   * @param committed what this node has committed of the publisher's streamed log, -1 when the
   *     stream is not (yet) on the log the watermark follows; read before this node's state
   */
  long onHeartbeat(Heartbeat heartbeat, long committed, Instant now) {
    if (committed < 0) {
      decisions.onStreamEnded();
      return -1;
    }
    StateDigest peerDigest =
        heartbeat.getStateDigest().isEmpty() ? null : StateDigest.fromBytes(heartbeat.getStateDigest().toByteArray());
    if (peerDigest != null) {
      lastPeerDigest = peerDigest.toHex();
    }
    VersionedStore store = shared.store();
    VersionedStore.StateAtHead local = store.stateAtHead();
    AntiEntropy.Verdict verdict =
        decisions.onHeartbeat(
            new AntiEntropy.PeerView(heartbeat.getSeq(), peerDigest, heartbeat.getAppliedLogId(), heartbeat.getAppliedSeq()),
            committed,
            new AntiEntropy.LocalView(store.logId(), local.headSeq(), local.digest()),
            now);
    if (decisions.lastDivergence() != null) {
      lastDivergenceMillis.set(decisions.lastDivergence().toEpochMilli());
    }
    if (verdict != AntiEntropy.Verdict.REPAIR) {
      return -1;
    }
    repairs.increment();
    roundKeysRepaired = 0;
    roundEntriesReceived = 0;
    log.warn(
        "node {} peer {}: state digests differ ({} here, {} at the peer) although each has applied the other's log"
            + " (its head seq {}, ours {}) for {} s: starting anti-entropy round {}",
        shared.nodeId(), peerId, local.digest().toHex(), peerDigest.toHex(), heartbeat.getSeq(), local.headSeq(),
        shared.settings().antiEntropy().settle().toSeconds(), decisions.round());
    return decisions.round();
  }

  /** The request of {@code round}: this node's bucket digests, by one scan of its state. Blocking. */
  SubscriberMessage request(long round) {
    BucketDigests digests = RepairScan.digestsOf(shared.store()::scanState, BUCKET_BITS);
    return SubscriberMessage.newBuilder()
        .setRepairRequest(
            RepairRequest.newBuilder()
                .setRound(round)
                .setBucketBits(BUCKET_BITS)
                .setBucketDigests(ByteString.copyFrom(digests.toBytes())))
        .build();
  }

  /** Whether a repair was asked for and its {@code RepairDone} has not come. */
  boolean expecting() {
    return decisions.repairInFlight();
  }

  /** A repair batch of {@code received} entries was committed, {@code applied} of them won LWW. */
  void onBatchApplied(int received, long applied) {
    roundEntriesReceived += received;
    roundKeysRepaired += applied;
    totalKeysRepaired += applied;
    keysRepaired.increment((double) applied);
  }

  /**
   * The publisher finished a round. Returns false when no such round was asked for (a protocol
   * error).
   */
  boolean onDone(RepairDone done) {
    if (!decisions.onRepairDone(done.getRound())) {
      return false;
    }
    log.warn(
        "node {} peer {}: anti-entropy round {} done: {} of {} buckets differed, {} rows received, {} keys repaired{}",
        shared.nodeId(), peerId, done.getRound(), done.getBucketsDiffered(), 1 << BUCKET_BITS, roundEntriesReceived,
        roundKeysRepaired, done.getTruncated() ? "; the repair limit was reached, the next round continues" : "");
    return true;
  }

  /** The stream ended or the request could not be made: a round in flight is abandoned. */
  void abandon() {
    decisions.onStreamEnded();
  }

  long repairsStarted() {
    return decisions.repairsStarted();
  }

  long keysRepaired() {
    return totalKeysRepaired;
  }

  /** The state digest the peer reported in its last heartbeat; null before one. */
  String lastPeerDigest() {
    return lastPeerDigest;
  }

  /** When digests last differed while both sides were caught up; null if never. */
  Instant lastDivergence() {
    return decisions.lastDivergence();
  }
}
