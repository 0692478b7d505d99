package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.storage.StateDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * When a subscriber asks its publisher for a repair: the decision half of anti-entropy, one per
 * subscription, without I/O.
 *
 * <p>Replication is the fast path; this is the guarantee. Two nodes that have each applied the
 * other's whole log hold, for every key, versions that are each at least the other's (LWW), so
 * their state digests are equal. When the digests differ although both are caught up with each
 * other, something was lost (a bug, a damaged database): the subscriber then asks its publisher for
 * the versions of the keys whose buckets differ ({@code RepairRequest}), and applies them by LWW.
 * The publisher's own subscription to this node does the same in the other direction.
 *
 * <p>A repair starts only when, at every publisher heartbeat for {@code settle}:
 *
 * <ul>
 *   <li>this node has committed the publisher's log up to the head the heartbeat names (not merely
 *       behind);
 *   <li>the publisher has durably applied this node's log up to this node's head (the publisher is
 *       not merely behind either; a publisher that does not pull from this node never qualifies);
 *   <li>the two digests differ.
 * </ul>
 *
 * Any heartbeat that breaks one of these restarts the settle time, so a long catch-up, or a busy
 * pair whose heads keep moving, starts no repair; and at most one repair per {@code minInterval} runs
 * per subscription, one at a time. The values compared must each describe one moment: the publisher
 * reads its applied position before its (head, digest) pair, and the caller reads this node's
 * committed position before its own (head, digest) pair, so a digest always covers the positions
 * compared with it.
 *
 * <p>Not thread-safe: the subscription's driver calls it from its serialized context.
 */
public final class AntiEntropy {
  /** What a publisher heartbeat said, for anti-entropy. */
  public record PeerView(long headSeq, StateDigest digest, String appliedLogId, long appliedSeq) {
    public PeerView {
      Objects.requireNonNull(appliedLogId, "appliedLogId");
    }
  }

  /** This node at one moment: its log id, head seq and the state digest at that head. */
  public record LocalView(String logId, long headSeq, StateDigest digest) {}

  /** The outcome of one heartbeat's evaluation. */
  public enum Verdict {
    /** The publisher sent no digest (it does not take part): nothing to compare. */
    NOT_SUPPORTED,
    /** This node has not committed the publisher's head yet. */
    BEHIND,
    /** The publisher has not applied this node's head yet, or does not pull from this node. */
    PEER_BEHIND,
    /** Both caught up, digests equal. */
    IN_SYNC,
    /** Both caught up, digests differ, waiting for the settle time (or the previous repair). */
    SETTLING,
    /** Start a repair now (the caller sends a {@code RepairRequest}). */
    REPAIR
  }

  private final Duration settle;
  private final Duration minInterval;
  private Instant mismatchSince;
  private Instant lastRepairStarted;
  private Instant lastDivergence;
  private boolean repairInFlight;
  private long repairsStarted;
  private long round;

  /**
   * @param settle how long digests must differ while both sides are caught up before a repair
   * @param minInterval least time between the starts of two repairs of this subscription
   */
  public AntiEntropy(Duration settle, Duration minInterval) {
    if (settle.isNegative() || minInterval.isNegative()) {
      throw new IllegalArgumentException("settle and minInterval must not be negative");
    }
    this.settle = settle;
    this.minInterval = minInterval;
  }

  /**
   * Evaluates one publisher heartbeat.
   *
   * @param peer what the heartbeat said; {@code peer.digest()} null when it carried none
   * @param committedFromPeer the publisher's seq up to which this node has committed its log, read
   *     before {@code local}
   * @param local this node's (log id, head, digest), read after {@code committedFromPeer}
   */
  public Verdict onHeartbeat(PeerView peer, long committedFromPeer, LocalView local, Instant now) {
    if (peer.digest() == null) {
      mismatchSince = null;
      return Verdict.NOT_SUPPORTED;
    }
    if (committedFromPeer < peer.headSeq()) {
      mismatchSince = null;
      return Verdict.BEHIND;
    }
    if (!peer.appliedLogId().equals(local.logId()) || peer.appliedSeq() < local.headSeq()) {
      mismatchSince = null;
      return Verdict.PEER_BEHIND;
    }
    if (peer.digest().equals(local.digest())) {
      mismatchSince = null;
      return Verdict.IN_SYNC;
    }
    lastDivergence = now;
    if (mismatchSince == null) {
      mismatchSince = now;
    }
    boolean settled = !now.isBefore(mismatchSince.plus(settle));
    boolean intervalPassed = lastRepairStarted == null || !now.isBefore(lastRepairStarted.plus(minInterval));
    if (!settled || !intervalPassed || repairInFlight) {
      return Verdict.SETTLING;
    }
    repairInFlight = true;
    lastRepairStarted = now;
    repairsStarted++;
    round++;
    return Verdict.REPAIR;
  }

  /** The round number of the repair that {@link Verdict#REPAIR} just started. */
  public long round() {
    return round;
  }

  /**
   * The publisher said the round's repair batches were all sent ({@code RepairDone}). The
   * comparison starts afresh: if the digests still differ, the next repair waits another settle
   * time and {@code minInterval}.
   *
   * @return false when {@code doneRound} is not the round in flight (a stale or unexpected answer)
   */
  public boolean onRepairDone(long doneRound) {
    if (!repairInFlight || doneRound != round) {
      return false;
    }
    repairInFlight = false;
    mismatchSince = null;
    return true;
  }

  /** The stream ended: a repair in flight is abandoned (the next stream starts comparing anew). */
  public void onStreamEnded() {
    repairInFlight = false;
    mismatchSince = null;
  }

  /** Whether a repair was requested and its {@code RepairDone} has not arrived. */
  public boolean repairInFlight() {
    return repairInFlight;
  }

  /** Repairs started by this subscription since start. */
  public long repairsStarted() {
    return repairsStarted;
  }

  /** When a heartbeat last showed differing digests while both sides were caught up; null if never. */
  public Instant lastDivergence() {
    return lastDivergence;
  }
}
