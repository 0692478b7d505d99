package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The stale-data rule of Hello and Welcome, case by case (see docs/ARCHITECTURE.md, "Deletes that go away"). */
class StaleDataTest {
  private static final long H = 1_000_000; // this node purged tombstones below H

  @Test
  void nothingOlderThanTheHorizonIsNeverStale() {
    assertNull(StaleData.check(0, Long.MAX_VALUE, 0, false, 0, H), "empty");
    assertNull(StaleData.check(0, H, 0, false, 0, H), "only newer versions");
    assertNull(StaleData.check(0, 5, 0, false, 0, 0), "nothing purged here");
  }

  @Test
  void oldDataIsStaleUnlessCountedAndStablePastTheHorizon() {
    String newcomer = StaleData.check(H + 5, 5, 0, false, 0, H);
    assertNotNull(newcomer);
    assertTrue(newcomer.contains("not counted"), newcomer);
    assertNotNull(StaleData.check(H - 1, 5, 0, true, H - 1, H), "counted but not stable past the horizon");
    assertNull(StaleData.check(H, 5, 0, true, H, H), "counted and stable past it");
  }

  @Test
  void aDatabaseCreatedEmptyAfterTheHorizonGotItsOldVersionsFromTheCluster() {
    // A new node whose first sync was cut off: created after the horizon, stable 0, never counted.
    assertNull(StaleData.check(0, 5, H + 10, false, 0, H));
    // The same, counted at 0 through its acks.
    assertNull(StaleData.check(0, 5, H + 10, false, 0, H));
    // A restored copy of such a node went back from what it told us: the usual rule applies.
    assertNotNull(StaleData.check(0, 5, H + 10, true, H + 500, H));
    // A database created before the horizon (offline writes older than it, or unknown: 0).
    assertNotNull(StaleData.check(0, 5, H - 1, false, 0, H));
    assertNotNull(StaleData.check(0, 5, 0, false, 0, H));
  }
}
