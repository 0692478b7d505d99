package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.replication.core.AntiEntropy.LocalView;
import dev.edgesync.engine.replication.core.AntiEntropy.PeerView;
import dev.edgesync.engine.replication.core.AntiEntropy.Verdict;
import dev.edgesync.engine.storage.StateDigest;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AntiEntropyTest {
  static final StateDigest A = new StateDigest(1, 2);
  static final StateDigest B = new StateDigest(3, 4);
  static final Duration SETTLE = Duration.ofSeconds(10);
  static final Duration INTERVAL = Duration.ofSeconds(60);

  final AntiEntropy ae = new AntiEntropy(SETTLE, INTERVAL);
  Instant now = Instant.parse("2026-12-04T00:00:00Z");

  /** Publisher at head 100 whose watermark of this node ("log-me") is 50; this node at head 50. */
  Verdict beat(StateDigest peerDigest, StateDigest localDigest) {
    return ae.onHeartbeat(new PeerView(100, peerDigest, "log-me", 50), 100, new LocalView("log-me", 50, localDigest), now);
  }

  @Test
  void equalDigestsWhileCaughtUpStartNoRepair() {
    for (int i = 0; i < 10; i++) {
      assertEquals(Verdict.IN_SYNC, beat(A, A));
      now = now.plusSeconds(5);
    }
    assertEquals(0, ae.repairsStarted());
    assertNull(ae.lastDivergence());
  }

  @Test
  void differingDigestsRepairOnlyAfterTheSettleTime() {
    assertEquals(Verdict.SETTLING, beat(A, B));
    now = now.plus(SETTLE).minusMillis(1);
    assertEquals(Verdict.SETTLING, beat(A, B));
    now = now.plusMillis(1);
    assertEquals(Verdict.REPAIR, beat(A, B));
    assertEquals(1, ae.round());
    assertTrue(ae.repairInFlight());
    assertEquals(now, ae.lastDivergence());
  }

  @Test
  void aSubscriberThatIsBehindNeverRepairsHoweverLong() {
    // A long catch-up: digests differ all along, but this node has not committed the head.
    for (int i = 0; i < 1_000; i++) {
      Verdict v = ae.onHeartbeat(new PeerView(100, A, "log-me", 50), 99, new LocalView("log-me", 50, B), now);
      assertEquals(Verdict.BEHIND, v);
      now = now.plusSeconds(5);
    }
    assertEquals(0, ae.repairsStarted());
  }

  @Test
  void aPublisherThatIsBehindOrDoesNotPullStartsNoRepair() {
    for (int i = 0; i < 100; i++) {
      assertEquals(
          Verdict.PEER_BEHIND,
          ae.onHeartbeat(new PeerView(100, A, "log-me", 49), 100, new LocalView("log-me", 50, B), now));
      assertEquals(
          Verdict.PEER_BEHIND,
          ae.onHeartbeat(new PeerView(100, A, "", 0), 100, new LocalView("log-me", 50, B), now));
      assertEquals(
          Verdict.PEER_BEHIND,
          ae.onHeartbeat(new PeerView(100, A, "older-log", 50), 100, new LocalView("log-me", 50, B), now));
      now = now.plusSeconds(5);
    }
    assertEquals(0, ae.repairsStarted());
  }

  @Test
  void anyHeartbeatThatIsNotCaughtUpRestartsTheSettleTime() {
    assertEquals(Verdict.SETTLING, beat(A, B));
    now = now.plusSeconds(9);
    assertEquals(Verdict.BEHIND, ae.onHeartbeat(new PeerView(101, A, "log-me", 50), 100, new LocalView("log-me", 50, B), now));
    now = now.plusSeconds(9);
    assertEquals(Verdict.SETTLING, beat(A, B), "settle time counts again from here");
    now = now.plusSeconds(9);
    assertEquals(Verdict.SETTLING, beat(A, B));
    now = now.plusSeconds(1);
    assertEquals(Verdict.REPAIR, beat(A, B));
  }

  @Test
  void oneRepairAtATimeAndAtMostOnePerInterval() {
    beat(A, B);
    now = now.plus(SETTLE);
    assertEquals(Verdict.REPAIR, beat(A, B));
    Instant started = now;
    now = now.plus(SETTLE);
    assertEquals(Verdict.SETTLING, beat(A, B), "the first repair is still in flight");
    assertFalse(ae.onRepairDone(7), "an answer to another round is ignored");
    assertTrue(ae.onRepairDone(1));
    assertEquals(Verdict.SETTLING, beat(A, B));
    now = started.plus(INTERVAL).minusMillis(1);
    assertEquals(Verdict.SETTLING, beat(A, B), "the interval since the last start has not passed");
    now = started.plus(INTERVAL);
    assertEquals(Verdict.REPAIR, beat(A, B));
    assertEquals(2, ae.repairsStarted());
    assertEquals(2, ae.round());
  }

  @Test
  void aStreamThatEndsAbandonsTheRepairInFlight() {
    beat(A, B);
    now = now.plus(SETTLE);
    assertEquals(Verdict.REPAIR, beat(A, B));
    ae.onStreamEnded();
    assertFalse(ae.repairInFlight());
    assertFalse(ae.onRepairDone(1), "a late answer after the stream ended is not a completion");
  }

  @Test
  void aPublisherWithoutDigestIsNotCompared() {
    assertEquals(Verdict.NOT_SUPPORTED, beat(null, B));
    now = now.plus(SETTLE).plus(INTERVAL);
    assertEquals(Verdict.NOT_SUPPORTED, beat(null, B));
    assertEquals(0, ae.repairsStarted());
  }
}
