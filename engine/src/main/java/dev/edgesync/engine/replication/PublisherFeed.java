package dev.edgesync.engine.replication;

import dev.edgesync.engine.logging.RateLimitedLog;
import dev.edgesync.engine.replication.core.Failure;
import dev.edgesync.engine.replication.core.PeerAdmission;
import dev.edgesync.engine.replication.core.PublisherCore;
import dev.edgesync.engine.replication.core.SubscriberStats;
import dev.edgesync.engine.replication.core.UnsendableEntryException;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.ChangeBatch;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.StabilityReport;
import dev.edgesync.proto.SubscriberMessage;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams this node's change log to one subscriber: drives a {@link PublisherCore} with the
 * stream's messages, reads the store and sends batches while the stream is ready, then the live
 * tail as commits arrive.
 *
 * <p><b>Draining.</b> Three things wake the drain: the welcome, the transport's {@code onReady},
 * and a {@link dev.edgesync.engine.storage.CommitListener} told about every commit on the store's
 * writer thread (it only counts a signal and, when the drain is idle, submits it to the I/O
 * executor). A work-in-progress counter guarantees one drain at a time per stream and that no
 * signal is lost: a signal that arrives while a drain runs makes it go round once more. The drain
 * reads with {@code readChanges} (the newest commits come from the store's memory) and sends only while {@link Transport.ServerStream#isReady()},
 * so nothing is queued beyond the transport's own small buffer.
 *
 * <p><b>Threading.</b> Core decisions and sends happen under this object's lock; store reads
 * happen outside it.
 *
 * <p><b>Size.</b> Just over 500 lines: the one driver of an inbound stream (handshake, draining,
 * repair answers, heartbeats, ending), whose decisions sit in {@link PublisherCore}; splitting the
 * repair answers out would spread one lock's invariants over two classes.
 */
final class PublisherFeed implements Transport.ServerListener {
  private static final Logger log = LoggerFactory.getLogger(PublisherFeed.class);

  /** Refused Hellos can come in floods from strangers: one line per node and reason per 10 s. */
  private static final RateLimitedLog REFUSALS = new RateLimitedLog(log);
  /** A subscriber that waits for an upgrade or a larger limit: see {@link #failUnsendable}. */
  private static final RateLimitedLog LASTING = new RateLimitedLog(log, 600);

  /** What the feed needs from its engine. */
  interface Registry {
    /**
     * What a registry says to a subscriber whose Hello was accepted: its counters, or the failure
     * that refuses it all the same (e.g. too many distinct subscribers).
     */
    record Admission(SubscriberStats stats, Failure refusal) {}

    /** A subscriber's Hello was accepted. */
    Admission accepted(PublisherFeed feed);

    /** The feed ended. */
    void ended(PublisherFeed feed);

    /** The subscriber acknowledged {@code seq}. */
    void acked(String subscriberId, long seq);
  }

  private final Shared shared;
  private final Registry registry;
  private final Transport.ServerStream stream;
  private final PublisherCore core;
  private final AtomicInteger wip = new AtomicInteger();

  // Guarded by this.
  private boolean ended;
  private SubscriberStats stats;
  private AutoCloseable commitSubscription;
  private ScheduledFuture<?> tickTask;
  // Anti-entropy: the rows still to send for the round being answered, or null.
  private ArrayDeque<StoredEntry> repairPending;
  private RepairScan.Result repairResult;

  PublisherFeed(Shared shared, Registry registry, Transport.ServerStream stream) {
    this.shared = shared;
    this.registry = registry;
    this.stream = stream;
    ReplicationSettings s = shared.settings();
    this.core =
        new PublisherCore(
            s.nodeId(),
            s.cluster(),
            shared.store().logId(),
            s.maxInboundMessageBytes(),
            s.heartbeatInterval(),
            s.heartbeatTimeout(),
            shared.clock().instant(),
            PeerAdmission.of(s.security()),
            stream.certificateNames(),
            shared.store()::epochOf)
            .maxProtocolVersion(s.maxProtocolVersion());
  }

  /** The protocol version agreed with the subscriber; 0 before its Hello was accepted. */
  synchronized int protocolVersion() {
    return core.protocolVersion();
  }

  /** The subscriber's node id; null before its Hello was accepted. */
  synchronized String subscriberId() {
    return core.subscriberId();
  }

  @Override
  public void onMessage(SubscriberMessage message) {
    boolean welcomed;
    long acked;
    String subscriber;
    PublisherCore.RepairAsk repair = null;
    synchronized (this) {
      if (ended) {
        return;
      }
      if (core.accepted()) {
        PublisherCore.Inbound in = onLaterMessage(message);
        acked = in == null ? -1 : in.ackedSeq();
        repair = in == null ? null : in.repair();
        subscriber = core.subscriberId();
        welcomed = false;
      } else {
        welcomed = onFirstMessage(message);
        acked = -1;
        subscriber = null;
      }
    }
    if (welcomed) {
      signal();
    }
    if (acked >= 0) {
      // Outside the lock: completing a waiter runs the writer's continuation.
      registry.acked(subscriber, acked);
    }
    if (repair != null) {
      answerRepair(repair);
    }
  }

  /** Under the lock. Returns true when the subscriber was welcomed. */
  private boolean onFirstMessage(SubscriberMessage message) {
    Instant now = now();
    long head = shared.store().headSeq();
    PublisherCore.HelloOutcome out =
        core.onFirstMessage(
            message, head, shared.store().gcState(), shared.stability()::isForgotten, shared.stability()::recordedStable, now);
    if (out.refusal() != null) {
      shared.metrics().refused(out.metricReason()).increment();
      REFUSALS.warn(
          shared.nodeId() + "/" + out.metricReason(),
          "node " + shared.nodeId() + ": refused subscription from " + stream.remoteAddress() + ": "
              + out.refusal().message());
      stream.send(PublisherMessage.newBuilder().setRefusal(out.refusal().refusalMessage()).build());
      end(out.refusal().status());
      return false;
    }
    Registry.Admission admission = registry.accepted(this);
    if (admission.refusal() != null) {
      Failure f = admission.refusal();
      shared.metrics().refused(f.kind()).increment();
      log.warn("node {}: {}", shared.nodeId(), f.message());
      stream.send(PublisherMessage.newBuilder().setRefusal(f.refusalMessage()).build());
      end(f.status());
      return false;
    }
    stats = admission.stats();
    stream.send(PublisherMessage.newBuilder().setWelcome(out.welcome()).build());
    core.sent(now);
    log.info(
        "node {}: subscriber {} connected from {}, streaming after seq {} (head seq {}){}",
        shared.nodeId(), core.subscriberId(), stream.remoteAddress(), out.welcome().getStartSeq(), head,
        out.note() == null ? "" : "; " + out.note());
    commitSubscription = shared.store().addCommitListener((stored, origin, headSeq) -> signal());
    long periodMillis = Math.max(1, shared.settings().heartbeatInterval().toMillis() / 2);
    tickTask =
        shared.scheduler().scheduleWithFixedDelay(this::tick, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    return true;
  }

  /** Under the lock. Returns what the message asks of the driver, or null for nothing. */
  private PublisherCore.Inbound onLaterMessage(SubscriberMessage message) {
    PublisherCore.Inbound in = core.onMessage(message, now());
    if (in.failure() != null) {
      fail(in.failure());
      return null;
    }
    if (in.subscriberRefusal() != null) {
      // The subscriber stops the stream itself right after; its reason belongs in our log.
      log.warn(
          "node {}: subscriber {} stopped its stream: {}",
          shared.nodeId(), core.subscriberId(), in.subscriberRefusal());
      return null;
    }
    if (in.ackedSeq() >= 0) {
      stats.ackedSeq.accumulateAndGet(in.ackedSeq(), Math::max);
    }
    if (in.stability() != null) {
      shared.stability().heard(in.stability());
    }
    return in;
  }

  // ------------------------------------------------------------------ anti-entropy

  /**
   * Answers a repair request: two sequential scans of the state table on the I/O executor (this
   * node's buckets, then the rows of the buckets that differ, within the repair limits), then the
   * drain sends them as repair batches and a {@code RepairDone}.
   */
  private void answerRepair(PublisherCore.RepairAsk ask) {
    ReplicationSettings s = shared.settings();
    VersionedStore store = shared.store();
    try {
      shared
          .io()
          .execute(
              () -> {
                RepairScan.Result result;
                try {
                  result =
                      RepairScan.collect(store::scanState, ask.digests(), s.antiEntropy().repairMaxEntries(), 4L * s.batchMaxBytes());
                } catch (RuntimeException e) {
                  log.error("node {}: anti-entropy scan for subscriber {} failed", shared.nodeId(), subscriberId(), e);
                  synchronized (this) {
                    failInternal("storage", "cannot scan its state for anti-entropy: " + e.getMessage());
                  }
                  return;
                }
                synchronized (this) {
                  if (ended) {
                    return;
                  }
                  repairResult = result;
                  repairPending = new ArrayDeque<>(result.entries());
                }
                if (result.bucketsDiffered() > 0) {
                  log.info(
                      "node {}: anti-entropy round {} for subscriber {}: {} of {} buckets differ, sending {} rows{}",
                      shared.nodeId(), ask.round(), subscriberId(), result.bucketsDiffered(), ask.digests().size(),
                      result.entries().size(), result.truncated() ? " (repair limit reached)" : "");
                }
                signal();
              });
    } catch (RejectedExecutionException e) {
      // The engine is closing; its close() ends this stream.
    }
  }

  /** Under the lock: sends the next repair batch, or the RepairDone after the last one. */
  private void sendRepair() throws UnsendableEntryException {
    if (repairPending.isEmpty()) {
      stream.send(
          core.repairDone(
              repairResult.bucketsDiffered(), repairResult.entries().size(), repairResult.truncated()));
      repairPending = null;
      repairResult = null;
    } else {
      PublisherCore.Outgoing out = core.repairBatch(repairPending, shared.settings().batchMaxEntries());
      stream.send(out.message());
      shared.metrics().antiEntropyEntriesSent(core.subscriberId()).increment(out.entries());
    }
    core.sent(now());
  }

  @Override
  public void onReady() {
    signal();
  }

  @Override
  public void onClosed(StreamStatus status) {
    String who;
    synchronized (this) {
      if (ended) {
        return;
      }
      cleanup();
      who = core.subscriberId();
    }
    if (who != null) {
      log.info("node {}: subscriber {} disconnected: {}", shared.nodeId(), who, status);
    }
  }

  /** Ends the stream because this node shuts down, telling the subscriber so. */
  synchronized void shutdown(String why) {
    if (ended) {
      return;
    }
    stream.send(
        PublisherMessage.newBuilder()
            .setRefusal(
                dev.edgesync.proto.Refusal.newBuilder()
                    .setCode(dev.edgesync.proto.Refusal.Code.SHUTTING_DOWN)
                    .setMessage(why))
            .build());
    end(StreamStatus.of(StreamStatus.Code.UNAVAILABLE, why));
  }

  /**
   * Ends the stream because the same subscriber opened a newer one: this one is most likely
   * half-open (its subscriber gave up on it), and two streams would only send everything twice.
   */
  synchronized void supersede() {
    if (ended) {
      return;
    }
    log.info(
        "node {}: subscriber {} opened a new stream; closing its previous one",
        shared.nodeId(), core.subscriberId());
    end(
        StreamStatus.of(
            StreamStatus.Code.CANCELLED,
            "replaced by a newer stream from subscriber '" + core.subscriberId() + "'"));
  }

  // ------------------------------------------------------------------ draining

  private void signal() {
    if (wip.getAndIncrement() == 0) {
      try {
        shared.io().execute(this::drain);
      } catch (RejectedExecutionException e) {
        // The engine is closing; its close() ends this stream.
        wip.set(0);
      }
    }
  }

  private void drain() {
    int missed = 1;
    while (true) {
      try {
        drainOnce();
      } catch (Throwable e) {
        // Any throwable, Errors included: a drain that dies without ending the stream leaves wip
        // above 0, so no later signal starts a drain while tick() keeps the stream alive with
        // heartbeats: a subscriber connected, heartbeating, and sent nothing, for ever. Ending
        // the stream makes the subscriber reconnect, and a new feed starts from its watermark.
        if (e instanceof VirtualMachineError) {
          wip.set(0); // rethrown below: this drain does not go round again
        }
        endAfterCrash("streaming its log", e);
      }
      missed = wip.addAndGet(-missed);
      if (missed == 0) {
        return;
      }
    }
  }

  private void drainOnce() {
    while (true) {
      long cursor;
      synchronized (this) {
        if (ended || !core.accepted() || !stream.isReady()) {
          return;
        }
        if (repairPending != null) {
          try {
            sendRepair();
          } catch (UnsendableEntryException e) {
            failUnsendable(e);
            return;
          }
          continue;
        }
        cursor = core.cursor();
      }
      ReplicationSettings s = shared.settings();
      // Taken before the log: a batch that reaches the head carries it (see Batch.stability).
      StabilityReport stability = shared.stability().announced();
      ChangeBatch read;
      try {
        read = shared.store().readChanges(cursor, s.batchMaxEntries(), s.batchMaxBytes());
      } catch (RuntimeException e) {
        log.error("node {}: reading the change log after seq {} failed", shared.nodeId(), cursor, e);
        synchronized (this) {
          failInternal(
              "storage", "cannot read its change log after seq " + cursor + ": " + e.getMessage() + "; the subscriber will retry");
        }
        return;
      }
      synchronized (this) {
        if (ended) {
          return;
        }
        PublisherCore.Outgoing out;
        try {
          out = core.nextBatch(read, stability);
        } catch (UnsendableEntryException e) {
          failUnsendable(e);
          return;
        }
        if (out == null) {
          return;
        }
        stream.send(out.message());
        core.sent(now());
        if (out.entries() > 0) {
          stats.sent(out.entries());
        }
      }
    }
  }

  private void tick() {
    try {
      tickOnce();
    } catch (Throwable e) {
      // A scheduled task that throws is never run again: without this the stream would stay
      // open with neither heartbeats nor the publisher's own timeout check.
      endAfterCrash("sending a heartbeat", e);
    }
  }

  /** Ends the stream after {@code e} escaped a task of this feed; rethrows only what the JVM must see. */
  private void endAfterCrash(String what, Throwable e) {
    log.error("node {}: {} to subscriber {} failed", shared.nodeId(), what, subscriberId(), e);
    synchronized (this) {
      failInternal("internal", "failed " + what + ": " + e);
    }
    if (e instanceof VirtualMachineError err) {
      throw err;
    }
  }

  private void tickOnce() {
    // Read before the lock (it takes the subscription's lock) and before the (head, digest) pair,
    // so the digest covers the applied position it is sent with.
    String subscriber = subscriberId();
    AppliedPosition applied = subscriber == null ? AppliedPosition.NONE : shared.appliedFrom().apply(subscriber);
    StabilityReport stability = shared.stability().announced();
    synchronized (this) {
      if (ended) {
        return;
      }
      Instant now = now();
      PublisherCore.Tick t = core.tick(now);
      if (t.timeout() != null) {
        fail(t.timeout());
      } else if (t.heartbeat() && stream.isReady()) {
        VersionedStore.StateAtHead state = shared.store().stateAtHead();
        stream.send(core.heartbeat(state.headSeq(), state.digest(), applied.logId(), applied.seq(), stability, now));
        core.sent(now);
      }
    }
  }

  // ------------------------------------------------------------------ ending

  /** Under the lock: ends the stream for an error of this node ({@code kind} counts it). */
  private void failInternal(String kind, String what) {
    fail(new Failure(kind, null, StreamStatus.Code.INTERNAL, "node '" + shared.nodeId() + "' " + what));
  }

  /** Under the lock: ends the stream for {@code failure}, telling the subscriber why. */
  private void fail(Failure failure) {
    log.warn("{}", counted(failure));
    close(failure);
  }

  /**
   * Under the lock: ends the stream at an entry it cannot carry. The subscriber meets the same
   * entry at each reconnect until someone acts (an upgrade, a larger limit): logged once per 10
   * minutes per subscriber and kind, counted every time.
   */
  private void failUnsendable(UnsendableEntryException e) {
    Failure failure = new Failure(e.reason(), null, e.status(), e.getMessage());
    LASTING.warn(shared.nodeId() + "|" + core.subscriberId() + "|" + failure.kind(), counted(failure));
    close(failure);
  }

  /** Counts {@code failure} and returns its log line. */
  private String counted(Failure failure) {
    String who = core.subscriberId() == null ? "unknown" : core.subscriberId();
    shared.metrics().errors(who, failure.kind()).increment();
    return "node " + shared.nodeId() + ": closing the stream of subscriber " + who + ": " + failure.message();
  }

  private void close(Failure failure) {
    if (failure.refusal() != null) {
      stream.send(PublisherMessage.newBuilder().setRefusal(failure.refusalMessage()).build());
    }
    end(failure.status());
  }

  /** Under the lock. */
  private void end(StreamStatus status) {
    if (ended) {
      return;
    }
    stream.close(status);
    cleanup();
  }

  /** Under the lock. */
  private void cleanup() {
    ended = true;
    if (tickTask != null) {
      tickTask.cancel(false);
    }
    if (commitSubscription != null) {
      try {
        commitSubscription.close();
      } catch (Exception e) {
        // Removing a listener from a store does no I/O; a failure here is a bug worth seeing.
        log.error("node {}: cannot remove a commit listener", shared.nodeId(), e);
      }
    }
    registry.ended(this);
  }

  private Instant now() {
    return shared.clock().instant();
  }
}
