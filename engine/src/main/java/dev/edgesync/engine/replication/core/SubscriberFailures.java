package dev.edgesync.engine.replication.core;

import dev.edgesync.conflict.ClockSkewException;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.LimitExceededException;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.proto.Refusal;
import java.time.Duration;
import java.util.Locale;

/**
 * Every reason a subscriber stops its stream to one peer, as a {@link Failure}: the metric kind,
 * the refusal to send, the status and a message that names both nodes, the cause and the fix.
 * Pure; one per subscription.
 */
final class SubscriberFailures {
  private final String nodeId;
  private final String peerId;
  private final String peerAddress;

  SubscriberFailures(String nodeId, String peerId, String peerAddress) {
    this.nodeId = nodeId;
    this.peerId = peerId;
    this.peerAddress = peerAddress;
  }

  /** The peer broke the protocol; {@code what} completes "it ...". */
  Failure protocol(String what) {
    return new Failure(
        "protocol",
        Refusal.Code.PROTOCOL_ERROR,
        StreamStatus.Code.INVALID_ARGUMENT,
        "peer '" + peerId + "' at " + peerAddress + " broke the replication protocol: it " + what);
  }

  /** The address answered as another node. */
  Failure wrongPeer(String answeredAs) {
    return new Failure(
        "wrong_peer",
        Refusal.Code.NOT_ALLOWED,
        StreamStatus.Code.FAILED_PRECONDITION,
        "peer '" + peerId + "' at " + peerAddress + " answered as node '" + answeredAs
            + "': the address belongs to another node; fix the peer list of node '" + nodeId + "'");
  }

  /** The peer answered in a protocol version outside the range this node offered. */
  Failure protocolVersion(int theirs, int offered) {
    return new Failure(
        "protocol_version",
        Refusal.Code.PROTOCOL_VERSION,
        StreamStatus.Code.FAILED_PRECONDITION,
        "peer '" + peerId + "' answered in replication protocol version " + theirs + " but node '" + nodeId
            + "' speaks " + ProtocolVersion.range(ProtocolVersion.MIN, offered)
            + ": upgrade the older of the two; builds one protocol version apart sync");
  }

  /**
   * The peer refused the protocol version offered, as a build before negotiation refuses any but
   * its own: the next attempt offers {@code next}, at once.
   */
  Failure versionFallback(Refusal refusal, int next) {
    return new Failure(
        ProblemReports.VERSION_FALLBACK,
        null,
        StreamStatus.Code.FAILED_PRECONDITION,
        "peer '" + peerId + "' at " + peerAddress + " refused replication protocol version " + (next + 1)
            + " (" + refusal.getMessage() + "); it may be of an older build: offering version " + next);
  }

  /** An entry of the batch covering seqs {@code firstSeq..lastSeq} failed its checksum. */
  Failure corruptBatch(long firstSeq, long lastSeq, String detail, long watermarkSeq) {
    return new Failure(
        "crc",
        Refusal.Code.CORRUPT_ENTRY,
        StreamStatus.Code.DATA_LOSS,
        "peer '" + peerId + "' sent a corrupt batch (seqs " + firstSeq + ".." + lastSeq + "): " + detail
            + "; the batch was rejected, nothing of it applied, watermark kept at " + watermarkSeq
            + "; reconnecting");
  }

  /** The store refused or failed a batch: classified by the cause. */
  Failure applyFailed(Throwable cause) {
    if (cause instanceof ClockSkewException skew) {
      return new Failure(
          "clock_skew",
          Refusal.Code.CLOCK_SKEW,
          StreamStatus.Code.FAILED_PRECONDITION,
          "refused a batch from peer '" + peerId + "': it holds a timestamp " + skew.offset().toMillis()
              + " ms ahead of this node's clock (maximum allowed " + skew.maxClockSkew().toMillis()
              + " ms); nothing of the batch was applied. " + skew.getMessage());
    }
    if (cause instanceof LimitExceededException limit) {
      return new Failure(
          "limit",
          null,
          StreamStatus.Code.RESOURCE_EXHAUSTED,
          "cannot apply a batch from peer '" + peerId + "': " + limit.getMessage());
    }
    if (cause instanceof StorageException storage) {
      return new Failure(
          "storage",
          null,
          StreamStatus.Code.INTERNAL,
          "storage failed applying a batch from peer '" + peerId + "': " + storage.getMessage());
    }
    return new Failure(
        "apply", null, StreamStatus.Code.INTERNAL, "applying a batch from peer '" + peerId + "' failed: " + cause);
  }

  /** Persisting the watermark at {@code seq} failed. */
  Failure watermarkWrite(long seq, String cause) {
    return new Failure(
        "watermark_io",
        null,
        StreamStatus.Code.INTERNAL,
        "cannot persist the watermark of peer '" + peerId + "' (seq " + seq + "): " + cause
            + "; replication from this peer stops until it can");
  }

  /** The peer refused the subscription. */
  Failure refused(Refusal refusal) {
    return new Failure(
        "refused_" + refusal.getCode().name().toLowerCase(Locale.ROOT),
        null,
        StreamStatus.Code.FAILED_PRECONDITION,
        "peer '" + peerId + "' at " + peerAddress + " refused the subscription of node '" + nodeId + "' ("
            + refusal.getCode() + "): " + refusal.getMessage());
  }

  /** Nothing was heard for {@code silence}, longer than {@code heartbeatTimeout}. */
  Failure silent(Duration silence, Duration heartbeatTimeout) {
    return new Failure(
        "heartbeat_timeout",
        null,
        StreamStatus.Code.UNAVAILABLE,
        "heard nothing from peer '" + peerId + "' at " + peerAddress + " for " + silence.toMillis()
            + " ms (heartbeatTimeout " + heartbeatTimeout.toMillis() + " ms): the link is presumed dead;"
            + " reconnecting");
  }

  /** Connected and {@code lag} entries behind, the watermark stayed at {@code committed} for {@code stallTimeout}. */
  Failure stalled(long committed, long lag, Duration stallTimeout) {
    return new Failure(
        StallDetector.ERROR_KIND,
        null,
        StreamStatus.Code.UNAVAILABLE,
        "the stream from peer '" + peerId + "' at " + peerAddress + " is stalled: connected and " + lag
            + " entries behind, but the watermark stayed at seq " + committed + " for "
            + stallTimeout.toMillis() + " ms (replication.stallTimeout); reopening the stream");
  }

  /** Why a stream ended without a decision of this side. */
  String streamEnded(StreamStatus status) {
    return status.isOk()
        ? "peer '" + peerId + "' ended the stream"
        : "stream to peer '" + peerId + "' at " + peerAddress + " ended: " + status;
  }
}
