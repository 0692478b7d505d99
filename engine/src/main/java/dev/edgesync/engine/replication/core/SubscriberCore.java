package dev.edgesync.engine.replication.core;

import dev.edgesync.conflict.ClockSkewException;
import dev.edgesync.engine.replication.wire.EntryCodec;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.ApplyResult;
import dev.edgesync.engine.storage.LimitExceededException;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Entry;
import dev.edgesync.proto.Heartbeat;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.Welcome;
import dev.edgesync.watermark.Watermark;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The subscriber's side of replication with one peer, as a state machine without I/O: it decides
 * what {@code Hello} to send, whether a {@code Welcome} or {@code Batch} is acceptable, when to
 * acknowledge, which watermark to persist, when a heartbeat is due or the peer counts as gone, and
 * how long to wait before reconnecting. Its driver ({@link PeerLink}) feeds it events with the
 * current time and carries out what it returns.
 *
 * <p>One core lives as long as the peer is configured and sees a sequence of stream
 * <em>attempts</em>; events of an attempt that is no longer current are ignored, except commits of
 * its batches, which may still advance the watermark (the data is committed).
 *
 * <p><b>The watermark invariant.</b> The committed watermark {@code (logId, committedSeq)} only
 * advances to the {@code lastSeq} of a batch once that batch and every earlier batch of the same
 * attempt are committed by the store. A batch that fails poisons its attempt: later batches of
 * that attempt may still commit, but no longer advance the watermark, because the entries of the
 * failed batch are not all stored. Advancing only ever claims what is stored; a crash or failure
 * in between only causes re-sends, which are idempotent.
 *
 * <p>Not thread-safe: the driver serialises every call.
 */
public final class SubscriberCore {
  private final String nodeId;
  private final String cluster;
  private final String peerId;
  private final String peerAddress;
  private final Duration heartbeatInterval;
  private final Duration heartbeatTimeout;
  private final Backoff backoff;
  private final int maxBatchesInFlight;
  private final int maxInboundMessageBytes;
  private final CatchUpProgress progress = new CatchUpProgress();

  // What is durably applied from the peer: every seq <= committedSeq of log logId, where
  // committedSeq belongs to epoch `epoch` of that log (as the peer reported it).
  private String logId;
  private long committedSeq;
  private String epoch;
  // Commits of attempts older than this one are of a history the watermark no longer follows.
  private long firstAttemptOfHistory;

  private long peerHeadSeq;
  private Instant lastCaughtUpAt;
  private long entriesApplied;
  private long duplicates;
  private long conflicts;
  private long reconnects;
  private long attemptsOpened;
  private String lastError;
  private Instant lastErrorAt;

  private long nextAttemptId = 1;
  private long nextToken = 1;
  private Attempt current;
  private final Map<Long, InFlight> inFlight = new HashMap<>();

  /**
   * @param maxInboundMessageBytes the largest message this node accepts, told to the publisher in
   *     {@code Hello} so that it cuts its batches to fit
   * @param maxBatchesInFlight most batches handed to the store and not yet committed; the driver
   *     asks the stream for the next message only below it (see {@link #handedOff})
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
      Backoff backoff,
      int maxInboundMessageBytes,
      int maxBatchesInFlight,
      Watermark persisted,
      Instant now) {
    if (maxBatchesInFlight < 1) {
      throw new IllegalArgumentException("maxBatchesInFlight must be at least 1, was " + maxBatchesInFlight);
    }
    this.nodeId = nodeId;
    this.cluster = cluster;
    this.peerId = peerId;
    this.peerAddress = peerAddress;
    this.heartbeatInterval = heartbeatInterval;
    this.heartbeatTimeout = heartbeatTimeout;
    this.backoff = backoff;
    this.maxBatchesInFlight = maxBatchesInFlight;
    this.maxInboundMessageBytes = maxInboundMessageBytes;
    this.logId = persisted.peerLogId();
    this.committedSeq = persisted.isZero() || persisted.peerLogId().isEmpty() ? 0 : persisted.seq();
    this.epoch = committedSeq == 0 ? Watermark.NO_EPOCH : persisted.peerEpoch();
    this.peerHeadSeq = committedSeq;
    this.lastCaughtUpAt = now;
  }

  // ---------------------------------------------------------------- stream attempts

  /** A new stream attempt: its id and the {@code Hello} that opens it. */
  public record Opening(long attemptId, Hello hello, boolean reconnect) {}

