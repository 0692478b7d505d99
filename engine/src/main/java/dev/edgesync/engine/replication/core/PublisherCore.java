package dev.edgesync.engine.replication.core;

import com.google.protobuf.ByteString;
import dev.edgesync.engine.replication.wire.EntryCodec;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.replication.wire.Untrusted;
import dev.edgesync.engine.storage.BucketDigests;
import dev.edgesync.engine.storage.ChangeBatch;
import dev.edgesync.engine.storage.GcState;
import dev.edgesync.engine.storage.StateDigest;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Entry;
import dev.edgesync.proto.Heartbeat;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.RepairDone;
import dev.edgesync.proto.RepairRequest;
import dev.edgesync.proto.StabilityReport;
import dev.edgesync.proto.SubscriberMessage;
import dev.edgesync.proto.Welcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Deque;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * The publisher's side of one inbound stream, as a state machine without I/O: whether to accept
 * the {@code Hello}, where to start streaming, how to cut what the store read into {@code Batch}
 * messages that fit the message size limit, what an {@code Ack} means, and when a heartbeat is
 * due or the subscriber counts as gone. Its driver ({@link PublisherFeed}) reads the store, sends,
 * and passes the time in.
 *
 * <p>Not thread-safe: the driver serialises every call.
 *
 * <p>Whether a {@code Hello} is accepted at all is {@link HelloCheck}'s (and {@link StaleData}'s
 * for the subscriber's data); this class decides what an accepted stream does.
 *
 * <p><b>Size.</b> Just over 500 lines: the one state machine of an inbound stream, with an event
 * method per message kind and the batch cutting (log and repair) that must agree with it.
 */
public final class PublisherCore {
  /** Bytes a message needs beyond its entries: tags, lengths and the batch's own fields. */
  static final int BATCH_FRAMING_BYTES = 64;

  private final String nodeId;
  private final String cluster;
  private final String logId;
  private final int maxMessageBytes;
  // The largest message to send on this stream: maxMessageBytes, or less if the subscriber said so.
  private int sendLimit;
  private String sendLimitSource = "replication.maxInboundMessageBytes";
  private final Duration heartbeatTimeout;
  private final Liveness liveness;
  private final PeerAdmission admission;
  private final Optional<Set<String>> certificateNames;
  // The epoch of this node's log that a seq belongs to (VersionedStore.epochOf).
  private final LongFunction<String> epochOf;

  private String subscriberId;
  private long cursor;
  // The last stability report sent on this stream (its round orders them).
  private StabilityReport lastReport;
  private long ackedSeq;
  private boolean accepted;
  // The anti-entropy round being answered, or -1.
  private long repairRound = -1;
  // The newest protocol version this node speaks, and the one agreed with the subscriber.
  private int maxVersion = ProtocolVersion.CURRENT;
  private int version;

  /**
   * @param maxMessageBytes the largest message this node sends; subscribers are expected to
   *     accept at least this much (they run with the same settings)
   */
  public PublisherCore(
      String nodeId,
      String cluster,
      String logId,
      int maxMessageBytes,
      Duration heartbeatInterval,
      Duration heartbeatTimeout,
      Instant now) {
    this(nodeId, cluster, logId, maxMessageBytes, heartbeatInterval, heartbeatTimeout, now, PeerAdmission.OPEN, Optional.empty(), seq -> "");
  }

  /**
   * As above, admitting only subscribers that {@code admission} lets in.
   *
   * @param certificateNames the names of the subscriber's client certificate, or empty when the
   *     transport does not authenticate by certificate
   * @param epochOf the epoch of this node's log that a seq belongs to ({@code
   *     VersionedStore.epochOf}): a resume point is accepted only in the epoch the subscriber names
   */
  public PublisherCore(
      String nodeId,
      String cluster,
      String logId,
      int maxMessageBytes,
      Duration heartbeatInterval,
      Duration heartbeatTimeout,
      Instant now,
      PeerAdmission admission,
      Optional<Set<String>> certificateNames,
      LongFunction<String> epochOf) {
    this.admission = admission;
    this.epochOf = epochOf;
    this.certificateNames = certificateNames;
    this.nodeId = nodeId;
    this.cluster = cluster;
    this.logId = logId;
    this.maxMessageBytes = maxMessageBytes;
    this.sendLimit = maxMessageBytes;
    this.heartbeatTimeout = heartbeatTimeout;
    this.liveness = new Liveness(heartbeatInterval, heartbeatTimeout, now);
  }

