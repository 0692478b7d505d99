package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A link that stays open but stops delivering (the proxy holds everything the publisher sends,
 * while the subscriber's own messages still get through) in the middle of a catch-up is reported
 * stalled: {@code stalledSince} in {@code /status}, {@code edgesync_replication_stalled} 1 and an
 * error of kind {@code stalled} in {@code /metrics}. Its heartbeat timeout is set far longer than
 * its stall timeout, so nothing but the stall detector can notice. After the heal the nodes
 * converge and the stall is over.
 */
class StalledLinkReportedTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  /** Enough small batches that the catch-up is still far from done when the link is cut. */
  static final int ENTRIES = 20_000;

  /** stallTimeout 2 s plus generous margin for two JVMs on two busy cores. */
  static final Duration DETECTION_BOUND = Duration.ofSeconds(30);

  @Test
  void linkThatStopsDeliveringIsReportedStalledThenConverges() {
    Cluster c = cleanup.newCluster("stalled", true);
    NodeProcess pub = c.add("pub", s -> s.replication.put("batchMaxEntries", "20"));
    NodeProcess sub =
        c.add(
            "sub",
            s -> {
              s.replication.put("heartbeatTimeout", "60s");
              s.replication.put("stallTimeout", "2s");
              s.replication.put("maxBatchesInFlight", "1");
            });
    LargeCatchUpBoundedMemoryTest.preload("pub", pub.spec.dataDir, ENTRIES);
    // One way: sub pulls from pub through the proxy sub->pub.
    c.link("sub", "pub").startAll();
    c.awaitStatus("sub", "catching up from pub", Cluster.CONVERGENCE, s -> s.peer("pub").watermark() >= 200);

    c.proxy("sub", "pub").setMode(FaultProxy.Mode.HOLD_FROM_TARGET);
    AtomicReference<String> seen = new AtomicReference<>("not polled yet");
    try {
      Awaitility.await("sub reports pub stalled in /status and /metrics")
          .atMost(DETECTION_BOUND)
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                Status s = sub.http().status();
                String metrics = sub.http().metrics();
                double gauge = PrometheusText.value(metrics, "edgesync_replication_stalled", "peer=pub");
                seen.set("stalled gauge " + gauge + ", /status " + s.peer("pub"));
                return s.peer("pub").stalledSince() != null && gauge == 1.0;
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("not reported stalled: " + seen.get() + "\nlogs:\n" + c.logs(), e);
    }
    Status stalled = sub.http().status();
    assertTrue(stalled.peer("pub").lagEntries() > 0, "stalled means behind: " + stalled.json());
    assertTrue(
        stalled.json().path("peers").get(0).path("lagSeconds").asDouble() >= 2.0,
        "no progress for stallTimeout shows in lagSeconds: " + stalled.json());
    assertTrue(
        PrometheusText.value(sub.http().metrics(), "edgesync_replication_errors_total", "peer=pub", "kind=stalled") >= 1,
        "each stall is counted under errors kind stalled");
    assertTrue(sub.log().contains("is stalled"), "the stall is logged; log " + sub.logFile());

    // Writes on the publisher during the cut arrive too.
    for (int i = 0; i < 20; i++) {
      pub.http().put("during-stall/" + i, "v" + i);
    }

    c.proxy("sub", "pub").setMode(FaultProxy.Mode.PASS);
    var state = c.awaitConverged();
    assertEquals(ENTRIES + 20, state.size(), "every preloaded key and every write during the stall");
    for (int i = 0; i < 20; i++) {
      assertEquals(java.util.Optional.of("v" + i), sub.http().get("during-stall/" + i));
    }
    c.awaitWatermarkAtHead("sub", "pub");
    Status healed =
        c.awaitStatus("sub", "no longer stalled, connected", Cluster.CONVERGENCE, s -> s.peer("pub").stalledSince() == null && s.peer("pub").connected());
    assertNull(healed.peer("pub").stalledSince());
    assertEquals(0, healed.peer("pub").lagEntries(), healed.json().toString());
    assertEquals(0.0, PrometheusText.value(sub.http().metrics(), "edgesync_replication_stalled", "peer=pub"));
  }
}
