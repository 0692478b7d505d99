// Over 500 lines on purpose: the one state machine of a subscription; its decisions live in the
// parts it wires (InFlightWindow, SubscriberProgress, SubscriberFailures, Liveness, StallDetector),
// and what is left here is one event method per message kind, commit, tick and repair.
package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.ApplyResult;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Heartbeat;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.Welcome;
import dev.edgesync.watermark.Watermark;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The subscriber's side of replication with one peer, as a state machine without I/O: it decides
 * what {@code Hello} to send, whether a {@code Welcome} or {@code Batch} is acceptable, when to
 * acknowledge, which watermark to persist, when a heartbeat is due or the peer counts as gone, and
 * how long to wait before reconnecting. Its driver ({@code PeerLink}) feeds it events with the
 * current time and carries out what it returns.
 *
 * <p>One core lives as long as the peer is configured and sees a sequence of stream
 * <em>attempts</em>; events of an attempt that is no longer current are ignored, except commits of
 * its batches, which may still advance the watermark (the data is committed).
 *
 * <p>It composes small parts: {@link ResumeDecision} takes the {@code Welcome}, {@link BatchCheck}
 * a {@code Batch}, {@link InFlightWindow} holds the watermark invariant and the per-stream limit
 * of batches in the store, {@link SubscriberProgress} the watermark and the lag, {@link
 * SubscriberFailures} says why a stream stops, {@link Liveness} and {@link Backoff} the timing,
 * {@link StallDetector} whether a connected stream is stuck.
 *
 * <p><b>Size.</b> Over 500 lines for now: it is the subscription's one state machine, and most of
 * its length is the event methods the driver calls (one per message kind, commit, tick and repair)
 * and queries; the decisions themselves sit in the parts above (its counters are read through
 * {@link #counters()}, not forwarded).
 *
 * <p>Not thread-safe: the driver serialises every call.
 */
public final class SubscriberCore {
  private final String nodeId;
  private final String cluster;
  private final String peerId;
  private final Duration heartbeatInterval;
  private final Duration heartbeatTimeout;
  private final Backoff backoff;
  private final int maxInboundMessageBytes;
  private final SubscriberFailures failures;
  private final SubscriberProgress position;
  private final SubscriberCounters counters = new SubscriberCounters();
  private final CatchUpProgress catchUp = new CatchUpProgress();
  private final StallDetector stall;
  private final InFlightWindow<Attempt> window;

  // Commits of attempts older than this one are of a history the watermark no longer follows.
  private long firstAttemptOfHistory;
  private long attemptsOpened;
  private long nextAttemptId = 1;
  private Attempt current;
  // Protocol versions: the newest this node speaks, the newest offered in the next Hello (lower
  // after a refusal by a node of a build before negotiation), and the one agreed on (0: none yet).
  private int maxVersion = ProtocolVersion.CURRENT;
  private int offer = ProtocolVersion.CURRENT;
  private int version;
  private boolean retryingLower;

  /**
   * @param maxInboundMessageBytes the largest message this node accepts, told to the publisher in
   *     {@code Hello} so that it cuts its batches to fit
   * @param maxBatchesInFlight most batches handed to the store and not yet committed; the driver
   *     asks the stream for the next message only below it (see {@link #handedOff})
   * @param stallTimeout how long a connected attempt that is behind may go without progress before
   *     it is stopped as stalled (see {@link StallDetector})
   * @param persisted the watermark read from disk when the peer was added
   * @param now when the peer was added; lag is counted from here until the first catch-up
   */
  public SubscriberCore(
      String nodeId,
      String cluster,
      String peerId,
      String peerAddress,
      Duration heartbeatInterval,
      Duration heartbeatTimeout,
      Duration stallTimeout,
      Backoff backoff,
      int maxInboundMessageBytes,
      int maxBatchesInFlight,
      Watermark persisted,
      Instant now) {
    this.window = new InFlightWindow<>(maxBatchesInFlight);
    this.nodeId = nodeId;
    this.cluster = cluster;
    this.peerId = peerId;
    this.heartbeatInterval = heartbeatInterval;
    this.heartbeatTimeout = heartbeatTimeout;
    this.backoff = backoff;
    this.maxInboundMessageBytes = maxInboundMessageBytes;
    this.failures = new SubscriberFailures(nodeId, peerId, peerAddress);
    this.position = new SubscriberProgress(persisted, now);
    this.stall = new StallDetector(stallTimeout);
  }

  // ---------------------------------------------------------------- stream attempts

  /** Speak at most protocol version {@code max} ({@code replication.maxProtocolVersion}); before {@link #open}. */
  public SubscriberCore maxProtocolVersion(int max) {
    this.maxVersion = max;
    this.offer = max;
    return this;
  }

  /** Whether the attempt closed last is retried at once one protocol version lower. */
  public boolean retryingLowerVersion() {
    return retryingLower;
  }

  /** The protocol version agreed with the peer on the last welcomed stream; 0 before one. */
  public int protocolVersion() {
    return version;
  }

  /** A new stream attempt: its id and the {@code Hello} that opens it. */
  public record Opening(long attemptId, Hello hello, boolean reconnect) {}

  /** Starts a stream attempt; any previous one must have been closed. */
  public Opening open(Instant now) {
    if (current != null) {
      throw new IllegalStateException("attempt " + current.id + " to peer " + peerId + " is still open");
    }
    boolean reconnect = attemptsOpened++ > 0;
    if (reconnect) {
      counters.reconnected();
    }
    current = new Attempt(nextAttemptId++, new Liveness(heartbeatInterval, heartbeatTimeout, now));
    window.open(current);
    String logId = position.logId();
    Hello hello =
        Hello.newBuilder()
            .setCluster(cluster)
            .setNodeId(nodeId)
            .setProtocolVersion(offer)
            .setMinProtocolVersion(ProtocolVersion.MIN)
            .setSinceLogId(logId)
            .setSinceSeq(logId.isEmpty() ? 0 : position.committedSeq())
            .setSinceEpoch(logId.isEmpty() ? Watermark.NO_EPOCH : position.epoch())
            .setMaxMessageBytes(maxInboundMessageBytes)
            .build();
    current.liveness.sent(now);
    return new Opening(current.id, hello, reconnect);
  }

  /**
   * How a {@code Welcome} was taken.
   *
   * @param failure non-null when the welcome is refused (the stream must be stopped)
   * @param resume how streaming starts, when accepted
   * @param previousLogId the watermark's log id before this welcome
   * @param fromSeq the seq streaming starts after
   * @param previousSeq the watermark's seq before this welcome
   */
  public record WelcomeOutcome(Failure failure, Resume resume, String previousLogId, long fromSeq, long previousSeq) {}

  /** A {@code Welcome} arrived on {@code attemptId}; null when the attempt is stale. */
  public WelcomeOutcome onWelcome(long attemptId, Welcome welcome, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return null;
    }
    a.liveness.heard(now);
    String previous = position.logId();
    long previousSeq = position.committedSeq();
    Failure failure =
        a.welcomed
            ? failures.protocol("sent a second Welcome on one stream")
            : ResumeDecision.check(welcome, peerId, previous, previousSeq, offer, failures);
    if (failure != null) {
      return new WelcomeOutcome(fail(a, failure, now), null, previous, previousSeq, previousSeq);
    }
    Resume resume = ResumeDecision.of(welcome, previous, previousSeq);
    counters.connected(now);
    switch (resume) {
      case HISTORY_CHANGED -> {
        // What the watermark claims beyond the start is not of this history, so it falls back to
        // the start; claiming less than what is stored is always safe.
        position.restart(previous, welcome.getStartSeq(), welcome.getStartEpoch());
        firstAttemptOfHistory = a.id;
      }
      // The watermark describes another database of the peer (or none): it means nothing for this
      // log, so the peer streams from 0. Applying again what is already here is harmless.
      case FIRST_SYNC, LOG_CHANGED -> position.restart(welcome.getLogId(), 0, Watermark.NO_EPOCH);
      case RESUMED -> {}
    }
    version = welcome.getProtocolVersion();
    a.logId = welcome.getLogId();
    a.lastBatchSeq = welcome.getStartSeq();
    a.welcomed = true;
    position.raiseHead(welcome.getHeadSeq(), false, now);
    return new WelcomeOutcome(null, resume, previous, welcome.getStartSeq(), previousSeq);
  }

  /**
   * What to do with a {@code Batch}: stop the stream ({@code failure}), or hand {@code entries}
   * to the store and report the outcome under {@code token}.
   */
  public record BatchOutcome(Failure failure, long token, List<StoredEntry> entries, long lastSeq) {}

  /**
   * A {@code Batch} arrived on {@code attemptId}: checks order and every entry's checksum (see
   * {@link BatchCheck}). Null when the attempt is stale (the batch is dropped: nothing applied,
   * nothing acknowledged). Until {@link #handedOff} the attempt does not listen, so its silence
   * does not count.
   */
  public BatchOutcome onBatch(long attemptId, Batch batch, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return null;
    }
    a.liveness.heard(now);
    BatchCheck.Result checked =
        a.welcomed
            ? BatchCheck.check(batch, a.lastBatchSeq, position.committedSeq(), failures)
            : new BatchCheck.Result(failures.protocol("sent a Batch before its Welcome"), List.of());
    if (checked.failure() != null) {
      return new BatchOutcome(fail(a, checked.failure(), now), 0, List.of(), 0);
    }
    a.lastBatchSeq = batch.getLastSeq();
    if (a.logId.equals(position.logId())) {
      position.raiseHead(batch.getHeadSeq(), true, now);
    }
    long token = window.add(batch.getLastSeq(), batch.getLastSeqEpoch(), checked.entries().size());
    a.liveness.pause();
    return new BatchOutcome(null, token, checked.entries(), batch.getLastSeq());
  }

  /**
   * The batch of {@code attemptId} was handed to the store. Returns true when the driver should
   * ask the stream for the next message now: the attempt then listens again. With {@code
   * maxBatchesInFlight} batches uncommitted it returns false and stays deaf (its silence clock
   * paused) until a commit frees a slot; {@link #onApplied} then says to ask ({@link
   * CommitOutcome#requestAttemptId()}). Meanwhile the publisher's sends wait in flow control.
   */
  public boolean handedOff(long attemptId, Instant now) {
    Attempt a = live(attemptId);
    if (a == null || !window.mayRequest()) {
      return false;
    }
    a.liveness.resume(now);
    return true;
  }

  /**
   * What a commit leads to.
   *
   * @param ackAttemptId the attempt to send the ack on, or 0 for none
   * @param ackSeq the seq to acknowledge
   * @param watermark the watermark to persist, or null
   * @param progress a catch-up progress line to log, or null
   * @param requestAttemptId the attempt whose stream to ask for the next message (it was held
   *     back at {@code maxBatchesInFlight}), or 0 for none
   */
  public record CommitOutcome(long ackAttemptId, long ackSeq, Watermark watermark, String progress, long requestAttemptId) {
    static final CommitOutcome NONE = new CommitOutcome(0, 0, null, null, 0);

    static CommitOutcome requestOnly(long attemptId) {
      return attemptId == 0 ? NONE : new CommitOutcome(0, 0, null, null, attemptId);
    }
  }

  /** The store committed the batch {@code token}. */
  public CommitOutcome onApplied(long token, ApplyResult result, Instant now) {
    InFlightWindow.Commit<Attempt> commit = window.committed(token);
    if (commit == null) {
      return CommitOutcome.NONE;
    }
    counters.applied(result);
    Attempt a = commit.stream();
    a.healthy = true;
    long request = 0;
    if (commit.requestDue() && a == current && a.failure == null) {
      a.liveness.resume(now);
      request = a.id;
    }
    InFlightWindow.Advance advance = commit.advance();
    if (advance == null
        || a.id < firstAttemptOfHistory
        || !position.advance(a.logId, advance.lastSeq(), advance.lastSeqEpoch(), now)) {
      return CommitOutcome.requestOnly(request);
    }
    long seq = position.committedSeq();
    String line = catchUp.onCommitted(now, seq, position.peerHeadSeq(), advance.entries());
    boolean ackable = a == current && a.failure == null;
    return new CommitOutcome(ackable ? a.id : 0, seq, position.watermark(peerId, now), line, request);
  }

  /** A failed batch: why, and the attempt it belonged to (whose stream must stop). */
  public record ApplyFailure(Failure failure, long attemptId) {}

  /**
   * The store refused or failed the batch {@code token}. Poisons its attempt (see {@link
   * InFlightWindow}). Returns the failure to report and the attempt to stop, or null for an
   * unknown token.
   */
  public ApplyFailure onApplyFailed(long token, Throwable cause, Instant now) {
    Attempt a = window.failed(token);
    if (a == null) {
      return null;
    }
    return new ApplyFailure(fail(a, failures.applyFailed(cause), now), a.id);
  }

  /** A {@code Heartbeat} arrived: the peer is alive and reports its head. */
  public void onHeartbeat(long attemptId, Heartbeat heartbeat, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return;
    }
    a.liveness.heard(now);
    if (a.welcomed) {
      a.healthy = true;
      if (a.logId.equals(position.logId())) {
        position.raiseHead(heartbeat.getSeq(), true, now);
      }
    }
  }

  /**
   * An anti-entropy {@code Batch} (flagged {@code repair}) arrived. Its checksums are checked as
   * for any batch, but it stands outside the log's order: it neither moves nor waits for the
   * watermark. Until {@link #repairApplied} the attempt does not listen (one repair batch in the
   * store at a time). Null when the attempt is stale.
   *
   * @param expected whether this node asked for a repair that has not finished
   */
  public BatchOutcome onRepairBatch(long attemptId, Batch batch, boolean expected, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return null;
    }
    a.liveness.heard(now);
    if (!a.welcomed || !expected) {
      return new BatchOutcome(fail(a, failures.protocol("sent a repair Batch that was not asked for"), now), 0, List.of(), 0);
    }
    BatchCheck.Result checked = BatchCheck.checkRepair(batch, position.committedSeq(), failures);
    if (checked.failure() != null) {
      return new BatchOutcome(fail(a, checked.failure(), now), 0, List.of(), 0);
    }
    a.liveness.pause();
    return new BatchOutcome(null, 0, checked.entries(), 0);
  }

  /**
   * The repair batch of {@code attemptId} was committed: the attempt listens again. Returns true
   * when the driver should ask the stream for the next message.
   */
  public boolean repairApplied(long attemptId, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return false;
    }
    a.liveness.resume(now);
    return true;
  }

  /** The store failed a repair batch: the attempt stops, as for a failed log batch. */
  public Failure onRepairApplyFailed(long attemptId, Throwable cause, Instant now) {
    Attempt a = live(attemptId);
    return a == null ? null : fail(a, failures.applyFailed(cause), now);
  }

  /**
   * A message that only proves the peer alive arrived ({@code RepairDone}). Returns false when
   * the attempt is stale or not yet welcomed.
   */
  public boolean heard(long attemptId, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return false;
    }
    a.liveness.heard(now);
    return a.welcomed;
  }

  /**
   * The seq of the publisher's log up to which this node has committed, when {@code attemptId}
   * streams the log the watermark follows; -1 otherwise (before the Welcome, or another log).
   */
  public long committedInStreamedLog(long attemptId) {
    Attempt a = live(attemptId);
    return a != null && a.welcomed && a.logId.equals(position.logId()) ? position.committedSeq() : -1;
  }

  /**
   * This node will not pull from the peer: its data is older than this node's tombstone horizon
   * ({@code why}); the stream is over and retried later (the peer may have been re-synced).
   */
  public Failure onStalePeer(long attemptId, String why, Instant now) {
    Attempt a = live(attemptId);
    return a == null ? null : fail(a, new Failure("stale_data", Refusal.Code.STALE_DATA, StreamStatus.Code.FAILED_PRECONDITION, why), now);
  }

  /**
   * The peer refused the subscription; the stream is over. A refusal of the protocol version
   * offered, by a peer that may be of a build before negotiation (it accepts only its own version),
   * is answered at once with the next lower version, without counting as an error.
   */
  public Failure onRefusal(long attemptId, Refusal refusal, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return null;
    }
    if (refusal.getCode() == Refusal.Code.PROTOCOL_VERSION && offer > ProtocolVersion.MIN) {
      offer--;
      a.failure = failures.versionFallback(refusal, offer);
      a.retryAtOnce = true;
      return a.failure;
    }
    // No version of this node's range was taken; the next attempt starts from the newest again.
    offer = maxVersion;
    return fail(a, failures.refused(refusal), now);
  }

  /** A message the protocol does not allow arrived. */
  public Failure onUnexpected(long attemptId, String what, Instant now) {
    Attempt a = live(attemptId);
    return a == null ? null : fail(a, failures.protocol(what), now);
  }

  /**
   * What the periodic tick of an attempt decided.
   *
   * @param heartbeat send a heartbeat now
   * @param timeout stop the stream for this failure (silence, or a stall), or null
   */
  public record Tick(boolean heartbeat, Failure timeout) {
    static final Tick NOTHING = new Tick(false, null);
  }

  /** The periodic tick of {@code attemptId}. */
  public Tick tick(long attemptId, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return Tick.NOTHING;
    }
    if (a.liveness.timedOut(now)) {
      return new Tick(false, fail(a, failures.silent(a.liveness.silence(now), heartbeatTimeout), now));
    }
    if (a.welcomed && stall.onTick(position.committedSeq(), position.lagEntries(), now)) {
      Failure stalled = failures.stalled(position.committedSeq(), position.lagEntries(), stall.timeout());
      return new Tick(false, fail(a, stalled, now));
    }
    return new Tick(a.liveness.heartbeatDue(now), null);
  }

  /** The heartbeat to send, carrying the acknowledged seq. */
  public Heartbeat heartbeat(Instant now) {
    return Heartbeat.newBuilder().setSeq(position.committedSeq()).setWallMillis(now.toEpochMilli()).build();
  }

  /** Something was sent on {@code attemptId}. */
  public void sent(long attemptId, Instant now) {
    Attempt a = live(attemptId);
    if (a != null) {
      a.liveness.sent(now);
    }
  }

  /**
   * Persisting the watermark at {@code seq} failed for {@code cause}: the current attempt (if any)
   * fails with it, and the driver stops its stream.
   */
  public Failure onWatermarkWriteFailed(long seq, String cause, Instant now) {
    Failure failure = failures.watermarkWrite(seq, cause);
    counters.error(failure.message(), now);
    if (current != null && current.failure == null) {
      current.failure = failure;
    }
    return failure;
  }

  /**
   * The stream of {@code attemptId} ended. Returns the delay before the next attempt, or null if
   * the attempt was not the current one.
   */
  public Duration onClosed(long attemptId, StreamStatus status, Instant now) {
    Attempt a = current;
    if (a == null || a.id != attemptId) {
      return null;
    }
    current = null;
    catchUp.reset();
    if (a.failure != null && StallDetector.ERROR_KIND.equals(a.failure.kind())) {
      stall.onStalledAttemptClosed();
    } else {
      stall.onDisconnected();
    }
    if (a.failure == null) {
      // The stream ended without a decision of ours: record why.
      counters.error(failures.streamEnded(status), now);
    }
    retryingLower = a.retryAtOnce;
    if (!a.retryAtOnce) {
      // Only the attempt right after a refused version keeps the lower offer: any other end (the
      // peer may come back upgraded, or another node answers there now) offers the newest again.
      offer = maxVersion;
    }
    if (a.healthy) {
      backoff.reset();
    }
    return a.retryAtOnce ? Duration.ZERO : backoff.nextDelay();
  }

  // ---------------------------------------------------------------- queries

  /** True when {@code attemptId} is the open attempt. */
  public boolean isCurrent(long attemptId) {
    return current != null && current.id == attemptId;
  }

  /** True while an attempt got its {@code Welcome} and has not ended. */
  public boolean connected() {
    return current != null && current.welcomed && current.failure == null;
  }

  public String peerLogId() {
    return position.logId();
  }

  public long committedSeq() {
    return position.committedSeq();
  }

  /** The epoch of the peer's log that {@link #committedSeq()} belongs to ("" when unknown). */
  String committedEpoch() {
    return position.epoch();
  }

  public long peerHeadSeq() {
    return position.peerHeadSeq();
  }

  public long lagEntries() {
    return position.lagEntries();
  }

  /**
   * 0 while connected and caught up; otherwise seconds since this node was last caught up with the
   * peer (since the peer was added, if never): it grows while the peer is down, too.
   */
  public double lagSeconds(Instant now) {
    return position.lagSeconds(connected(), now);
  }

  /**
   * When the link was found stalled (connected, behind, and no progress for {@code stallTimeout});
   * null when it is not. It stays set through the reopen that follows until the watermark moves,
   * the lag reaches 0 or the link fails for another reason (see {@link StallDetector}).
   */
  public Instant stalledSince() {
    return stall.stalledSince();
  }

  /** Entries applied, duplicates, conflicts, reconnects and the last error of this subscription. */
  public SubscriberCounters counters() {
    return counters;
  }

  /** Batches handed to the store and not yet reported back. */
  int inFlightBatches() {
    return window.size();
  }

  // ---------------------------------------------------------------- internals

  private Attempt live(long attemptId) {
    return current != null && current.id == attemptId && current.failure == null ? current : null;
  }

  private Failure fail(Attempt a, Failure failure, Instant now) {
    a.failure = failure;
    counters.error(failure.message(), now);
    return failure;
  }

  /** One stream attempt. */
  private static final class Attempt {
    final long id;
    final Liveness liveness;
    String logId = "";
    long lastBatchSeq;
    boolean welcomed;
    boolean healthy;
    boolean retryAtOnce;
    Failure failure;

    Attempt(long id, Liveness liveness) {
      this.id = id;
      this.liveness = liveness;
    }
  }
}