  /**
   * Speak at most protocol version {@code max} ({@code replication.maxProtocolVersion}); before the
   * {@code Hello}.
   */
  public PublisherCore maxProtocolVersion(int max) {
    this.maxVersion = max;
    return this;
  }

  /** The protocol version agreed with the subscriber; 0 before its {@code Hello} was accepted. */
  public int protocolVersion() {
    return version;
  }

  /**
   * The answer to the first message: a refusal (with the {@code refused} metric's reason tag), or
   * a welcome.
   */
  public record HelloOutcome(Failure refusal, String metricReason, Welcome welcome, String note) {}

  /** The first message of the stream arrived; {@code headSeq} is this node's head now. */
  public HelloOutcome onFirstMessage(SubscriberMessage message, long headSeq, Instant now) {
    return onFirstMessage(message, headSeq, GcState.EMPTY, id -> false, id -> Long.MAX_VALUE, now);
  }

  /**
   * As above, with what this node's tombstone collection persisted: a subscriber whose data is
   * older than the purge horizon, or that was decommissioned ({@code forgotten}), is refused
   * ({@link StaleData}; {@code recordedStable}: the highest stable time heard from a node id, 0:
   * none, so not counted in the horizon).
   */
  public HelloOutcome onFirstMessage(
      SubscriberMessage message,
      long headSeq,
      GcState gc,
      java.util.function.Predicate<String> forgotten,
      java.util.function.ToLongFunction<String> recordedStable,
      Instant now) {
    liveness.heard(now);
    Failure refused =
        HelloCheck.refusal(nodeId, cluster, admission, certificateNames, message, gc, forgotten, recordedStable, maxVersion);
    if (refused != null) {
      return new HelloOutcome(refused, refused.kind(), null, null);
    }
    Hello hello = message.getHello();
    subscriberId = hello.getNodeId();
    version = HelloCheck.negotiated(hello, maxVersion);
    long theirLimit = Integer.toUnsignedLong(hello.getMaxMessageBytes());
    if (theirLimit > 0 && theirLimit < maxMessageBytes) {
      sendLimit = (int) theirLimit;
      sendLimitSource = "replication.maxInboundMessageBytes of node '" + hello.getNodeId() + "' (it follows that"
          + " node's limits.maxValueBytes and replication.batchMaxBytes)";
    }
    String note = null;
    long start;
    if (!hello.getSinceLogId().equals(logId)) {
      start = 0;
      if (!hello.getSinceLogId().isEmpty()) {
        note = "its watermark names log " + Untrusted.text(hello.getSinceLogId()) + ", not this node's log " + logId
            + ": streaming from seq 0";
      }
    } else if (hello.getSinceSeq() > headSeq) {
      // The subscriber claims more of this log than exists: this database was restored from an
      // older copy without a new log id. Re-sending everything is the only safe answer.
      start = 0;
      note = "it claims seq " + hello.getSinceSeq() + " of this node's log but the head is "
          + headSeq + " (database restored from an older copy?): streaming from seq 0";
    } else if (hello.getSinceSeq() > 0 && hello.getSinceEpoch().isEmpty()) {
      // Without an epoch the seq cannot be told apart from a re-issued one: re-send everything.
      start = 0;
      note = "it resumes from seq " + hello.getSinceSeq() + " without naming an epoch of this node's log:"
          + " streaming from seq 0";
    } else if (hello.getSinceSeq() > 0 && !epochOf.apply(hello.getSinceSeq()).equals(hello.getSinceEpoch())) {
      // The same log id, but the seq now belongs to another epoch: this database was restored from
      // (or rolled back to) an older copy and issued that seq again with other content since.
      start = 0;
      note = "subscriber " + hello.getNodeId() + " resumes from seq " + hello.getSinceSeq() + " of epoch "
          + Untrusted.text(hello.getSinceEpoch()) + " which this log no longer has (restored or rolled back):"
          + " streaming from 0";
    } else {
      start = hello.getSinceSeq();
    }
    cursor = start;
    accepted = true;
    Welcome welcome =
        Welcome.newBuilder()
            .setNodeId(nodeId)
            .setLogId(logId)
            .setHeadSeq(headSeq)
            .setProtocolVersion(version)
            .setStartSeq(start)
            .setStartEpoch(epochOf.apply(start))
            .setStableHlc(gc.stableHlc())
            .setOldestHlc(gc.oldestHlc())
            .setCreatedHlc(gc.createdHlc())
            .build();
    return new HelloOutcome(null, null, welcome, note);
  }