  /** Starts a stream attempt; any previous one must have been closed. */
  public Opening open(Instant now) {
    if (current != null) {
      throw new IllegalStateException("attempt " + current.id + " to peer " + peerId + " is still open");
    }
    boolean reconnect = attemptsOpened++ > 0;
    if (reconnect) {
      reconnects++;
    }
    current = new Attempt(nextAttemptId++, new Liveness(heartbeatInterval, heartbeatTimeout, now));
    Hello hello =
        Hello.newBuilder()
            .setCluster(cluster)
            .setNodeId(nodeId)
            .setProtocolVersion(ProtocolVersion.CURRENT)
            .setSinceLogId(logId)
            .setSinceSeq(logId.isEmpty() ? 0 : committedSeq)
            .setSinceEpoch(logId.isEmpty() ? Watermark.NO_EPOCH : epoch)
            .setMaxMessageBytes(maxInboundMessageBytes)
            .build();
    current.liveness.sent(now);
    return new Opening(current.id, hello, reconnect);
  }

  /** How a {@code Welcome} was taken. */
  public enum Resume {
    /** The same log as the watermark: streaming resumes after the watermark. */
    RESUMED,
    /** No watermark yet: first sync from seq 0. */
    FIRST_SYNC,
    /** The peer's log id changed (database wiped or restored): re-sync from seq 0. */
    LOG_CHANGED,
    /**
     * The same log, but the peer no longer has the watermark's seq in the watermark's epoch (its
     * database was restored from an older copy): the peer streams from an earlier seq (0).
     */
    HISTORY_CHANGED
  }

  /**
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
    Failure failure = checkWelcome(a, welcome);
    if (failure != null) {
      return new WelcomeOutcome(fail(a, failure, now), null, logId, committedSeq, committedSeq);
    }
    String previous = logId;
    long previousSeq = committedSeq;
    Resume resume;
    if (welcome.getLogId().equals(logId) && welcome.getStartSeq() < committedSeq) {
      // The peer refused the resume point (its log no longer has it): what the watermark claims
      // beyond the start is not of this history, so it falls back to the start; claiming less
      // than what is stored is always safe.
      resume = Resume.HISTORY_CHANGED;
      committedSeq = welcome.getStartSeq();
      epoch = welcome.getStartEpoch();
      peerHeadSeq = committedSeq;
      firstAttemptOfHistory = a.id;
    } else if (welcome.getLogId().equals(logId)) {
      resume = Resume.RESUMED;
    } else {
      // The watermark describes another database of the peer (or none): it means nothing for
      // this log, so the peer streams from 0. Applying again what is already here is harmless.
      resume = logId.isEmpty() ? Resume.FIRST_SYNC : Resume.LOG_CHANGED;
      logId = welcome.getLogId();
      committedSeq = 0;
      epoch = Watermark.NO_EPOCH;
      peerHeadSeq = 0;
    }
    a.logId = welcome.getLogId();
    a.lastBatchSeq = welcome.getStartSeq();
    a.welcomed = true;
    raiseHead(welcome.getHeadSeq(), now);
    return new WelcomeOutcome(null, resume, previous, welcome.getStartSeq(), previousSeq);
  }

  private Failure checkWelcome(Attempt a, Welcome welcome) {
    if (a.welcomed) {
      return protocolError("sent a second Welcome on one stream");
    }
    if (!welcome.getNodeId().equals(peerId)) {
      return new Failure(
          "wrong_peer",
          Refusal.Code.NOT_ALLOWED,
          StreamStatus.Code.FAILED_PRECONDITION,
          "peer '" + peerId + "' at " + peerAddress + " answered as node '" + welcome.getNodeId()
              + "': the address belongs to another node; fix the peer list of node '" + nodeId + "'");
    }
    if (welcome.getProtocolVersion() != ProtocolVersion.CURRENT) {
      return new Failure(
          "protocol_version",
          Refusal.Code.PROTOCOL_VERSION,
          StreamStatus.Code.FAILED_PRECONDITION,
          "peer '" + peerId + "' speaks replication protocol version " + welcome.getProtocolVersion()
              + " but node '" + nodeId + "' speaks " + ProtocolVersion.CURRENT
              + ": run the same edgesync version on both");
    }
    if (welcome.getLogId().isEmpty()) {
      return protocolError("sent a Welcome without a log id");
    }
    boolean sameLog = welcome.getLogId().equals(logId);
    if (sameLog && welcome.getStartSeq() > committedSeq) {
      return protocolError(
          "offered to stream from seq " + welcome.getStartSeq() + " but this node asked from "
              + committedSeq + ": entries in between would be skipped");
    }
    if (!sameLog && welcome.getStartSeq() != 0) {
      return protocolError(
          "announced a new log id but offered to stream from seq " + welcome.getStartSeq() + ", not 0");
    }
    return null;
  }

  /**
   * What to do with a {@code Batch}: stop the stream ({@code failure}), or hand {@code entries}
   * to the store and report the outcome under {@code token}.
   */
  public record BatchOutcome(Failure failure, long token, List<StoredEntry> entries, long lastSeq) {}

