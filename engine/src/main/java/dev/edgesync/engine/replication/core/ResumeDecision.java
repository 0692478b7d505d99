package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.proto.Welcome;

/**
 * Whether a publisher's {@code Welcome} is acceptable given the watermark the {@code Hello}
 * resumed from, and how streaming then starts (see {@link Resume}). Pure.
 *
 * <p>The rules: the same log may restart at or before the watermark (a restart before it means the
 * peer's history changed), never after it, since the entries in between would be skipped; another
 * log restarts at 0, since the watermark means nothing for it.
 */
final class ResumeDecision {
  private ResumeDecision() {}

  /** Why {@code welcome} must be refused, or null when it is acceptable. */
  static Failure check(
      Welcome welcome,
      String peerId,
      String watermarkLogId,
      long watermarkSeq,
      int offeredVersion,
      SubscriberFailures failures) {
    if (!welcome.getNodeId().equals(peerId)) {
      return failures.wrongPeer(welcome.getNodeId());
    }
    // The publisher picks a version in the range the Hello offered (an older build answers its own).
    if (welcome.getProtocolVersion() < ProtocolVersion.MIN || welcome.getProtocolVersion() > offeredVersion) {
      return failures.protocolVersion(welcome.getProtocolVersion(), offeredVersion);
    }
    if (welcome.getLogId().isEmpty()) {
      return failures.protocol("sent a Welcome without a log id");
    }
    boolean sameLog = welcome.getLogId().equals(watermarkLogId);
    if (sameLog && welcome.getStartSeq() > watermarkSeq) {
      return failures.protocol(
          "offered to stream from seq " + welcome.getStartSeq() + " but this node asked from " + watermarkSeq
              + ": entries in between would be skipped");
    }
    if (!sameLog && welcome.getStartSeq() != 0) {
      return failures.protocol(
          "announced a new log id but offered to stream from seq " + welcome.getStartSeq() + ", not 0");
    }
    return null;
  }

  /** How streaming starts after an acceptable {@code welcome} (see {@link #check}). */
  static Resume of(Welcome welcome, String watermarkLogId, long watermarkSeq) {
    if (welcome.getLogId().equals(watermarkLogId)) {
      // A start below the watermark: the peer refused the resume point (its log no longer has it).
      return welcome.getStartSeq() < watermarkSeq ? Resume.HISTORY_CHANGED : Resume.RESUMED;
    }
    return watermarkLogId.isEmpty() ? Resume.FIRST_SYNC : Resume.LOG_CHANGED;
  }
}