  /**
   * A batch to send.
   *
   * @param message the {@code Batch} message
   * @param entries entries it holds
   */
  public record Outgoing(PublisherMessage message, int entries) {}

  /**
   * Cuts what the store read after {@link #cursor()} into the next {@code Batch} and advances the
   * cursor past it. Returns null when there is nothing to send (caught up). When the entries do
   * not fit one message, the batch ends at the last entry that fits; the rest is read again.
   *
   * @throws UnsendableEntryException when a single entry does not fit a message, or carries what
   *     the protocol version agreed with the subscriber cannot
   */
  public Outgoing nextBatch(ChangeBatch read) throws UnsendableEntryException {
    return nextBatch(read, StabilityReport.getDefaultInstance());
  }

  /**
   * As above; a batch that ends at the head of {@code read} carries {@code stability} when it
   * differs from the last report sent on this stream. It must have been taken before {@code read}
   * (see {@code Batch.stability} in the {@code .proto}).
   */
  public Outgoing nextBatch(ChangeBatch read, StabilityReport stability) throws UnsendableEntryException {
    Outgoing out = cut(read);
    if (out == null || !reportDue(stability) || out.message().getBatch().getLastSeq() < read.headSeq()) {
      return out;
    }
    lastReport = stability;
    Batch withStability = out.message().getBatch().toBuilder().setStability(stability).build();
    return new Outgoing(PublisherMessage.newBuilder().setBatch(withStability).build(), out.entries());
  }

  private boolean reportDue(StabilityReport stability) {
    return stability.getNodesCount() > 0 && (lastReport == null || stability.getRound() > lastReport.getRound());
  }

  private Outgoing cut(ChangeBatch read) throws UnsendableEntryException {
    if (read.entries().isEmpty()) {
      if (read.lastSeq() <= cursor) {
        return null;
      }
      // Only compacted-away rows after the cursor: still move the subscriber's watermark on.
      cursor = read.lastSeq();
      return new Outgoing(batch(Batch.newBuilder(), read.lastSeq(), read.headSeq()), 0);
    }
    Batch.Builder builder = Batch.newBuilder();
    long size = BATCH_FRAMING_BYTES;
    long lastSeq = read.lastSeq();
    int n = 0;
    for (StoredEntry stored : read.entries()) {
      if (!ProtocolVersion.carries(version, stored)) {
        if (n == 0) {
          throw UnsendableEntryException.notCarried(version, maxVersion, stored, "the entry at seq " + stored.seq(), nodeId, subscriberId);
        }
        lastSeq = read.entries().get(n - 1).seq();
        break;
      }
      Entry entry = EntryCodec.encode(stored);
      int entrySize = entry.getSerializedSize() + 6;
      if (size + entrySize > sendLimit) {
        if (n == 0) {
          throw UnsendableEntryException.tooLarge(
              "the entry at seq " + stored.seq() + " of node '" + nodeId + "' (key of " + stored.key().length
                  + " bytes, value of " + stored.value().length + " bytes) does not fit a message of "
                  + sendLimit + " bytes, the " + sendLimitSource
                  + ": give every node the same limits.maxValueBytes, at least the largest value written");
        }
        // End the batch at the last entry that fits: everything up to it is covered.
        lastSeq = read.entries().get(n - 1).seq();
        break;
      }
      size += entrySize;
      builder.addEntries(entry);
      n++;
    }
    cursor = lastSeq;
    return new Outgoing(batch(builder, lastSeq, read.headSeq()), n);
  }

