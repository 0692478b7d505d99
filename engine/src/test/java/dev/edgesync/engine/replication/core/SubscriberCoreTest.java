package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.ClockSkewException;
import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.replication.wire.EntryCodec;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.ApplyResult;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Entry;
import dev.edgesync.proto.Heartbeat;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.Welcome;
import dev.edgesync.watermark.Watermark;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The subscriber's decisions, driven by hand with a fake time: no sockets, no threads. */
class SubscriberCoreTest {
  private static final Duration INTERVAL = Duration.ofSeconds(1);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final Duration STALL = Duration.ofSeconds(15);
  private static final String LOG = "log-1";
  private static final int MAX_IN_FLIGHT = 2;
  private static final int MAX_MESSAGE_BYTES = 3 << 20;

  private Instant now = Instant.parse("2026-11-22T10:00:00Z");

  private SubscriberCore core(Watermark persisted) {
    return new SubscriberCore(
        "site-a",
        "prod",
        "site-b",
        "10.0.0.2:7400",
        INTERVAL,
        TIMEOUT,
        STALL,
        new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30), new SplittableRandom(1)),
        MAX_MESSAGE_BYTES,
        MAX_IN_FLIGHT,
        persisted,
        now);
  }

  private static Welcome welcome(String logId, long head, long start) {
    return Welcome.newBuilder()
        .setNodeId("site-b")
        .setLogId(logId)
        .setHeadSeq(head)
        .setProtocolVersion(ProtocolVersion.CURRENT)
        .setStartSeq(start)
        .build();
  }

  private static Entry entry(String key, long seq) {
    return EntryCodec.encode(
        new StoredEntry(
            key.getBytes(StandardCharsets.UTF_8),
            "v".getBytes(StandardCharsets.UTF_8),
            false,
            new Version(Hlc.of(1_700_000_000_000L, 0), "site-b"),
            seq));
  }

  private static Batch batch(long lastSeq, long head, Entry... entries) {
    Batch.Builder b = Batch.newBuilder().setLastSeq(lastSeq).setHeadSeq(head);
    for (Entry e : entries) {
      b.addEntries(e);
    }
    return b.build();
  }

  private static ApplyResult applied(int n) {
    return new ApplyResult(n, 0, 0, 0);
  }

  @Test
  void helloCarriesThePersistedWatermark() {
    SubscriberCore core = core(new Watermark("site-b", LOG, 42, Instant.EPOCH));
    Hello hello = core.open(now).hello();
    assertEquals("prod", hello.getCluster());
    assertEquals("site-a", hello.getNodeId());
    assertEquals(ProtocolVersion.CURRENT, hello.getProtocolVersion());
    assertEquals(LOG, hello.getSinceLogId());
    assertEquals(42, hello.getSinceSeq());
    assertEquals(MAX_MESSAGE_BYTES, hello.getMaxMessageBytes(), "the publisher cuts batches to fit it");
  }

  @Test
  void aPeerOfABuildBeforeNegotiationIsOfferedTheNextLowerVersionAtOnce() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    SubscriberCore.Opening first = core.open(now);
    assertEquals(ProtocolVersion.MIN, first.hello().getMinProtocolVersion());
    assertEquals(ProtocolVersion.CURRENT, first.hello().getProtocolVersion());
    Refusal refusal =
        Refusal.newBuilder().setCode(Refusal.Code.PROTOCOL_VERSION).setMessage("speaks 1, not 2").build();
    Failure fallback = core.onRefusal(first.attemptId(), refusal, now);
    assertTrue(fallback.message().contains("offering version 1"), fallback.message());
    assertEquals(Duration.ZERO, core.onClosed(first.attemptId(), StreamStatus.of(StreamStatus.Code.CANCELLED, "x"), now),
        "retried at once");
    assertNull(core.counters().lastError(), "an expected fallback is not an error");

    SubscriberCore.Opening second = core.open(now);
    assertEquals(1, second.hello().getProtocolVersion());
    Welcome v1 = welcome(LOG, 0, 0).toBuilder().setProtocolVersion(1).build();
    assertNull(core.onWelcome(second.attemptId(), v1, now).failure());
    assertEquals(1, core.protocolVersion());

    // The link drops (the peer may restart upgraded): the next Hello offers the newest again.
    core.onClosed(second.attemptId(), StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "gone"), now);
    assertEquals(ProtocolVersion.CURRENT, core.open(now).hello().getProtocolVersion());
  }

  @Test
  void aFallbackThatFailsOffersTheNewestVersionAgain() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    SubscriberCore.Opening first = core.open(now);
    core.onRefusal(first.attemptId(), Refusal.newBuilder().setCode(Refusal.Code.PROTOCOL_VERSION).build(), now);
    core.onClosed(first.attemptId(), StreamStatus.of(StreamStatus.Code.CANCELLED, "x"), now);
    SubscriberCore.Opening second = core.open(now);
    assertEquals(1, second.hello().getProtocolVersion());
    // The old peer is down for its upgrade: the next attempt may meet the new build.
    core.onClosed(second.attemptId(), StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "gone"), now);
    assertEquals(ProtocolVersion.CURRENT, core.open(now).hello().getProtocolVersion());
  }

  @Test
  void aWelcomeOutsideTheOfferedRangeIsRefused() {
    SubscriberCore core = core(Watermark.zero("site-b")).maxProtocolVersion(1);
    SubscriberCore.Opening opening = core.open(now);
    assertEquals(1, opening.hello().getProtocolVersion());
    Welcome v2 = welcome(LOG, 0, 0).toBuilder().setProtocolVersion(2).build();
    Failure refused = core.onWelcome(opening.attemptId(), v2, now).failure();
    assertEquals("protocol_version", refused.kind());
    assertTrue(refused.message().contains("answered in replication protocol version 2"), refused.message());
  }

  @Test
  void watermarkAdvancesOnlyAfterCommitAndInBatchOrder() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    assertEquals(Resume.FIRST_SYNC, core.onWelcome(id, welcome(LOG, 30, 0), now).resume());

    SubscriberCore.BatchOutcome b1 = core.onBatch(id, batch(10, 30, entry("a", 5), entry("b", 10)), now);
    SubscriberCore.BatchOutcome b2 = core.onBatch(id, batch(20, 30, entry("c", 20)), now);
    SubscriberCore.BatchOutcome b3 = core.onBatch(id, batch(30, 30, entry("d", 30)), now);
    assertEquals(0, core.committedSeq(), "nothing is committed yet");

    // The store reports the second batch first: it must not move the watermark past batch 1.
    SubscriberCore.CommitOutcome c2 = core.onApplied(b2.token(), applied(1), now);
    assertNull(c2.watermark());
    assertEquals(0, core.committedSeq());

    SubscriberCore.CommitOutcome c1 = core.onApplied(b1.token(), applied(2), now);
    assertEquals(20, core.committedSeq(), "batches 1 and 2 are both committed now");
    assertEquals(new Watermark("site-b", LOG, 20, now), c1.watermark());
    assertEquals(20, c1.ackSeq());
    assertEquals(id, c1.ackAttemptId());

    core.onApplied(b3.token(), applied(1), now);
    assertEquals(30, core.committedSeq());
    assertEquals(4, core.counters().entriesApplied());
    assertEquals(0, core.lagEntries());
  }

  @Test
  void failedBatchPoisonsLaterBatchesOfItsStream() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    core.onWelcome(id, welcome(LOG, 30, 0), now);
    SubscriberCore.BatchOutcome b1 = core.onBatch(id, batch(10, 30, entry("a", 10)), now);
    SubscriberCore.BatchOutcome b2 = core.onBatch(id, batch(20, 30, entry("b", 20)), now);

    long aheadHlc = Hlc.of(now.toEpochMilli() + 120_000, 0);
    SubscriberCore.ApplyFailure failure =
        core.onApplyFailed(
            b1.token(), new ClockSkewException(aheadHlc, now.toEpochMilli(), Duration.ofSeconds(60)), now);
    assertEquals("clock_skew", failure.failure().kind());
    assertEquals(Refusal.Code.CLOCK_SKEW, failure.failure().refusal());
    assertTrue(failure.failure().message().contains("site-b"), failure.failure().message());
    assertTrue(failure.failure().message().contains("120000 ms ahead"), failure.failure().message());
    assertEquals(id, failure.attemptId());

    // Batch 2 committed, but batch 1's entries are not stored: the watermark stays.
    SubscriberCore.CommitOutcome c2 = core.onApplied(b2.token(), applied(1), now);
    assertNull(c2.watermark());
    assertEquals(0, core.committedSeq());
  }

  @Test
  void corruptEntryRejectsTheWholeBatch() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    core.onWelcome(id, welcome(LOG, 20, 0), now);
    Entry bad = entry("b", 20).toBuilder().setCrc32C(12345).build();
    SubscriberCore.BatchOutcome out = core.onBatch(id, batch(20, 20, entry("a", 10), bad), now);
    assertNotNull(out.failure());
    assertEquals("crc", out.failure().kind());
    assertEquals(StreamStatus.Code.DATA_LOSS, out.failure().code());
    assertTrue(out.entries().isEmpty(), "nothing is handed to the store");
    assertTrue(out.failure().message().contains("nothing of it applied"), out.failure().message());
    assertEquals(0, core.inFlightBatches());
    assertFalse(core.connected());
    assertEquals(out.failure().message(), core.counters().lastError());
  }

  @Test
  void changedLogIdResetsTheWatermarkToZero() {
    SubscriberCore core = core(new Watermark("site-b", LOG, 500, Instant.EPOCH));
    long id = core.open(now).attemptId();
    SubscriberCore.WelcomeOutcome out = core.onWelcome(id, welcome("log-2", 7, 0), now);
    assertNull(out.failure());
    assertEquals(Resume.LOG_CHANGED, out.resume());
    assertEquals(LOG, out.previousLogId());
    assertEquals("log-2", core.peerLogId());
    assertEquals(0, core.committedSeq());
    assertEquals(7, core.lagEntries());

    SubscriberCore.BatchOutcome b = core.onBatch(id, batch(7, 7, entry("a", 7)), now);
    assertEquals(new Watermark("site-b", "log-2", 7, now), core.onApplied(b.token(), applied(1), now).watermark());
  }

  @Test
  void commitOfAnOldLogNeverMovesTheWatermarkOfTheNewOne() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long first = core.open(now).attemptId();
    core.onWelcome(first, welcome(LOG, 100, 0), now);
    SubscriberCore.BatchOutcome old = core.onBatch(first, batch(100, 100, entry("a", 100)), now);
    assertNotNull(core.onClosed(first, StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "gone"), now));

    long second = core.open(now).attemptId();
    core.onWelcome(second, welcome("log-2", 3, 0), now);
    SubscriberCore.CommitOutcome late = core.onApplied(old.token(), applied(1), now);
    assertNull(late.watermark());
    assertEquals("log-2", core.peerLogId());
    assertEquals(0, core.committedSeq());
  }

  @Test
  void watermarkKeepsTheEpochOfItsSeqAndHelloSendsIt() {
    SubscriberCore core = core(new Watermark("site-b", LOG, 42, Instant.EPOCH, "e1"));
    long id = core.open(now).attemptId();
    // (the epoch of the persisted watermark travels in Hello)
    SubscriberCore fresh = core(new Watermark("site-b", LOG, 42, Instant.EPOCH, "e1"));
    assertEquals("e1", fresh.open(now).hello().getSinceEpoch());
    assertEquals(Resume.RESUMED, core.onWelcome(id, welcome(LOG, 60, 42), now).resume());
    SubscriberCore.BatchOutcome b1 = core.onBatch(id, batch(50, 60, entry("a", 50)).toBuilder().setLastSeqEpoch("e1").build(), now);
    SubscriberCore.BatchOutcome b2 = core.onBatch(id, batch(60, 60, entry("b", 60)).toBuilder().setLastSeqEpoch("e2").build(), now);
    assertEquals(new Watermark("site-b", LOG, 50, now, "e1"), core.onApplied(b1.token(), applied(1), now).watermark());
    assertEquals(new Watermark("site-b", LOG, 60, now, "e2"), core.onApplied(b2.token(), applied(1), now).watermark());
    assertEquals("e2", core.committedEpoch());
    core.onClosed(id, StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "gone"), now);
    Hello again = core.open(now).hello();
    assertEquals(60, again.getSinceSeq());
    assertEquals("e2", again.getSinceEpoch());
  }

  @Test
  void aRefusedResumePointFallsBackToTheStartAndOldCommitsNoLongerCount() {
    SubscriberCore core = core(new Watermark("site-b", LOG, 10, Instant.EPOCH, "e1"));
    long first = core.open(now).attemptId();
    core.onWelcome(first, welcome(LOG, 40, 10), now);
    SubscriberCore.BatchOutcome old = core.onBatch(first, batch(40, 40, entry("a", 40)).toBuilder().setLastSeqEpoch("e1").build(), now);
    core.onClosed(first, StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "gone"), now);

    // The peer was restored from an older copy: seq 10 of e1 is gone, it streams from 0.
    long second = core.open(now).attemptId();
    SubscriberCore.WelcomeOutcome out = core.onWelcome(second, welcome(LOG, 25, 0), now);
    assertNull(out.failure());
    assertEquals(Resume.HISTORY_CHANGED, out.resume());
    assertEquals(10, out.previousSeq());
    assertEquals(0, core.committedSeq());
    assertEquals("", core.committedEpoch());
    assertEquals(25, core.lagEntries());
    // A late commit of the old history does not claim seq 40 of the new one.
    assertNull(core.onApplied(old.token(), applied(1), now).watermark());
    assertEquals(0, core.committedSeq());
    SubscriberCore.BatchOutcome b = core.onBatch(second, batch(25, 25, entry("b", 25)).toBuilder().setLastSeqEpoch("e2").build(), now);
    assertEquals(new Watermark("site-b", LOG, 25, now, "e2"), core.onApplied(b.token(), applied(1), now).watermark());
  }

  @Test
  void welcomeThatWouldSkipEntriesIsAProtocolError() {
    SubscriberCore core = core(new Watermark("site-b", LOG, 10, Instant.EPOCH));
    long id = core.open(now).attemptId();
    SubscriberCore.WelcomeOutcome out = core.onWelcome(id, welcome(LOG, 50, 20), now);
    assertEquals("protocol", out.failure().kind());
  }

  @Test
  void welcomeFromAnotherNodeIsRefused() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    SubscriberCore.WelcomeOutcome out =
        core.onWelcome(id, welcome(LOG, 0, 0).toBuilder().setNodeId("site-x").build(), now);
    assertEquals("wrong_peer", out.failure().kind());
    assertTrue(out.failure().message().contains("site-x"), out.failure().message());
  }

  @Test
  void refusalIsRecordedWithThePeersReason() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    Failure f =
        core.onRefusal(
            id, Refusal.newBuilder().setCode(Refusal.Code.WRONG_CLUSTER).setMessage("cluster 'x' vs 'y'").build(), now);
    assertEquals("refused_wrong_cluster", f.kind());
    assertTrue(core.counters().lastError().contains("cluster 'x' vs 'y'"), core.counters().lastError());
    assertEquals(now, core.counters().lastErrorAt());
    Duration delay = core.onClosed(id, StreamStatus.of(StreamStatus.Code.FAILED_PRECONDITION, "x"), now);
    assertNotNull(delay);
    assertTrue(core.counters().lastError().contains("cluster 'x' vs 'y'"), "the close does not hide the refusal");
  }

  @Test
  void heartbeatIsDueAfterAnIntervalOfSilenceAndThePeerTimesOutAfterTheTimeout() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    core.onWelcome(id, welcome(LOG, 0, 0), now);
    assertFalse(core.tick(id, now.plusMillis(999)).heartbeat());
    assertTrue(core.tick(id, now.plus(INTERVAL)).heartbeat());
    core.sent(id, now.plus(INTERVAL));
    assertFalse(core.tick(id, now.plus(INTERVAL).plusMillis(500)).heartbeat());

    core.onHeartbeat(id, Heartbeat.newBuilder().setSeq(0).build(), now.plusSeconds(3));
    assertNull(core.tick(id, now.plusSeconds(7)).timeout(), "heard 4 s ago: alive");
    SubscriberCore.Tick dead = core.tick(id, now.plusSeconds(8));
    assertNotNull(dead.timeout());
    assertEquals("heartbeat_timeout", dead.timeout().kind());
    assertTrue(dead.timeout().message().contains("5000 ms"), dead.timeout().message());
  }

  @Test
  void silenceWhileHandingABatchToTheStoreDoesNotCount() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    core.onWelcome(id, welcome(LOG, 10, 0), now);
    core.onBatch(id, batch(10, 10, entry("a", 10)), now);
    // The store's queue is full for a minute: this node asked for nothing, so it cannot time out.
    assertNull(core.tick(id, now.plusSeconds(60)).timeout());
    core.handedOff(id, now.plusSeconds(60));
    assertNull(core.tick(id, now.plusSeconds(64)).timeout());
    assertNotNull(core.tick(id, now.plusSeconds(65)).timeout());
  }

  @Test
  void atMostMaxBatchesInFlightUncommittedTheNextRequestWaitsForACommit() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    core.onWelcome(id, welcome(LOG, 30, 0), now);
    SubscriberCore.BatchOutcome b1 = core.onBatch(id, batch(10, 30, entry("a", 10)), now);
    assertTrue(core.handedOff(id, now), "one of " + MAX_IN_FLIGHT + " slots taken: read on");
    SubscriberCore.BatchOutcome b2 = core.onBatch(id, batch(20, 30, entry("b", 20)), now);
    assertFalse(core.handedOff(id, now), "all slots taken: the next message waits");

    // Held back on purpose, the stream's silence does not count against the publisher.
    assertNull(core.tick(id, now.plusSeconds(60)).timeout());

    SubscriberCore.CommitOutcome c1 = core.onApplied(b1.token(), applied(1), now.plusSeconds(60));
    assertEquals(id, c1.requestAttemptId(), "the commit freed a slot: ask for the next message");
    assertEquals(10, c1.ackSeq());
    // Listening again: the silence window starts at the commit.
    assertNull(core.tick(id, now.plusSeconds(64)).timeout());
    assertNotNull(core.tick(id, now.plusSeconds(65)).timeout());

    SubscriberCore.CommitOutcome c2 = core.onApplied(b2.token(), applied(1), now.plusSeconds(65));
    assertEquals(0, c2.requestAttemptId(), "nothing was held back any more");
  }

  @Test
  void aCommitOutOfOrderStillReleasesTheHeldRequest() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    core.onWelcome(id, welcome(LOG, 30, 0), now);
    SubscriberCore.BatchOutcome b1 = core.onBatch(id, batch(10, 30, entry("a", 10)), now);
    core.handedOff(id, now);
    SubscriberCore.BatchOutcome b2 = core.onBatch(id, batch(20, 30, entry("b", 20)), now);
    assertFalse(core.handedOff(id, now));
    SubscriberCore.CommitOutcome c2 = core.onApplied(b2.token(), applied(1), now);
    assertNull(c2.watermark(), "batch 1 is not committed: the watermark stays");
    assertEquals(id, c2.requestAttemptId(), "but a slot is free");
    assertEquals(20, core.onApplied(b1.token(), applied(1), now).watermark().seq(), "both batches committed now");
  }

  @Test
  void backoffResetsOnlyAfterAStreamThatWorked() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    StreamStatus down = StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "connection refused");
    long id = core.open(now).attemptId();
    core.onClosed(id, down, now);
    for (int i = 0; i < 6; i++) {
      id = core.open(now).attemptId();
      core.onClosed(id, down, now);
    }
    assertEquals(6, core.counters().reconnects());
    id = core.open(now).attemptId();
    core.onWelcome(id, welcome(LOG, 0, 0), now);
    core.onHeartbeat(id, Heartbeat.getDefaultInstance(), now);
    Duration afterHealthy = core.onClosed(id, down, now);
    assertTrue(afterHealthy.toMillis() <= 400, "first window again: " + afterHealthy);
    assertTrue(core.counters().lastError().contains("connection refused"), core.counters().lastError());
  }

  @Test
  void lagSecondsCountsFromTheLastTimeCaughtUp() {
    SubscriberCore core = core(Watermark.zero("site-b"));
    long id = core.open(now).attemptId();
    core.onWelcome(id, welcome(LOG, 0, 0), now);
    assertEquals(0, core.lagSeconds(now.plusSeconds(10)));
    core.onHeartbeat(id, Heartbeat.newBuilder().setSeq(5).build(), now.plusSeconds(10));
    assertEquals(5, core.lagEntries());
    assertEquals(3.0, core.lagSeconds(now.plusSeconds(13)), 0.001);
  }
}
