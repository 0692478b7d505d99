// Over 500 lines on purpose: every event of one subscription (stream, store commit, timer,
// anti-entropy scan) takes this link's lock here and carries out a decision of SubscriberCore or
// SubscriberRepair; splitting the handlers across classes would spread the lock discipline.
package dev.edgesync.engine.replication;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.replication.core.Backoff;
import dev.edgesync.engine.replication.core.Failure;
import dev.edgesync.engine.replication.core.ProblemReports;
import dev.edgesync.engine.replication.core.SubscriberCore;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.ApplyResult;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.Ack;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.SubscriberMessage;
import dev.edgesync.watermark.Watermark;
import dev.edgesync.engine.replication.core.StabilityClaims;
import dev.edgesync.engine.replication.core.StaleData;
import dev.edgesync.engine.storage.GcState;
import dev.edgesync.proto.StabilityReport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The subscription of this node to one peer: drives a {@link SubscriberCore} with the events of
 * one {@link Transport.ClientStream} at a time, the store's commits and a heartbeat timer, and
 * carries out its decisions (send, request, cancel, persist the watermark, reconnect later).
 *
 * <p><b>Threading.</b> Transport callbacks, store completions and timers arrive on different
 * threads; every decision is taken under this object's lock, which is never held while calling
 * the store or waiting. The one blocking call, {@code submitRemote} on a full write queue, runs
 * on the transport's callback thread outside the lock: the stream has not requested another
 * message yet, so the publisher stops sending (backpressure) while heartbeats and acks go on.
 *
 * <p><b>Size.</b> Over 500 lines on purpose: this is the one place where every event of a
 * subscription (stream, store commit, timer, anti-entropy scan) takes the link's lock and carries
 * out a decision. The decisions themselves live in {@link SubscriberCore} and {@link
 * SubscriberRepair}; splitting the handlers across classes would spread the lock discipline.
 *
 * <p><b>Lifecycle.</b> {@link #start()} opens the first stream; a stream that ends for any reason
 * is re-opened after a backoff delay until {@link #close(Duration)}, which cancels the stream,
 * waits for batches handed to the store and persists the newest watermark.
 */
final class PeerLink {
  private static final Logger log = LoggerFactory.getLogger(PeerLink.class);

  private final Shared shared;
  private final PeerSpec peer;
  private final Transport.Connection connection;
  private final SubscriberCore core;
  private final ProblemReports reports = new ProblemReports();
  private final WatermarkWriter watermarkWriter;
  private final Counter applied;
  private final Counter duplicates;
  private final Counter reconnects;
  private final DistributionSummary batchEntries;
  private final Timer applyLatency;
  private final Set<CompletableFuture<Void>> applying = ConcurrentHashMap.newKeySet();
  private final SubscriberRepair repair;
  // The current attempt's stability reports not yet committed through (guarded by this).
  private final StabilityClaims claims = new StabilityClaims();
  // The last stability report sent on the current attempt (guarded by this).
  private StabilityReport lastReportSent;

  // Guarded by this.
  private Transport.ClientStream stream;
  private long attemptId;
  private ScheduledFuture<?> tickTask;
  private ScheduledFuture<?> reconnectTask;
  private boolean closed;

  PeerLink(Shared shared, PeerSpec peer, Transport.Connection connection, RandomGenerator random) {
    this.shared = shared;
    this.peer = peer;
    this.connection = connection;
    ReplicationSettings s = shared.settings();
    // Reading may throw on an I/O error: the caller must not add the peer then.
    Watermark persisted = shared.watermarks().read(peer.id());
    this.core =
        new SubscriberCore(
            s.nodeId(),
            s.cluster(),
            peer.id(),
            peer.address(),
            s.heartbeatInterval(),
            s.heartbeatTimeout(),
            s.stallTimeout(),
            new Backoff(s.reconnectBaseDelay(), s.reconnectMaxDelay(), random),
            s.maxInboundMessageBytes(),
            s.maxBatchesInFlight(),
            persisted,
            shared.clock().instant())
            .maxProtocolVersion(s.maxProtocolVersion());
    this.repair = new SubscriberRepair(shared, peer.id());
    this.watermarkWriter = new WatermarkWriter(shared.watermarks(), shared.io(), this::watermarkFailed);
    var metrics = shared.metrics();
    this.applied = metrics.entriesApplied(peer.id());
    this.duplicates = metrics.duplicates(peer.id());
    this.reconnects = metrics.reconnects(peer.id());
    this.batchEntries = metrics.batchEntries(peer.id());
    this.applyLatency = metrics.applyLatency(peer.id());
    if (!persisted.isZero()) {
      log.info(
          "node {} peer {}: resuming from watermark seq {} (epoch {}) of log {}",
          s.nodeId(), peer.id(), persisted.seq(), persisted.peerEpoch(), persisted.peerLogId());
    }
  }

  PeerSpec peer() {
    return peer;
  }

  /** Opens the first stream. */
  synchronized void start() {
    connect();
  }

  // ------------------------------------------------------------------ stream lifecycle

  private void connect() {
    if (closed) {
      return;
    }
    Instant now = now();
    SubscriberCore.Opening opening = core.open(now);
    if (opening.reconnect()) {
      reconnects.increment();
    }
    long id = opening.attemptId();
    attemptId = id;
    stream = connection.open(new Listener(id));
    GcState gc = shared.store().gcState();
    claims.clear();
    lastReportSent = null;
    stream.send(
        SubscriberMessage.newBuilder()
            .setHello(
                opening.hello().toBuilder()
                    .setStableHlc(gc.stableHlc())
                    .setOldestHlc(gc.oldestHlc())
                    .setCreatedHlc(gc.createdHlc()))
            .build());
    stream.request(1);
    long periodMillis = Math.max(1, shared.settings().heartbeatInterval().toMillis() / 2);
    tickTask =
        shared
            .scheduler()
            .scheduleWithFixedDelay(() -> tick(id), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  private synchronized void reconnect() {
    reconnectTask = null;
    if (!closed && stream == null) {
      connect();
    }
  }

  /** Called under the lock: stops the current stream for {@code failure}. */
  private void stop(long id, Failure failure) {
    ProblemReports.Report report = reports.stopped(failure);
    if (report.errorKind() != null) {
      shared.metrics().errors(peer.id(), report.errorKind()).increment();
    }
    switch (report.level()) {
      case DEBUG -> log.debug("node {} peer {}: {}", shared.nodeId(), peer.id(), failure.message());
      case INFO -> log.info("node {} peer {}: {}", shared.nodeId(), peer.id(), failure.message());
      case WARN -> log.warn("node {} peer {}: {}", shared.nodeId(), peer.id(), failure.message());
    }
    if (attemptId != id || stream == null) {
      return;
    }
    if (failure.refusal() != null) {
      // Best effort: tells the publisher why; the cancel right after may overtake it.
      stream.send(SubscriberMessage.newBuilder().setRefusal(failure.refusalMessage()).build());
    }
    stream.cancel(failure.message(), null);
  }

  private synchronized void onClosed(long id, StreamStatus status) {
    Instant now = now();
    boolean wasConnected = core.connected() && core.isCurrent(id);
    Duration delay = core.onClosed(id, status, now);
    if (delay == null) {
      return;
    }
    repair.abandon();
    stream = null;
    if (tickTask != null) {
      tickTask.cancel(false);
      tickTask = null;
    }
    if (closed) {
      return;
    }
    String problem = core.counters().lastError();
    // The retry one version lower after a refused version was logged when the stream was stopped.
    ProblemReports.Report report =
        core.retryingLowerVersion()
            ? new ProblemReports.Report(ProblemReports.Level.DEBUG, null)
            : reports.ended(status, problem, wasConnected);
    if (report.errorKind() != null) {
      shared.metrics().errors(peer.id(), report.errorKind()).increment();
    }
    switch (report.level()) {
      // Already logged when the stream was stopped, or on an earlier attempt.
      case DEBUG ->
          log.debug("node {} peer {}: stream ended; retrying in {} ms", shared.nodeId(), peer.id(), delay.toMillis());
      case INFO ->
          log.info(
              "node {} peer {}: disconnected ({}); reconnecting in {} ms",
              shared.nodeId(), peer.id(), problem, delay.toMillis());
      case WARN ->
          log.warn(
              "node {} peer {}: cannot subscribe: {}; retrying in {} ms",
              shared.nodeId(), peer.id(), problem, delay.toMillis());
    }
    try {
      reconnectTask = shared.scheduler().schedule(this::reconnect, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // Only happens when the scheduler was shut down before this link was closed.
      log.warn("node {} peer {}: scheduler stopped, not reconnecting", shared.nodeId(), peer.id());
    }
  }

  private synchronized void tick(long id) {
    if (attemptId != id || stream == null) {
      return;
    }
    Instant now = now();
    SubscriberCore.Tick t = core.tick(id, now);
    if (t.timeout() != null) {
      stop(id, t.timeout());
    } else if (t.heartbeat() && stream.isReady()) {
      var heartbeat = core.heartbeat(now).toBuilder();
      StabilityReport report = shared.stability().announced();
      if (report.getNodesCount() > 0) {
        heartbeat.setStability(report);
        lastReportSent = report;
      }
      stream.send(SubscriberMessage.newBuilder().setHeartbeat(heartbeat).build());
      core.sent(id, now);
    }
  }

  // ------------------------------------------------------------------ inbound messages

  private synchronized void onWelcome(long id, PublisherMessage message) {
    SubscriberCore.WelcomeOutcome out = core.onWelcome(id, message.getWelcome(), now());
    if (out == null) {
      return;
    }
    if (out.failure() != null) {
      stop(id, out.failure());
      return;
    }
    var w = message.getWelcome();
    if (shared.stability().isForgotten(peer.id())) {
      stop(
          id,
          core.onStalePeer(
              id,
              "peer '" + peer.id() + "' was decommissioned (forgotten) and may not sync again under this id: remove"
                  + " it from the peer list of node '" + shared.nodeId() + "'",
              now()));
      return;
    }
    String stale =
        StaleData.check(
            w.getStableHlc(), w.getOldestHlc(), w.getCreatedHlc(), shared.stability().isCountedMember(peer.id()),
            shared.stability().recordedStable(peer.id()), shared.store().gcState().purgeHorizon());
    if (stale != null) {
      stop(
          id,
          core.onStalePeer(
              id,
              "peer '" + peer.id() + "' holds data older than the tombstone horizon of node '" + shared.nodeId() + "' ("
                  + stale + "), so it may hold keys deleted since whose tombstones are gone: node '"
                  + shared.nodeId() + "' does not pull from it. Stop node '" + peer.id() + "', move its data dir aside"
                  + " and start it again: it re-syncs from its peers",
              now()));
      return;
    }
    switch (out.resume()) {
      case LOG_CHANGED ->
          log.info(
              "node {} peer {}: peer {} log id changed (database wiped or restored): re-syncing from"
                  + " seq 0 (watermark was for log {}, new log {})",
              shared.nodeId(), peer.id(), peer.id(), out.previousLogId(), w.getLogId());
      case HISTORY_CHANGED ->
          log.info(
              "node {} peer {}: peer {} no longer has seq {} of the watermark's epoch in its log {} (database"
                  + " restored from an older copy): re-syncing from seq {} (head seq {})",
              shared.nodeId(), peer.id(), peer.id(), out.previousSeq(), w.getLogId(), out.fromSeq(), w.getHeadSeq());
      case FIRST_SYNC ->
          log.info(
              "node {} peer {}: connected to {}, first sync of log {} (head seq {})",
              shared.nodeId(), peer.id(), peer.address(), w.getLogId(), w.getHeadSeq());
      case RESUMED ->
          log.info(
              "node {} peer {}: connected to {}, resuming log {} after seq {} (head seq {})",
              shared.nodeId(), peer.id(), peer.address(), w.getLogId(), out.fromSeq(), w.getHeadSeq());
    }
    reports.connected();
    stream.request(1);
  }

  private void onBatch(long id, PublisherMessage message) {
    SubscriberCore.BatchOutcome out;
    synchronized (this) {
      out = core.onBatch(id, message.getBatch(), now());
      if (refused(id, out)) {
        return;
      }
      var b = message.getBatch();
      if (b.hasStability()) {
        shared.stability().heard(b.getStability());
        claims.add(b.getLastSeq(), b.getStability());
      }
    }
    List<StoredEntry> entries = out.entries();
    long token = out.token();
    Timer.Sample sample = Timer.start(shared.metrics().registry());
    if (!entries.isEmpty()) {
      batchEntries.record(entries.size());
    }
    apply(
        entries,
        (result, error) -> {
          if (!entries.isEmpty()) {
            sample.stop(applyLatency);
          }
          onApplied(id, token, result, error);
        });
    synchronized (this) {
      // At maxBatchesInFlight the next message is asked for by the commit that frees a slot.
      if (core.handedOff(id, now()) && attemptId == id && stream != null && core.isCurrent(id)) {
        stream.request(1);
      }
    }
  }

  /** Under the lock: true when the batch is not to be applied (stale, or refused: stream stopped). */
  private boolean refused(long id, SubscriberCore.BatchOutcome out) {
    if (out == null) {
      return true;
    }
    if (out.failure() != null) {
      stop(id, out.failure());
      return true;
    }
    return false;
  }

  /**
   * A commit's completion. Guarded: the store completes the future on its writer thread and
   * {@code whenComplete} would swallow anything thrown here, leaving the batch's in-flight slot
   * taken and the stream silent until the stall detector fires. A failure here stops the stream
   * at once instead (the subscription reconnects from its persisted watermark).
   */
  private synchronized void onApplied(long id, long token, ApplyResult result, Throwable error) {
    try {
      onAppliedUnguarded(token, result, error);
    } catch (Throwable e) {
      log.error("node {} peer {}: handling a committed batch failed", shared.nodeId(), peer.id(), e);
      stop(id, new Failure("internal", null, StreamStatus.Code.INTERNAL, "handling a committed batch failed: " + e));
      if (e instanceof VirtualMachineError err) {
        throw err;
      }
    }
  }

  private void onAppliedUnguarded(long token, ApplyResult result, Throwable error) {
    Instant now = now();
    if (error != null) {
      SubscriberCore.ApplyFailure failed = core.onApplyFailed(token, unwrap(error), now);
      if (failed != null) {
        stop(failed.attemptId(), failed.failure());
      }
      return;
    }
    applied.increment(result.applied());
    duplicates.increment(result.duplicates());
    SubscriberCore.CommitOutcome out = core.onApplied(token, result, now);
    settleClaims();
    if (out.ackAttemptId() != 0 && out.ackAttemptId() == attemptId && stream != null) {
      Ack.Builder ack = Ack.newBuilder().setSeq(out.ackSeq());
      StabilityReport report = reportDue();
      if (report != null) {
        ack.setStability(report);
      }
      stream.send(SubscriberMessage.newBuilder().setAck(ack).build());
      core.sent(out.ackAttemptId(), now);
    }
    if (out.watermark() != null) {
      watermarkWriter.offer(out.watermark());
    }
    if (out.requestAttemptId() != 0 && out.requestAttemptId() == attemptId && stream != null) {
      stream.request(1);
    }
    if (out.progress() != null) {
      log.info("node {} peer {}: {}", shared.nodeId(), peer.id(), out.progress());
    }
  }

  private synchronized void onHeartbeat(long id, PublisherMessage message) {
    Instant now = now();
    core.onHeartbeat(id, message.getHeartbeat(), now);
    if (!core.isCurrent(id)) {
      return;
    }
    var hb = message.getHeartbeat();
    if (hb.hasStability()) {
      shared.stability().heard(hb.getStability());
      claims.add(hb.getSeq(), hb.getStability());
      settleClaims();
    }
    stream.request(1);
    long round = repair.onHeartbeat(message.getHeartbeat(), core.committedInStreamedLog(id), now);
    if (round >= 0) {
      askForRepair(id, round);
    }
  }

  /**
   * Under the lock: hands the peer's stability reports this node has committed through to {@link
   * Stability} (a report holds only once everything up to its seq is committed here).
   */
  private void settleClaims() {
    long committed = core.committedInStreamedLog(attemptId);
    StabilityClaims.Claim settled = claims.settle(committed);
    if (settled != null) {
      shared.stability().fromSource(peer.id(), settled.report());
    }
  }

  /** Under the lock: this node's report, when it changed since the last one sent on this stream. */
  private StabilityReport reportDue() {
    StabilityReport report = shared.stability().announced();
    if (report.getNodesCount() == 0 || report == lastReportSent) {
      return null;
    }
    lastReportSent = report;
    return report;
  }

  // ------------------------------------------------------------------ anti-entropy

  /** Scans this node's state on the I/O executor, then sends the request if the stream is still on. */
  private void askForRepair(long id, long round) {
    try {
      shared
          .io()
          .execute(
              () -> {
                SubscriberMessage request;
                try {
                  request = repair.request(round);
                } catch (RuntimeException e) {
                  log.error("node {} peer {}: anti-entropy scan failed", shared.nodeId(), peer.id(), e);
                  synchronized (this) {
                    repair.abandon();
                  }
                  return;
                }
                synchronized (this) {
                  if (attemptId == id && stream != null && core.isCurrent(id)) {
                    stream.send(request);
                    core.sent(id, now());
                  } else {
                    repair.abandon();
                  }
                }
              });
    } catch (RejectedExecutionException e) {
      repair.abandon(); // closing
    }
  }

  /** A repair batch: applied by LWW like any batch, outside the watermark's order, one at a time. */
  private void onRepairBatch(long id, PublisherMessage message) {
    SubscriberCore.BatchOutcome out;
    synchronized (this) {
      out = core.onRepairBatch(id, message.getBatch(), repair.expecting(), now());
      if (refused(id, out)) {
        return;
      }
    }
    List<StoredEntry> entries = out.entries();
    apply(
        entries,
        true,
        (result, error) -> {
          synchronized (this) {
            onRepairApplied(id, entries.size(), result, error);
          }
        });
  }

  /**
   * Hands {@code entries} to the store and runs {@code then} when their commit ends. May block
   * while the store's write queue is full: that is the backpressure. {@link #close} waits for
   * {@code then} to have run, not just for the commit, so that it never flushes a watermark before
   * the commit's watermark was offered.
   */
  private void apply(List<StoredEntry> entries, BiConsumer<ApplyResult, Throwable> then) {
    apply(entries, false, then);
  }

  /** As above; {@code repair}: the entries answer an anti-entropy request (see {@code submitRemote}). */
  private void apply(List<StoredEntry> entries, boolean repair, BiConsumer<ApplyResult, Throwable> then) {
    CompletableFuture<ApplyResult> commit;
    if (entries.isEmpty()) {
      commit = CompletableFuture.completedFuture(new ApplyResult(0, 0, 0, -1));
    } else {
      try {
        commit = shared.store().submitRemote(peer.id(), entries, repair);
      } catch (RuntimeException e) {
        commit = CompletableFuture.failedFuture(e);
      }
    }
    CompletableFuture<Void> handled = new CompletableFuture<>();
    applying.add(handled);
    // Not kept: close() waits on handled instead. Removing handled from applying relies on
    // identity, which is what CompletableFuture's equals is.
    @SuppressWarnings("CollectionUndefinedEquality")
    var unused =
        commit.whenComplete(
            (result, error) -> {
              try {
                then.accept(result, error);
              } finally {
                applying.remove(handled);
                handled.complete(null);
              }
            });
  }

  /** Under the lock. */
  private void onRepairApplied(long id, int received, ApplyResult result, Throwable error) {
    Instant now = now();
    if (error != null) {
      Failure failure = core.onRepairApplyFailed(id, unwrap(error), now);
      if (failure != null) {
        stop(id, failure);
      }
      return;
    }
    repair.onBatchApplied(received, result.applied());
    if (core.repairApplied(id, now) && attemptId == id && stream != null) {
      stream.request(1);
    }
  }

  private synchronized void onRepairDone(long id, PublisherMessage message) {
    if (!core.heard(id, now())) {
      return;
    }
    if (!repair.onDone(message.getRepairDone())) {
      onUnexpected(id, "sent RepairDone for round " + message.getRepairDone().getRound() + ", which was not asked for");
      return;
    }
    stream.request(1);
  }

  /** What this node has committed of the peer's log (told to the peer for its anti-entropy). */
  synchronized AppliedPosition appliedPosition() {
    String logId = core.peerLogId();
    return logId.isEmpty() ? AppliedPosition.NONE : new AppliedPosition(logId, core.committedSeq());
  }

  private synchronized void onRefusal(long id, PublisherMessage message) {
    Failure failure = core.onRefusal(id, message.getRefusal(), now());
    if (failure != null) {
      stop(id, failure);
    }
  }

  private synchronized void onUnexpected(long id, String what) {
    Failure failure = core.onUnexpected(id, what, now());
    if (failure != null) {
      stop(id, failure);
    }
  }

  private void watermarkFailed(Watermark watermark, RuntimeException e) {
    synchronized (this) {
      Failure failure = core.onWatermarkWriteFailed(watermark.seq(), e.getMessage(), now());
      shared.metrics().errors(peer.id(), failure.kind()).increment();
      log.error("node {} peer {}: {}", shared.nodeId(), peer.id(), failure.message(), e);
      if (stream != null) {
        stream.cancel(failure.message(), e);
      }
    }
  }

  // ------------------------------------------------------------------ close and status

  /**
   * Stops the subscription: cancels the stream and the timers, waits up to {@code wait} for
   * batches already handed to the store, then persists the newest committed watermark and waits
   * for that write. Returns the failure of that last write, or null.
   */
  RuntimeException close(Duration wait) {
    synchronized (this) {
      if (closed) {
        return null;
      }
      closed = true;
      if (reconnectTask != null) {
        reconnectTask.cancel(false);
        reconnectTask = null;
      }
      if (stream != null) {
        stream.cancel("node '" + shared.nodeId() + "' closes its subscription to peer '" + peer.id() + "'", null);
      }
    }
    long deadline = System.nanoTime() + wait.toNanos();
    RuntimeException failure = null;
    try {
      CompletableFuture.allOf(applying.toArray(CompletableFuture[]::new))
          .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      watermarkWriter.idle().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure = new IllegalStateException("interrupted while closing the link to peer '" + peer.id() + "'", e);
    } catch (ExecutionException | TimeoutException e) {
      failure =
          new IllegalStateException(
              "batches from peer '" + peer.id() + "' or their watermark were still pending after "
                  + wait.toMillis() + " ms; the peer will re-send them (safe, applying is idempotent)",
              e);
    }
    connection.close();
    return failure;
  }

  /** The status of this peer as seen from this node's subscription. */
  synchronized PeerStatus status(long entriesSent, long ackedSeq) {
    Instant now = now();
    return new PeerStatus(
        peer.id(),
        peer.address(),
        core.connected(),
        core.peerLogId(),
        core.committedSeq(),
        core.peerHeadSeq(),
        core.lagEntries(),
        core.lagSeconds(now),
        core.counters().entriesApplied(),
        core.counters().duplicates(),
        core.counters().conflicts(),
        entriesSent,
        ackedSeq,
        core.counters().reconnects(),
        core.counters().lastError(),
        core.counters().lastErrorAt(),
        core.counters().lastErrorResolved(),
        core.stalledSince(),
        repair.repairsStarted(),
        repair.keysRepaired(),
        repair.lastDivergence(),
        core.protocolVersion(),
        repair.lastPeerDigest());
  }

  synchronized double lagEntries() {
    return core.lagEntries();
  }

  synchronized double lagSeconds() {
    return core.lagSeconds(now());
  }

  synchronized double connectedGauge() {
    return core.connected() ? 1 : 0;
  }

  synchronized double stalledGauge() {
    return core.stalledSince() != null ? 1 : 0;
  }

  private Instant now() {
    return shared.clock().instant();
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Turns the transport's callbacks for attempt {@code id} into events. */
  private final class Listener implements Transport.ClientListener {
    private final long id;

    Listener(long id) {
      this.id = id;
    }

    @Override
    public void onMessage(PublisherMessage message) {
      switch (message.getKindCase()) {
        case WELCOME -> onWelcome(id, message);
        case BATCH -> {
          if (message.getBatch().getRepair()) {
            onRepairBatch(id, message);
          } else {
            onBatch(id, message);
          }
        }
        case REPAIR_DONE -> onRepairDone(id, message);
        case HEARTBEAT -> onHeartbeat(id, message);
        case REFUSAL -> onRefusal(id, message);
        default -> onUnexpected(id, "sent a message of unknown kind " + message.getKindCase());
      }
    }

    @Override
    public void onReady() {
      // Nothing waits for readiness here: the subscriber only sends small acks and heartbeats.
    }

    @Override
    public void onClosed(StreamStatus status) {
      PeerLink.this.onClosed(id, status);
    }
  }
}