  private PublisherMessage batch(Batch.Builder builder, long lastSeq, long headSeq) {
    return PublisherMessage.newBuilder()
        .setBatch(
            builder.setLastSeq(lastSeq).setHeadSeq(Math.max(headSeq, lastSeq)).setLastSeqEpoch(epochOf.apply(lastSeq)))
        .build();
  }

  /**
   * What a later subscriber message means.
   *
   * @param ackedSeq a newly acknowledged seq, or -1
   * @param failure a reason to end the stream, or null
   * @param subscriberRefusal the subscriber's reason for stopping, or null
   * @param repair a repair to answer ({@code RepairRequest}), or null
   * @param stability the subscriber's stability report, or null
   */
  public record Inbound(
      long ackedSeq, Failure failure, String subscriberRefusal, RepairAsk repair, StabilityReport stability) {
    static final Inbound NOTHING = new Inbound(-1, null, null, null, null);

    Inbound(long ackedSeq, Failure failure, String subscriberRefusal) {
      this(ackedSeq, failure, subscriberRefusal, null, null);
    }
  }

  /** A subscriber's anti-entropy request: its round and its bucket digests. */
  public record RepairAsk(long round, BucketDigests digests) {}

  /** A message after the {@code Hello}. */
  public Inbound onMessage(SubscriberMessage message, Instant now) {
    liveness.heard(now);
    switch (message.getKindCase()) {
      case ACK -> {
        long seq = message.getAck().getSeq();
        if (seq > cursor) {
          return new Inbound(-1, protocolError("acknowledged seq " + seq + " but was sent only up to " + cursor), null);
        }
        if (seq <= ackedSeq) {
          return message.getAck().hasStability()
              ? new Inbound(-1, null, null, null, message.getAck().getStability())
              : Inbound.NOTHING;
        }
        ackedSeq = seq;
        return new Inbound(seq, null, null, null, message.getAck().hasStability() ? message.getAck().getStability() : null);
      }
      case HEARTBEAT -> {
        Heartbeat h = message.getHeartbeat();
        return h.hasStability() ? new Inbound(-1, null, null, null, h.getStability()) : Inbound.NOTHING;
      }
      case REPAIR_REQUEST -> {
        return onRepairRequest(message.getRepairRequest());
      }
      case REFUSAL -> {
        Refusal r = message.getRefusal();
        return new Inbound(-1, null, r.getCode() + ": " + Untrusted.text(r.getMessage()));
      }
      default -> {
        return new Inbound(-1, protocolError("sent " + message.getKindCase() + " after its Hello"), null);
      }
    }
  }

  private Inbound onRepairRequest(RepairRequest request) {
    if (repairRound >= 0) {
      return new Inbound(
          -1, protocolError("sent RepairRequest round " + request.getRound() + " while round " + repairRound + " is answered"), null);
    }
    BucketDigests digests;
    try {
      digests = BucketDigests.fromBytes(request.getBucketBits(), request.getBucketDigests().toByteArray());
    } catch (IllegalArgumentException e) {
      return new Inbound(-1, protocolError("sent a malformed RepairRequest: " + e.getMessage()), null);
    }
    repairRound = request.getRound();
    return new Inbound(-1, null, null, new RepairAsk(request.getRound(), digests), null);
  }

