package dev.edgesync.engine.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A seed of the simulation replays exactly: run twice, it makes the same writes and faults and
 * every node goes through the same heads and digests after every step, with the same number of
 * loop tasks. Seeds on LevelDB are skipped (its compaction thread is outside the loop).
 */
class SimulationDeterminismTest {
  @Test
  void aSeedRunTwiceGoesThroughTheSameStates() throws Exception {
    Logger engine = (Logger) LoggerFactory.getLogger("dev.edgesync");
    Level previous = engine.getLevel();
    engine.setLevel(Level.ERROR);
    try {
      long base = new SplittableRandom().nextLong();
      System.out.println("determinism base seed " + base);
      SplittableRandom r = new SplittableRandom(base);
      int compared = 0;
      while (compared < 5) {
        long seed = r.nextLong() & Long.MAX_VALUE;
        Simulation.Stats first = SimulationTest.runSeed(seed, false);
        if (first.levelDb) {
          continue;
        }
        Simulation.Stats second = SimulationTest.runSeed(seed, false);
        String replay = "seed " + seed + " (replay: " + Simulation.REPLAY_COMMAND + seed + ")";
        assertEquals(first.trace, second.trace, "trace of heads and digests, " + replay);
        assertEquals(first.tasks, second.tasks, "loop tasks run, " + replay);
        assertEquals(first.acked, second.acked, "acknowledged writes, " + replay);
        assertEquals(first.convergeMillis, second.convergeMillis, "time to converge, " + replay);
        compared++;
      }
    } finally {
      engine.setLevel(previous);
    }
  }
}
