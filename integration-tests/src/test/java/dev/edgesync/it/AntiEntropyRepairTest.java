package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.StoreSurgery;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Anti-entropy with real processes: a difference planted in a stopped node's database below the
 * replication layer (a row removed and a stale version written, the recorded digest kept
 * consistent, as a silent loss would leave it) is found and repaired by the running cluster with
 * the default settings, and shows in the node's metrics and log.
 */
class AntiEntropyRepairTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void aDivergencePlantedInOneNodesDatabaseIsRepaired() throws Exception {
    Cluster c = cleanup.newCluster("ae", false);
    c.add("n0");
    c.add("n1");
    c.add("n2");
    c.fullMesh().startAll();
    AckedWrites acked = new AckedWrites();
    Data.bulk(c.node("n0").http(), Data.keys("a/", 300, "n0"), acked);
    Data.bulk(c.node("n1").http(), Data.keys("b/", 300, "n1"), acked);
    acked.assertHeldBy("state before the damage", c.awaitConverged());
    for (String sub : c.ids()) {
      for (String pub : c.ids()) {
        if (!sub.equals(pub)) {
          c.awaitWatermarkAtHead(sub, pub);
        }
      }
    }

    NodeProcess damaged = c.node("n2");
    assertEquals(0, damaged.terminate(), "exit code of SIGTERM");
    try (LevelDbKvStore kv = LevelDbKvStore.open(damaged.spec.dataDir.resolve("db"))) {
      StoreSurgery.removeKey(kv, bytes("a/00007"));
      StoreSurgery.replaceVersion(kv, bytes("b/00008"), bytes("stale"), new Version(1L << 16, "n9"));
    }
    damaged.start();
    NodeClient n2 = damaged.http();
    String digestBefore = n2.status().digest();
    assertNotEquals(c.node("n0").http().status().digest(), digestBefore, "test premise: n2 differs");

    acked.assertHeldBy("state after anti-entropy", c.awaitConverged());
    assertEquals(Optional.of("n0:a/00007"), n2.get("a/00007"));
    assertEquals(Optional.of("n1:b/00008"), n2.get("b/00008"));
    String metrics = n2.metrics();
    assertTrue(
        PrometheusText.value(metrics, "edgesync_replication_antientropy_keys_repaired_total") >= 2,
        "keys repaired in n2's metrics:\n" + metrics);
    assertTrue(PrometheusText.value(metrics, "edgesync_replication_antientropy_repairs_total") >= 1);
    assertTrue(
        damaged.log().lines().anyMatch(l -> l.contains("WARN") && l.contains("anti-entropy round") && l.contains("keys repaired")),
        "n2 logs the repair; log " + damaged.logFile());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
