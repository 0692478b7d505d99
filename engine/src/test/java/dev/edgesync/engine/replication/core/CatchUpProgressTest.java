package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class CatchUpProgressTest {
  private final Instant t0 = Instant.parse("2026-11-22T10:00:00Z");

  @Test
  void reportsAtMostEveryFiveSecondsWithRateAndEta() {
    CatchUpProgress p = new CatchUpProgress();
    assertNull(p.onCommitted(t0, 1000, 10_000, 1000), "the first batch starts the clock");
    assertNull(p.onCommitted(t0.plusSeconds(4), 4000, 10_000, 3000), "less than 5 s: quiet");
    String line = p.onCommitted(t0.plusSeconds(5), 5000, 10_000, 1000);
    assertNotNull(line);
    assertTrue(line.contains("5000 entries applied"), line);
    assertTrue(line.contains("at seq 5000 of 10000 (50%)"), line);
    assertTrue(line.contains("1000 entries/s"), line);
    assertTrue(line.contains("ETA 6 s"), line);
    assertNull(p.onCommitted(t0.plusSeconds(6), 6000, 10_000, 1000));
    String done = p.onCommitted(t0.plusSeconds(9), 10_000, 10_000, 4000);
    assertNotNull(done);
    assertTrue(done.startsWith("caught up at seq 10000: 10000 entries in 9.0 s"), done);
  }

  @Test
  void shortCatchUpLogsNothing() {
    CatchUpProgress p = new CatchUpProgress();
    assertNull(p.onCommitted(t0, 10, 20, 10));
    assertNull(p.onCommitted(t0.plusSeconds(1), 20, 20, 10));
    assertEquals(null, p.onCommitted(t0.plusSeconds(100), 30, 30, 10));
  }
}
