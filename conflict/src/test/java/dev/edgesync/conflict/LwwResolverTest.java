package dev.edgesync.conflict;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LwwResolverTest {

  @Test
  void ordersByClockThenOrigin() {
    assertEquals(Resolution.APPLY, LwwResolver.resolve(null, new Version(1, "a")));
    assertEquals(Resolution.APPLY, LwwResolver.resolve(new Version(1, "z"), new Version(2, "a")));
    assertEquals(Resolution.LOSE, LwwResolver.resolve(new Version(2, "a"), new Version(1, "z")));
    assertEquals(Resolution.APPLY, LwwResolver.resolve(new Version(5, "a"), new Version(5, "b")));
    assertEquals(Resolution.LOSE, LwwResolver.resolve(new Version(5, "b"), new Version(5, "a")));
    assertEquals(Resolution.DUPLICATE, LwwResolver.resolve(new Version(5, "a"), new Version(5, "a")));
  }

  /**
   * Folding any sequence of versions (any order, with duplicates) through the resolver keeps the
   * maximum: the merge is commutative, associative and idempotent, checked against the naive
   * model "the winner is the largest version".
   */
  @Test
  void foldEqualsMaximumWhateverTheOrder() {
    long seed = System.nanoTime();
    System.out.println("LwwResolverTest seed=" + seed);
    SplittableRandom random = new SplittableRandom(seed);
    for (int round = 0; round < 2_000; round++) {
      List<Version> versions = new ArrayList<>();
      int n = 1 + random.nextInt(12);
      for (int i = 0; i < n; i++) {
        // Few distinct clocks and origins, so ties on hlc are common.
        versions.add(new Version(random.nextInt(4), "n" + random.nextInt(3)));
      }
      Version expected = Collections.max(versions);
      for (int i = random.nextInt(5); i > 0; i--) {
        versions.add(versions.get(random.nextInt(versions.size())));
      }
      Collections.shuffle(versions, new Random(random.nextLong()));
      Version stored = null;
      for (Version incoming : versions) {
        if (LwwResolver.resolve(stored, incoming) == Resolution.APPLY) {
          stored = incoming;
        }
      }
      assertEquals(expected, stored, "seed=" + seed + " round " + round + " versions " + versions);
    }
  }
}
