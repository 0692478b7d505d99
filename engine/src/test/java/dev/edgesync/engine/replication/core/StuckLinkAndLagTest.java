package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.replication.wire.EntryCodec;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.ApplyResult;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Heartbeat;
import dev.edgesync.proto.Welcome;
import dev.edgesync.watermark.Watermark;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The stuck-link detector and the lag in seconds of a subscription, driven through {@link
 * SubscriberCore} by hand with a manual clock (issue 12, items 3 and 4): a link that is connected,
 * behind and not advancing is stopped as stalled after {@code stallTimeout} and not before; a down
 * peer shows a lag that grows instead of 0.
 */
class StuckLinkAndLagTest {
  private static final Duration INTERVAL = Duration.ofSeconds(1);
  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration STALL = Duration.ofSeconds(15);
  private static final String LOG = "log-1";

  private Instant now = Instant.parse("2026-11-22T10:00:00Z");
  private final SubscriberCore core =
      new SubscriberCore(
          "site-a", "prod", "site-b", "10.0.0.2:7400", INTERVAL, HEARTBEAT_TIMEOUT, STALL,
          new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30), new SplittableRandom(1)),
          3 << 20, 4, Watermark.zero("site-b"), now);

  private void advance(Duration d) {
    now = now.plus(d);
  }

  /** Opens an attempt and welcomes it with the peer's head at {@code head}. */
  private long connect(long head) {
    long id = core.open(now).attemptId();
    core.onWelcome(
        id,
        Welcome.newBuilder()
            .setNodeId("site-b")
            .setLogId(LOG)
            .setHeadSeq(head)
            .setProtocolVersion(ProtocolVersion.CURRENT)
            .setStartSeq(core.committedSeq())
            .build(),
        now);
    assertTrue(core.connected());
    return id;
  }

  /** The peer is alive and reports its head; the tick runs; returns what the tick decided. */
  private SubscriberCore.Tick heartbeatAndTick(long id, long head) {
    core.onHeartbeat(id, Heartbeat.newBuilder().setSeq(head).build(), now);
    return core.tick(id, now);
  }

  /** One batch ending at {@code lastSeq} arrives and is committed. */
  private void commit(long id, long lastSeq, long head) {
    StoredEntry e =
        new StoredEntry(
            ("k" + lastSeq).getBytes(StandardCharsets.UTF_8),
            "v".getBytes(StandardCharsets.UTF_8),
            false,
            new Version(Hlc.of(1_700_000_000_000L, 0), "site-b"),
            lastSeq);
    SubscriberCore.BatchOutcome b =
        core.onBatch(id, Batch.newBuilder().setLastSeq(lastSeq).setHeadSeq(head).addEntries(EntryCodec.encode(e)).build(), now);
    assertNull(b.failure());
    core.handedOff(id, now);
    core.onApplied(b.token(), new ApplyResult(1, 0, 0, lastSeq), now);
    assertEquals(lastSeq, core.committedSeq());
  }

  /** Ticks (with heartbeats, so the link is alive) every half second for {@code d}; fails on a stall. */
  private void stayAliveFor(long id, long head, Duration d) {
    Instant end = now.plus(d);
    while (now.isBefore(end)) {
      advance(Duration.ofMillis(500));
      SubscriberCore.Tick t = heartbeatAndTick(id, head);
      assertNull(t.timeout(), () -> "no failure expected at " + now + ": " + t.timeout());
    }
  }

  /**
   * Ticks with heartbeats every half second until the tick stops the attempt; returns that tick.
   * Fails if it has not after {@code max}.
   */
  private SubscriberCore.Tick tickUntilStopped(long id, long head, Duration max) {
    Instant end = now.plus(max);
    while (now.isBefore(end)) {
      advance(Duration.ofMillis(500));
      SubscriberCore.Tick t = heartbeatAndTick(id, head);
      if (t.timeout() != null) {
        return t;
      }
    }
    throw new AssertionError("not stopped within " + max);
  }

  @Test
  void connectedBehindAndNotAdvancingIsStalledAfterTheTimeoutNotBefore() {
    long id = connect(100);
    commit(id, 10, 100);
    core.tick(id, now); // the wait for progress starts at the first tick that sees the lag
    stayAliveFor(id, 100, STALL.minusMillis(500));
    assertNull(core.stalledSince(), "not stalled before stallTimeout");

    advance(Duration.ofMillis(500));
    SubscriberCore.Tick t = heartbeatAndTick(id, 100);
    assertNotNull(t.timeout(), "stalled at stallTimeout");
    assertEquals(StallDetector.ERROR_KIND, t.timeout().kind());
    assertTrue(t.timeout().message().contains("90 entries behind"), t.timeout().message());
    assertTrue(t.timeout().message().contains("seq 10"), t.timeout().message());
    assertEquals(now, core.stalledSince());
    Instant stalledAt = now;

    // The driver cancels the stream; it stays stalled through the reopen it causes.
    assertNotNull(core.onClosed(id, StreamStatus.of(StreamStatus.Code.CANCELLED, "stalled"), now));
    assertFalse(core.connected());
    assertEquals(stalledAt, core.stalledSince());

    // The reopened stream connects and still makes no progress: stopped again after a full
    // stallTimeout (counted from its first tick), same stalledSince.
    long id2 = connect(100);
    Instant reopened = now;
    assertEquals(StallDetector.ERROR_KIND, tickUntilStopped(id2, 100, STALL.multipliedBy(2)).timeout().kind());
    Duration took = Duration.between(reopened, now);
    assertTrue(took.compareTo(STALL) >= 0 && took.compareTo(STALL.plusSeconds(1)) <= 0, "stopped after " + took);
    assertEquals(stalledAt, core.stalledSince());
  }

  @Test
  void progressRestartsTheWaitAndClearsAStall() {
    long id = connect(100);
    core.tick(id, now);
    for (long seq = 10; seq <= 50; seq += 10) {
      stayAliveFor(id, 100, STALL.minusSeconds(1));
      commit(id, seq, 100);
    }
    stayAliveFor(id, 100, STALL.minusSeconds(1));
    assertNull(core.stalledSince(), "a slow link that advances is never stalled");

    assertEquals(StallDetector.ERROR_KIND, tickUntilStopped(id, 100, STALL).timeout().kind());
    core.onClosed(id, StreamStatus.of(StreamStatus.Code.CANCELLED, "stalled"), now);
    long id2 = connect(100);
    assertNotNull(core.stalledSince());
    commit(id2, 60, 100);
    core.tick(id2, now);
    assertNull(core.stalledSince(), "progress on the reopened stream clears the stall");
  }

  @Test
  void caughtUpNeverStalls() {
    long id = connect(0);
    stayAliveFor(id, 0, STALL.multipliedBy(3));
    assertNull(core.stalledSince());
    assertEquals(0, core.lagEntries());
    commit(id, 5, 5);
    stayAliveFor(id, 5, STALL.multipliedBy(3));
    assertNull(core.stalledSince(), "lag 0 after a catch-up never stalls either");
  }

  @Test
  void aDisconnectedPeerIsNotStalled() {
    long id = connect(100);
    core.tick(id, now);
    // Nothing more arrives: the heartbeat timeout ends the attempt long before stallTimeout.
    SubscriberCore.Tick t;
    do {
      advance(Duration.ofMillis(500));
      t = core.tick(id, now);
    } while (t.timeout() == null);
    assertEquals("heartbeat_timeout", t.timeout().kind());
    core.onClosed(id, StreamStatus.of(StreamStatus.Code.CANCELLED, "silent"), now);
    advance(STALL.multipliedBy(2));
    assertFalse(core.connected());
    assertNull(core.stalledSince(), "disconnected, not stalled");

    // Attempts that never get their Welcome do not stall either.
    long id2 = core.open(now).attemptId();
    advance(Duration.ofMillis(500));
    assertNull(core.tick(id2, now).timeout());
    assertNull(core.stalledSince());
  }

  @Test
  void aStalledLinkThatThenFailsOtherwiseIsDisconnectedNotStalled() {
    long id = connect(100);
    core.tick(id, now);
    tickUntilStopped(id, 100, STALL.multipliedBy(2));
    assertNotNull(core.stalledSince());
    core.onClosed(id, StreamStatus.of(StreamStatus.Code.CANCELLED, "stalled"), now);
    long id2 = core.open(now).attemptId(); // the reopen; its Welcome never comes
    SubscriberCore.Tick t;
    do {
      advance(Duration.ofMillis(500));
      t = core.tick(id2, now);
    } while (t.timeout() == null);
    assertEquals("heartbeat_timeout", t.timeout().kind());
    assertNotNull(core.stalledSince(), "stalled until the reopened attempt ends");
    core.onClosed(id2, StreamStatus.of(StreamStatus.Code.CANCELLED, "silent"), now);
    assertNull(core.stalledSince(), "a peer that cannot be reached is disconnected, not stalled");
  }

  @Test
  void lagSecondsGrowsWhileThePeerIsDownAndIsZeroOnceCaughtUpAgain() {
    assertEquals(0, core.lagSeconds(now));
    advance(Duration.ofSeconds(7));
    assertEquals(7.0, core.lagSeconds(now), 0.001, "never connected: counted from when the peer was added");

    long id = connect(20);
    commit(id, 20, 20);
    assertEquals(0, core.lagSeconds(now), "connected and caught up");
    advance(Duration.ofSeconds(1));
    heartbeatAndTick(id, 20);
    assertEquals(0, core.lagSeconds(now));

    // The peer goes down (its stream ends); nothing is heard for 30 s.
    core.onClosed(id, StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "connection reset"), now);
    advance(Duration.ofSeconds(30));
    assertEquals(0, core.lagEntries(), "the last known head was reached");
    assertTrue(core.lagSeconds(now) >= 30, "down for 30 s: lag " + core.lagSeconds(now));

    // It comes back with 10 new entries: the lag still counts from the last catch-up...
    long id2 = connect(30);
    assertTrue(core.lagSeconds(now) >= 30, "the Welcome proves nothing about the time before it: " + core.lagSeconds(now));
    advance(Duration.ofSeconds(2));
    assertEquals(32.0, core.lagSeconds(now), 0.001);
    // ...until this node catches up.
    commit(id2, 30, 30);
    assertEquals(0, core.lagSeconds(now));
    advance(Duration.ofSeconds(5));
    assertEquals(0, core.lagSeconds(now), "connected and caught up stays 0");
  }
}
