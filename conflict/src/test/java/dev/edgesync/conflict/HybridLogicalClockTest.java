package dev.edgesync.conflict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HybridLogicalClockTest {
  private static final long T0 = 1_763_800_000_000L;

  @Test
  void followsWallClockWhenItMovesForward() {
    ManualClock wall = new ManualClock(T0);
    HybridLogicalClock hlc = new HybridLogicalClock(wall, Duration.ofSeconds(60), 0);
    long a = hlc.now();
    assertEquals(T0, Hlc.physicalMillis(a));
    assertEquals(0, Hlc.logical(a));
    wall.advance(5);
    long b = hlc.now();
    assertEquals(T0 + 5, Hlc.physicalMillis(b));
    assertEquals(0, Hlc.logical(b));
  }

  @Test
  void peekFollowsTheWallClockNeverGoesBackAndIssuesNothing() {
    ManualClock wall = new ManualClock(T0);
    HybridLogicalClock hlc = new HybridLogicalClock(wall, Duration.ofSeconds(60), 0);
    assertEquals(Hlc.of(T0, 0), hlc.peek());
    wall.advance(10_000);
    long ahead = hlc.peek();
    assertEquals(Hlc.of(T0 + 10_000, 0), ahead);
    wall.advance(-9_000); // the wall clock is set back
    assertEquals(ahead, hlc.peek(), "an expiry once passed stays passed");
    assertEquals(0, hlc.current(), "a peek issues no timestamp");
  }

  @Test
  void strictlyMonotonicWhenWallClockJumpsBackwards() {
    long seed = System.nanoTime();
    System.out.println("HybridLogicalClockTest seed=" + seed);
    SplittableRandom random = new SplittableRandom(seed);
    ManualClock wall = new ManualClock(T0);
    HybridLogicalClock hlc = new HybridLogicalClock(wall, Duration.ofSeconds(60), 0);
    long previous = hlc.now();
    for (int i = 0; i < 100_000; i++) {
      // Jumps of up to +-262 s, biased neither way.
      wall.advance(random.nextLong(-262_000, 262_001) / (random.nextInt(1000) + 1));
      long next = hlc.now();
      assertTrue(next > previous, "seed=" + seed + " step " + i + ": " + next + " <= " + previous);
      previous = next;
    }
  }

  @Test
  void logicalOverflowCarriesIntoPhysicalPart() {
    ManualClock wall = new ManualClock(T0);
    HybridLogicalClock hlc = new HybridLogicalClock(wall, Duration.ofSeconds(60), 0);
    long previous = hlc.now();
    for (int i = 0; i < 3 * (Hlc.MAX_LOGICAL + 1); i++) {
      long next = hlc.now();
      assertTrue(next > previous);
      previous = next;
    }
    assertEquals(T0 + 3, Hlc.physicalMillis(previous));
  }

  @Test
  void laterLocalEventsExceedReceivedTimestamps() throws Exception {
    ManualClock wall = new ManualClock(T0);
    HybridLogicalClock hlc = new HybridLogicalClock(wall, Duration.ofSeconds(60), 0);
    long remote = Hlc.of(T0 + 30_000, 42); // a peer 30 s ahead, within the limit
    hlc.update(remote);
    assertTrue(hlc.now() > remote);
    assertEquals(remote + 1, hlc.current());
  }

  @Test
  void refusesFarFutureRemoteTimestampsAndStaysUnchanged() {
    ManualClock wall = new ManualClock(T0);
    HybridLogicalClock hlc = new HybridLogicalClock(wall, Duration.ofSeconds(60), 0);
    long before = hlc.now();
    long remote = Hlc.of(T0 + 75_000, 0);
    ClockSkewException e = assertThrows(ClockSkewException.class, () -> hlc.update(remote));
    assertEquals(Duration.ofSeconds(75), e.offset());
    assertTrue(e.getMessage().contains("75000 ms ahead"), e.getMessage());
    assertTrue(e.getMessage().contains("maxClockSkew"), e.getMessage());
    assertEquals(before, hlc.current());
  }

  @Test
  void acceptsRemoteTimestampsExactlyAtTheLimit() throws Exception {
    ManualClock wall = new ManualClock(T0);
    HybridLogicalClock hlc = new HybridLogicalClock(wall, Duration.ofSeconds(60), 0);
    hlc.update(Hlc.of(T0 + 60_000, Hlc.MAX_LOGICAL));
    assertEquals(Hlc.of(T0 + 60_000, Hlc.MAX_LOGICAL), hlc.current());
  }

  @Test
  void restartFromPersistedHighWaterMarkNeverGoesBack() {
    ManualClock wall = new ManualClock(T0);
    HybridLogicalClock first = new HybridLogicalClock(wall, Duration.ofSeconds(60), 0);
    long last = 0;
    for (int i = 0; i < 10; i++) {
      last = first.now();
    }
    wall.set(T0 - 10_000); // the machine restarts with its clock 10 s behind
    HybridLogicalClock second = new HybridLogicalClock(wall, Duration.ofSeconds(60), first.current());
    assertTrue(second.now() > last);
  }

  @Test
  void rejectsInvalidConfiguration() {
    ManualClock wall = new ManualClock(T0);
    assertThrows(IllegalArgumentException.class, () -> new HybridLogicalClock(wall, Duration.ZERO, 0));
    assertThrows(IllegalArgumentException.class, () -> new HybridLogicalClock(wall, Duration.ofSeconds(1), -1));
    assertThrows(IllegalArgumentException.class, () -> Hlc.of(-1, 0));
    assertThrows(IllegalArgumentException.class, () -> Hlc.of(0, Hlc.MAX_LOGICAL + 1));
  }
}
