package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Real processes with skewed wall clocks ({@code --clock-offset}). A write made after seeing
 * another wins even when its node's clock is 30 s behind (the HLC advances on every received
 * version). A node whose clock is 2 minutes ahead (beyond the default maxClockSkew of 60 s) is
 * refused with an error naming it, nothing of it is applied, and replication with the others
 * goes on.
 */
class SkewedClockTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void causallyLaterWriteWinsAcrossSkewAndFarFutureClockIsRefused() {
    Cluster c = cleanup.newCluster("skew", false);
    c.add("ontime");
    c.add("behind", s -> s.clockOffset = "-30s");
    c.add("future", s -> s.clockOffset = "120s");
    c.connect("ontime", "behind").connect("ontime", "future").startAll();
    NodeClient ontime = c.node("ontime").http();
    NodeClient behind = c.node("behind").http();
    NodeClient future = c.node("future").http();
    List<String> sane = List.of("ontime", "behind");

    Write first = ontime.put("doc", "written on ontime");
    c.awaitConverged(Cluster.CONVERGENCE, sane);
    Write second = behind.put("doc", "rewritten on behind after seeing it");
    assertTrue(Write.LWW.compare(second, first) > 0, "the causally later write must carry the higher version despite a clock 30 s behind: " + first + " then " + second);
    c.awaitConverged(Cluster.CONVERGENCE, sane);
    assertEquals(Optional.of("rewritten on behind after seeing it"), ontime.get("doc"));

    future.put("from-the-future", "x");
    Status.Peer p =
        c.awaitStatus("ontime", "refusing future's clock", Duration.ofSeconds(30), s -> {
          String e = s.peer("future").lastError();
          return e != null && e.toLowerCase(Locale.ROOT).contains("skew") && e.contains("future");
        }).peer("future");
    assertEquals(0, p.entriesApplied(), "nothing of the far-future peer is applied: " + p);
    assertEquals(Optional.empty(), ontime.get("from-the-future"));
    assertEquals(Optional.of("x"), future.get("from-the-future"), "nothing is lost: the write stays on its node");

    // Replication with the sane peer goes on.
    AckedWrites acked = new AckedWrites();
    acked.add(behind.put("later", "still syncing"));
    acked.add(ontime.put("doc", "final"));
    c.awaitConverged(Cluster.CONVERGENCE, sane);
    assertEquals(Optional.of("still syncing"), ontime.get("later"));
  }
}