  /**
   * A {@code Batch} arrived on {@code attemptId}: checks order and every entry's checksum. Null
   * when the attempt is stale (the batch is dropped: nothing applied, nothing acknowledged).
   * Until {@link #handedOff} the attempt does not listen, so its silence does not count.
   */
  public BatchOutcome onBatch(long attemptId, Batch batch, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return null;
    }
    a.liveness.heard(now);
    if (!a.welcomed) {
      return failed(a, protocolError("sent a Batch before its Welcome"), now);
    }
    if (batch.getLastSeq() < a.lastBatchSeq) {
      return failed(
          a,
          protocolError("sent a Batch ending at seq " + batch.getLastSeq() + " after one ending at " + a.lastBatchSeq),
          now);
    }
    List<StoredEntry> entries = new ArrayList<>(batch.getEntriesCount());
    long previousSeq = a.lastBatchSeq;
    for (Entry entry : batch.getEntriesList()) {
      if (entry.getSeq() <= previousSeq || entry.getSeq() > batch.getLastSeq()) {
        return failed(
            a,
            protocolError(
                "sent an entry with seq " + entry.getSeq() + " out of order (after seq " + previousSeq
                    + ", in a batch ending at " + batch.getLastSeq() + ")"),
            now);
      }
      previousSeq = entry.getSeq();
      try {
        entries.add(EntryCodec.decode(entry));
      } catch (EntryCodec.CorruptEntryException e) {
        return failed(
            a,
            new Failure(
                "crc",
                Refusal.Code.CORRUPT_ENTRY,
                StreamStatus.Code.DATA_LOSS,
                "peer '" + peerId + "' sent a corrupt batch (seqs " + (a.lastBatchSeq + 1) + ".."
                    + batch.getLastSeq() + "): " + e.getMessage()
                    + "; the batch was rejected, nothing of it applied, watermark kept at "
                    + committedSeq + "; reconnecting"),
            now);
      }
    }
    a.lastBatchSeq = batch.getLastSeq();
    if (a.logId.equals(logId)) {
      raiseHead(batch.getHeadSeq(), now);
    }
    long token = nextToken++;
    InFlight f = new InFlight(a, batch.getLastSeq(), batch.getLastSeqEpoch(), entries.size());
    a.inFlight.addLast(f);
    a.uncommitted++;
    inFlight.put(token, f);
    a.liveness.pause();
    return new BatchOutcome(null, token, entries, batch.getLastSeq());
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
    if (a == null) {
      return false;
    }
    if (a.uncommitted >= maxBatchesInFlight) {
      a.requestOwed = true;
      return false;
    }
    a.liveness.resume(now);
    return true;
  }

  /** A batch of {@code a} is no longer uncommitted; true when a held-back request is now due. */
  private boolean freeSlot(Attempt a, Instant now) {
    a.uncommitted--;
    if (a.requestOwed && a.uncommitted < maxBatchesInFlight && a == current && a.failure == null) {
      a.requestOwed = false;
      a.liveness.resume(now);
      return true;
    }
    return false;
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
    InFlight f = inFlight.remove(token);
    if (f == null) {
      return CommitOutcome.NONE;
    }
    entriesApplied += result.applied();
    duplicates += result.duplicates();
    conflicts += result.conflicts();
    f.done = true;
    Attempt a = f.attempt;
    a.healthy = true;
    long request = freeSlot(a, now) ? a.id : 0;
    long advanceTo = -1;
    String advanceEpoch = Watermark.NO_EPOCH;
    int entries = 0;
    if (!a.poisoned) {
      while (!a.inFlight.isEmpty() && a.inFlight.peekFirst().done) {
        InFlight head = a.inFlight.pollFirst();
        advanceTo = head.lastSeq;
        advanceEpoch = head.lastSeqEpoch;
        entries += head.entries;
      }
    }
    if (advanceTo < 0 || !a.logId.equals(logId) || a.id < firstAttemptOfHistory || advanceTo <= committedSeq) {
      return CommitOutcome.requestOnly(request);
    }
    committedSeq = advanceTo;
    epoch = advanceEpoch;
    noteCaughtUp(now);
    String line = progress.onCommitted(now, committedSeq, peerHeadSeq, entries);
    boolean ackable = a == current && a.failure == null;
    return new CommitOutcome(
        ackable ? a.id : 0,
        committedSeq,
        new Watermark(peerId, logId, committedSeq, now, epoch),
        line,
        request);
  }

  /** A failed batch: why, and the attempt it belonged to (whose stream must stop). */
  public record ApplyFailure(Failure failure, long attemptId) {}

  /**
   * The store refused or failed the batch {@code token}. Poisons its attempt (see the class
   * description). Returns the failure to report and the attempt to stop, or null for an unknown
   * token.
   */
  public ApplyFailure onApplyFailed(long token, Throwable cause, Instant now) {
    InFlight f = inFlight.remove(token);
    if (f == null) {
      return null;
    }
    Attempt a = f.attempt;
    a.poisoned = true;
    a.uncommitted--; // the attempt stops: no request is due for it
    Failure failure;
    if (cause instanceof ClockSkewException skew) {
      failure =
          new Failure(
              "clock_skew",
              Refusal.Code.CLOCK_SKEW,
              StreamStatus.Code.FAILED_PRECONDITION,
              "refused a batch from peer '" + peerId + "': it holds a timestamp "
                  + skew.offset().toMillis() + " ms ahead of this node's clock (maximum allowed "
                  + skew.maxClockSkew().toMillis() + " ms); nothing of the batch was applied. "
                  + skew.getMessage());
    } else if (cause instanceof LimitExceededException limit) {
      failure =
          new Failure(
              "limit",
              null,
              StreamStatus.Code.RESOURCE_EXHAUSTED,
              "cannot apply a batch from peer '" + peerId + "': " + limit.getMessage());
    } else if (cause instanceof StorageException storage) {
      failure =
          new Failure(
              "storage",
              null,
              StreamStatus.Code.INTERNAL,
              "storage failed applying a batch from peer '" + peerId + "': " + storage.getMessage());
    } else {
      failure =
          new Failure(
              "apply",
              null,
              StreamStatus.Code.INTERNAL,
              "applying a batch from peer '" + peerId + "' failed: " + cause);
    }
    return new ApplyFailure(fail(a, failure, now), a.id);
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
      if (a.logId.equals(logId)) {
        raiseHead(heartbeat.getSeq(), now);
      }
    }
  }

  /** The peer refused the subscription; the stream is over. */
  public Failure onRefusal(long attemptId, Refusal refusal, Instant now) {
    Attempt a = live(attemptId);
    if (a == null) {
      return null;
    }
    String kind = "refused_" + refusal.getCode().name().toLowerCase(Locale.ROOT);
    return fail(
        a,
        new Failure(
            kind,
            null,
            StreamStatus.Code.FAILED_PRECONDITION,
            "peer '" + peerId + "' at " + peerAddress + " refused the subscription of node '" + nodeId
                + "' (" + refusal.getCode() + "): " + refusal.getMessage()),
        now);
  }

  /** A message the protocol does not allow arrived. */
  public Failure onUnexpected(long attemptId, String what, Instant now) {
    Attempt a = live(attemptId);
    return a == null ? null : fail(a, protocolError(what), now);
  }

  /** What the periodic tick of an attempt decided. */
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
      Duration silence = a.liveness.silence(now);
      return new Tick(
          false,
          fail(
              a,
              new Failure(
                  "heartbeat_timeout",
                  null,
                  StreamStatus.Code.UNAVAILABLE,
                  "heard nothing from peer '" + peerId + "' at " + peerAddress + " for "
                      + silence.toMillis() + " ms (heartbeatTimeout " + heartbeatTimeout.toMillis()
                      + " ms): the link is presumed dead; reconnecting"),
              now));
    }
    return new Tick(a.liveness.heartbeatDue(now), null);
  }

  /** The heartbeat to send, carrying the acknowledged seq. */
  public Heartbeat heartbeat(Instant now) {
    return Heartbeat.newBuilder().setSeq(committedSeq).setWallMillis(now.toEpochMilli()).build();
  }

  /** Something was sent on {@code attemptId}. */
  public void sent(long attemptId, Instant now) {
    Attempt a = live(attemptId);
    if (a != null) {
      a.liveness.sent(now);
    }
  }

  /** Records a failure that happened outside the stream's messages (e.g. a watermark write). */
  public Failure failCurrent(Failure failure, Instant now) {
    lastError = failure.message();
    lastErrorAt = now;
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
    progress.reset();
    if (a.failure == null) {
      // The stream ended without a decision of ours: record why, unless it just ended cleanly.
      lastError =
          status.isOk()
              ? "peer '" + peerId + "' ended the stream"
              : "stream to peer '" + peerId + "' at " + peerAddress + " ended: " + status;
      lastErrorAt = now;
    }
    if (a.healthy) {
      backoff.reset();
    }
    return backoff.nextDelay();
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
    return logId;
  }

  public long committedSeq() {
    return committedSeq;
  }

  /** The epoch of the peer's log that {@link #committedSeq()} belongs to ("" when unknown). */
  String committedEpoch() {
    return epoch;
  }

  public long peerHeadSeq() {
    return peerHeadSeq;
  }

  public long lagEntries() {
    return Math.max(0, peerHeadSeq - committedSeq);
  }

  /** Seconds since this node was last caught up with the peer; 0 when caught up. */
  public double lagSeconds(Instant now) {
    if (committedSeq >= peerHeadSeq) {
      return 0;
    }
    return Math.max(0, Duration.between(lastCaughtUpAt, now).toMillis() / 1000.0);
  }

  public long entriesApplied() {
    return entriesApplied;
  }

  public long duplicates() {
    return duplicates;
  }

  public long conflicts() {
    return conflicts;
  }

  public long reconnects() {
    return reconnects;
  }

  public String lastError() {
    return lastError;
  }

  public Instant lastErrorAt() {
    return lastErrorAt;
  }

  /** Batches handed to the store and not yet reported back. */
  int inFlightBatches() {
    return inFlight.size();
  }

  // ---------------------------------------------------------------- internals

  private Attempt live(long attemptId) {
    return current != null && current.id == attemptId && current.failure == null ? current : null;
  }

  /** The peer reports its head; if this node was caught up until now, the lag starts now. */
  private void raiseHead(long head, Instant now) {
    noteCaughtUp(now);
    peerHeadSeq = Math.max(peerHeadSeq, head);
    noteCaughtUp(now);
  }

  private void noteCaughtUp(Instant now) {
    if (committedSeq >= peerHeadSeq) {
      lastCaughtUpAt = now;
    }
  }

  private Failure fail(Attempt a, Failure failure, Instant now) {
    a.failure = failure;
    lastError = failure.message();
    lastErrorAt = now;
    return failure;
  }

  private BatchOutcome failed(Attempt a, Failure failure, Instant now) {
    return new BatchOutcome(fail(a, failure, now), 0, List.of(), 0);
  }

  private Failure protocolError(String what) {
    return new Failure(
        "protocol",
        Refusal.Code.PROTOCOL_ERROR,
        StreamStatus.Code.INVALID_ARGUMENT,
        "peer '" + peerId + "' at " + peerAddress + " broke the replication protocol: it " + what);
  }

  /** One stream attempt. */
  private static final class Attempt {
    final long id;
    final Liveness liveness;
    final Deque<InFlight> inFlight = new ArrayDeque<>();
    String logId = "";
    long lastBatchSeq;
    boolean welcomed;
    boolean healthy;
    boolean poisoned;
    Failure failure;
    // Batches handed to the store and not committed or failed yet.
    int uncommitted;
    // A request for the next message was held back at maxBatchesInFlight.
    boolean requestOwed;

    Attempt(long id, Liveness liveness) {
      this.id = id;
      this.liveness = liveness;
    }
  }

  /** A batch handed to the store. */
  private static final class InFlight {
    final Attempt attempt;
    final long lastSeq;
    final String lastSeqEpoch;
    final int entries;
    boolean done;

    InFlight(Attempt attempt, long lastSeq, String lastSeqEpoch, int entries) {
      this.attempt = attempt;
      this.lastSeq = lastSeq;
      this.lastSeqEpoch = lastSeqEpoch;
      this.entries = entries;
    }
  }
}
