package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * A wall clock that steps backwards must not suspend heartbeats or dead-stream detection for the
 * size of the step. Found by the simulation (seed 5200278079026577477): after a clock step of
 * minutes back, a stream that had gone dead while black-holed was not replaced for minutes, so
 * the cluster did not converge within two minutes of healing; and the node sent no heartbeats
 * for as long, so its peers dropped its healthy streams.
 */
class LivenessClockStepBackTest {
  private static final Duration INTERVAL = Duration.ofSeconds(1);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final Instant T0 = Instant.parse("2026-01-01T00:10:00Z");

  @Test
  void silenceAfterABackwardStepIsCountedFromTheStep() {
    Liveness liveness = new Liveness(INTERVAL, TIMEOUT, T0);
    liveness.heard(T0);
    Instant stepped = T0.minus(Duration.ofMinutes(4));
    assertFalse(liveness.timedOut(stepped));
    assertFalse(liveness.timedOut(stepped.plus(TIMEOUT).minusMillis(1)));
    assertTrue(liveness.timedOut(stepped.plus(TIMEOUT)), "timed out one timeout after the step, not four minutes later");
  }

  @Test
  void heartbeatsContinueAfterABackwardStep() {
    Liveness liveness = new Liveness(INTERVAL, TIMEOUT, T0);
    liveness.sent(T0);
    Instant stepped = T0.minus(Duration.ofMinutes(4));
    assertFalse(liveness.heartbeatDue(stepped));
    assertTrue(liveness.heartbeatDue(stepped.plus(INTERVAL)), "a heartbeat is due one interval after the step");
  }

  @Test
  void aHeartbeatHeardAfterTheStepRestartsTheSilence() {
    Liveness liveness = new Liveness(INTERVAL, TIMEOUT, T0);
    Instant stepped = T0.minus(Duration.ofMinutes(4));
    liveness.heard(stepped.plusSeconds(3));
    assertFalse(liveness.timedOut(stepped.plusSeconds(7)));
    assertTrue(liveness.timedOut(stepped.plusSeconds(8)));
  }

  @Test
  void aForwardStepStillTimesOut() {
    Liveness liveness = new Liveness(INTERVAL, TIMEOUT, T0);
    assertTrue(liveness.timedOut(T0.plus(Duration.ofMinutes(4))));
  }
}
