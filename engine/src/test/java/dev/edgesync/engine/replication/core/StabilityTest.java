package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Stable time and horizon from reports, driven by hand: a report is handed over "committed
 * through" (as {@code PeerLink} does once the subscriber has committed through its seq).
 */
class StabilityTest {
  private static Stability node(String id, String... sources) {
    Stability s = new Stability(id, 0, Map.of(), Set.of());
    s.sources(List.of(sources));
    return s;
  }

  /** One round of {@code node} with its own clock at {@code clock}, persisted at once. */
  private static Stability.Round round(Stability node, long clock) {
    Stability.Round r = node.next(clock);
    node.persisted(r);
    return r;
  }

  /** {@code subscriber} committed through a report of its source {@code publisher}. */
  private static void pull(Stability subscriber, String publisherId, Stability publisher) {
    subscriber.heard(publisher.announced());
    subscriber.fromSource(publisherId, publisher.announced());
  }

  /** {@code publisher} got an ack carrying {@code subscriber}'s report. */
  private static void ack(Stability publisher, Stability subscriber) {
    publisher.heard(subscriber.announced());
  }

  @Test
  void twoNodesPullingFromEachOtherAdvanceInsteadOfWaitingForEachOther() {
    Stability a = node("a", "b");
    Stability b = node("b", "a");
    for (long t = 100; t <= 400; t += 100) {
      round(a, t);
      round(b, t + 5);
      pull(a, "b", b);
      pull(b, "a", a);
    }
    Stability.Round ra = round(a, 500);
    Stability.Round rb = round(b, 505);
    // Each holds what the other reported in the last exchange: the other's clock then.
    assertEquals(405, ra.stableHlc());
    assertEquals(400, rb.stableHlc());
    assertTrue(ra.horizonHlc() > 0 && ra.horizonHlc() <= Math.min(ra.stableHlc(), rb.stableHlc()), "horizon " + ra.horizonHlc());
  }

  @Test
  void inAChainTheEndsHearOfEachOthersClockThroughTheMiddle() {
    Stability a = node("a", "b");
    Stability b = node("b", "a", "c");
    Stability c = node("c", "b");
    for (int i = 0; i < 4; i++) {
      round(a, 1_000);
      round(b, 1_000);
      round(c, 50); // c's clock is far behind: nothing of c's older than 50 can be on a
      pull(b, "a", a);
      pull(b, "c", c);
      pull(a, "b", b);
      pull(c, "b", b);
    }
    Stability.Round ra = round(a, 1_000);
    assertEquals(50, ra.stableHlc(), "a's stable time waits for c's clock, relayed by b");
    assertTrue(ra.horizonHlc() <= 50);
  }

  @Test
  void aSourceNotHeardSinceStartHoldsTheStableTimeDownstreamToo() {
    Stability a = node("a", "b");
    Stability b = node("b", "a", "c"); // c is down: never reports
    for (int i = 0; i < 3; i++) {
      round(a, 1_000);
      round(b, 1_000);
      pull(b, "a", a);
      pull(a, "b", b);
    }
    assertEquals(0, round(b, 1_000).stableHlc());
    assertEquals(0, round(a, 1_000).stableHlc(), "b tells a that it waits for c");
    assertEquals(List.of("c"), b.silentSources());
  }

  @Test
  void aSubscriberOnlyNodeHoldsTheHorizonButNotTheStableTimeUntilForgotten() {
    Stability hub = node("hub", "src");
    Stability src = node("src", "hub");
    // A leaf pulls from the hub only; its acks carry its stable time, 1,000.
    hub.heard(
        dev.edgesync.proto.StabilityReport.newBuilder()
            .addNodes(dev.edgesync.proto.NodeClock.newBuilder().setNodeId("leaf").setStableHlc(1_000))
            .build());
    for (int i = 0; i < 3; i++) {
      round(src, 3_000);
      round(hub, 3_000);
      pull(hub, "src", src);
      pull(src, "hub", hub);
    }
    Stability.Round r = round(hub, 3_000);
    assertEquals(3_000, r.stableHlc(), "the leaf's writes reach no one: not an origin of the hub");
    assertEquals(1_000, r.horizonHlc(), "the horizon waits for the leaf's stable time");
    // The leaf goes away for good; it is forgotten on the hub, and the horizon moves on.
    assertTrue(hub.forget("leaf"));
    assertEquals(3_000, round(hub, 3_000).horizonHlc());
  }

  @Test
  void aNodeThatPullsFromNoOneNeverBecomesStable() {
    Stability alone = node("alone");
    assertEquals(0, round(alone, 5_000).stableHlc());
    assertEquals(0, round(alone, 6_000).horizonHlc());
  }

  @Test
  void aForgottenIdTravelsWithReportsAndNoLongerHoldsAnyoneBack() {
    Stability a = node("a", "b");
    Stability b = node("b", "a");
    round(a, 100);
    round(b, 100);
    b.heard(
        dev.edgesync.proto.StabilityReport.newBuilder()
            .addNodes(dev.edgesync.proto.NodeClock.newBuilder().setNodeId("gone").setStableHlc(10))
            .build());
    for (int i = 0; i < 3; i++) {
      round(a, 1_000);
      round(b, 1_000);
      pull(a, "b", b);
      pull(b, "a", a);
    }
    assertEquals(10, round(a, 1_000).horizonHlc(), "'gone' is a member everywhere and holds the horizon");
    b.forget("gone");
    round(b, 1_000);
    pull(a, "b", b);
    assertTrue(a.isForgotten("gone"));
    assertEquals(1_000, round(a, 2_000).horizonHlc());
  }

  @Test
  void stableTimeAndHorizonNeverGoBack() {
    Stability a = node("a", "b");
    Stability b = node("b", "a");
    round(a, 1_000);
    round(b, 1_000);
    pull(a, "b", b);
    long high = round(a, 1_000).stableHlc();
    // b restarts and reports a lower clock (a new stream, an older report): a keeps what it had.
    Stability b2 = node("b", "a");
    round(b2, 10);
    pull(a, "b", b2);
    assertEquals(high, round(a, 2_000).stableHlc());
  }
}