  /**
   * Takes the next repair batch from the front of {@code entries} (as many as fit one message and
   * {@code maxEntries}) and removes them from it.
   *
   * @throws UnsendableEntryException as {@link #nextBatch(ChangeBatch)}
   */
  public Outgoing repairBatch(Deque<StoredEntry> entries, int maxEntries) throws UnsendableEntryException {
    Batch.Builder builder = Batch.newBuilder().setRepair(true);
    long size = BATCH_FRAMING_BYTES;
    int n = 0;
    while (!entries.isEmpty() && n < maxEntries) {
      StoredEntry stored = entries.peekFirst();
      if (!ProtocolVersion.carries(version, stored)) {
        if (n == 0) {
          throw UnsendableEntryException.notCarried(version, maxVersion, stored, "a repair entry", nodeId, subscriberId);
        }
        break;
      }
      Entry entry = EntryCodec.encode(stored);
      int entrySize = entry.getSerializedSize() + 6;
      if (size + entrySize > sendLimit) {
        if (n == 0) {
          throw UnsendableEntryException.tooLarge(
              "a repair entry of node '" + nodeId + "' (key of " + stored.key().length + " bytes, value of "
                  + stored.value().length + " bytes) does not fit a message of " + sendLimit + " bytes, the "
                  + sendLimitSource + ": give every node the same limits.maxValueBytes");
        }
        break;
      }
      size += entrySize;
      builder.addEntries(entry);
      entries.pollFirst();
      n++;
    }
    return new Outgoing(PublisherMessage.newBuilder().setBatch(builder).build(), n);
  }

  /** Ends the repair round being answered; the next {@code RepairRequest} may come. */
  public PublisherMessage repairDone(int bucketsDiffered, long entriesSent, boolean truncated) {
    long round = repairRound;
    repairRound = -1;
    return PublisherMessage.newBuilder()
        .setRepairDone(
            RepairDone.newBuilder()
                .setRound(round)
                .setBucketsDiffered(bucketsDiffered)
                .setEntriesSent(entriesSent)
                .setTruncated(truncated))
        .build();
  }

  /** What the periodic tick decided: a heartbeat, or a timeout. */
  public record Tick(boolean heartbeat, Failure timeout) {}

  public Tick tick(Instant now) {
    if (liveness.timedOut(now)) {
      return new Tick(
          false,
          new Failure(
              "heartbeat_timeout",
              null,
              StreamStatus.Code.UNAVAILABLE,
              String.format(
                  Locale.ROOT,
                  "heard nothing from subscriber '%s' for %d ms (heartbeatTimeout %d ms): closing its stream",
                  subscriberId,
                  liveness.silence(now).toMillis(),
                  heartbeatTimeout.toMillis())));
    }
    return new Tick(accepted && liveness.heartbeatDue(now), null);
  }

  /**
   * The heartbeat to send with what anti-entropy needs (see {@code Heartbeat} in the {@code
   * .proto}): {@code appliedLogId}/{@code appliedSeq} must have been read before the {@code
   * (headSeq, digest)} pair. It carries this node's stability report (taken before {@code
   * headSeq}) only when everything through {@code headSeq} was sent on this stream; then with
   * every such heartbeat, so that a subscriber that missed one (a stream opened since) gets it.
   *
   * @param appliedLogId the subscriber's log id this node follows, empty when it does not pull
   *     from the subscriber
   */
  public PublisherMessage heartbeat(
      long headSeq, StateDigest digest, String appliedLogId, long appliedSeq, StabilityReport stability, Instant now) {
    Heartbeat.Builder b =
        Heartbeat.newBuilder()
            .setSeq(headSeq)
            .setWallMillis(now.toEpochMilli())
            .setStateDigest(ByteString.copyFrom(digest.toBytes()))
            .setAppliedLogId(appliedLogId)
            .setAppliedSeq(appliedSeq);
    if (cursor >= headSeq && stability.getNodesCount() > 0
        && (lastReport == null || stability.getRound() >= lastReport.getRound())) {
      b.setStability(stability);
      lastReport = stability;
    }
    return PublisherMessage.newBuilder().setHeartbeat(b).build();
  }

  /** Something was sent. */
  public void sent(Instant now) {
    liveness.sent(now);
  }

  public boolean accepted() {
    return accepted;
  }

  public String subscriberId() {
    return subscriberId;
  }

  public long cursor() {
    return cursor;
  }

  long ackedSeq() {
    return ackedSeq;
  }

  private Failure protocolError(String what) {
    return new Failure(
        "protocol",
        Refusal.Code.PROTOCOL_ERROR,
        StreamStatus.Code.INVALID_ARGUMENT,
        "subscriber '" + subscriberId + "' broke the replication protocol: it " + what);
  }}
