package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private static final Duration BASE = Duration.ofMillis(200);
  private static final Duration CAP = Duration.ofSeconds(30);

  @Test
  void delaysStayBetweenBaseAndAGrowingCeilingCappedAtMax() {
    long seed = ThreadLocalRandom.current().nextLong();
    System.out.println("BackoffTest seed=" + seed);
    Backoff backoff = new Backoff(BASE, CAP, new SplittableRandom(seed));
    for (int n = 0; n < 40; n++) {
      long ceiling = Math.min(CAP.toNanos(), BASE.toNanos() << Math.min(n + 1, 20));
      Duration d = backoff.nextDelay();
      assertTrue(d.compareTo(BASE) >= 0, "attempt " + n + ": " + d + " below base (seed " + seed + ")");
      assertTrue(d.toNanos() <= ceiling, "attempt " + n + ": " + d + " above " + ceiling + " (seed " + seed + ")");
    }
  }

  @Test
  void fullJitterSpreadsDelaysOverTheWindow() {
    long seed = ThreadLocalRandom.current().nextLong();
    System.out.println("BackoffTest seed=" + seed);
    SplittableRandom random = new SplittableRandom(seed);
    Set<Long> distinct = new HashSet<>();
    long below = 0;
    long above = 0;
    for (int i = 0; i < 2000; i++) {
      Backoff b = new Backoff(BASE, CAP, random);
      for (int n = 0; n < 10; n++) {
        b.nextDelay();
      }
      // The 11th window is [200 ms, 30 s] (capped).
      long d = b.nextDelay().toMillis();
      distinct.add(d);
      if (d < 15_100) {
        below++;
      } else {
        above++;
      }
    }
    assertTrue(distinct.size() > 1000, "jitter produced only " + distinct.size() + " distinct delays (seed " + seed + ")");
    // Uniform over the window: each half gets roughly half (very loose bounds, 2000 draws).
    assertTrue(below > 800 && above > 800, "below=" + below + " above=" + above + " (seed " + seed + ")");
  }

  @Test
  void resetStartsOverFromTheFirstWindow() {
    Backoff backoff = new Backoff(BASE, CAP, new SplittableRandom(1));
    for (int n = 0; n < 10; n++) {
      backoff.nextDelay();
    }
    assertEquals(10, backoff.attempts());
    backoff.reset();
    assertEquals(0, backoff.attempts());
    assertTrue(backoff.nextDelay().toMillis() <= 400);
  }

  @Test
  void sameSeedSameDelays() {
    Backoff a = new Backoff(BASE, CAP, new SplittableRandom(42));
    Backoff b = new Backoff(BASE, CAP, new SplittableRandom(42));
    for (int n = 0; n < 20; n++) {
      assertEquals(a.nextDelay(), b.nextDelay());
    }
  }

  @Test
  void baseEqualToCapGivesConstantDelay() {
    Backoff b = new Backoff(BASE, BASE, new SplittableRandom(3));
    for (int n = 0; n < 5; n++) {
      assertEquals(BASE, b.nextDelay());
    }
  }
}
