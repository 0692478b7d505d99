package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A seeded random history: three nodes (a full mesh or a chain) write and delete a small set of keys in parallel while
 * their links are cut, blackholed and healed at random and a node is killed with {@code kill -9}
 * and restarted between rounds. After everything heals, every node holds exactly the LWW winners
 * of the writes that were acknowledged.
 *
 * <p>Replay a failure with {@code -Dedgesync.it.seed=<seed>} (the seed is printed and is in every
 * failure message). Thread interleaving is not seeded; the operations are.
 */
class RandomizedPartitionConvergenceTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  /** Rounds per run; raise with -Dedgesync.it.rounds for a longer soak. */
  static final int ROUNDS = Integer.getInteger("edgesync.it.rounds", 8);
  static final int OPS_PER_NODE_PER_ROUND = 15;
  static final int KEYS = 25;

  @Test
  void randomPartitionsKillsAndConflictingWritesConvergeToLwwWinners() throws Exception {
    long seed = Long.getLong("edgesync.it.seed", System.nanoTime());
    System.out.println("RandomizedPartitionConvergenceTest seed=" + seed);
    try {
      run(seed);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("reproduce with -Dedgesync.it.seed=" + seed + ": " + e.getMessage(), e);
    }
  }

  private void run(long seed) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    Cluster c = cleanup.newCluster("random-" + seed, true);
    c.add("r1");
    c.add("r2");
    c.add("r3");
    // A full mesh, or a chain r1-r2-r3 where everything between the ends is relayed by r2.
    boolean chain = random.nextBoolean();
    System.out.println("topology: " + (chain ? "chain" : "full mesh"));
    (chain ? c.chain() : c.fullMesh()).startAll();
    List<String> ids = c.ids();
    AckedWrites acked = new AckedWrites();
    ExecutorService writers = cleanup.track(new ClosingExecutor(Executors.newFixedThreadPool(ids.size()))).executor;

    for (int round = 0; round < ROUNDS; round++) {
      // Each directed link: mostly up, sometimes reset or blackholed.
      for (String from : ids) {
        for (String to : ids) {
          if (c.hasProxy(from, to)) {
            int r = random.nextInt(10);
            c.proxy(from, to).setMode(r < 6 ? FaultProxy.Mode.PASS : r < 8 ? FaultProxy.Mode.RESET : FaultProxy.Mode.BLACKHOLE);
          }
        }
      }
      List<Future<?>> done = new ArrayList<>();
      for (String id : ids) {
        SplittableRandom own = random.split();
        NodeClient node = c.node(id).http();
        int r = round;
        done.add(
            writers.submit(
                () -> {
                  for (int i = 0; i < OPS_PER_NODE_PER_ROUND; i++) {
                    String key = "k" + own.nextInt(KEYS);
                    if (own.nextInt(10) < 3) {
                      acked.add(node.delete(key));
                    } else {
                      acked.add(node.put(key, id + "-round" + r + "-op" + i));
                    }
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      // Between rounds (no write in flight, so every write's outcome is known): sometimes kill -9
      // a node and bring it back on the same data dir.
      if (random.nextInt(3) == 0) {
        NodeProcess victim = c.node(ids.get(random.nextInt(ids.size())));
        victim.kill9();
        victim.start();
      }
    }

    for (String from : ids) {
      for (String to : ids) {
        if (c.hasProxy(from, to)) {
          c.proxy(from, to).setMode(FaultProxy.Mode.PASS);
        }
      }
    }
    acked.assertHeldBy("converged state (seed " + seed + ")", c.awaitConverged());
    for (NodeProcess n : c.nodes()) {
      assertEquals("RUNNING", n.http().status().state(), n.id() + " state");
    }
  }

  /** Shuts an executor down with the test's other resources. */
  private record ClosingExecutor(ExecutorService executor) implements AutoCloseable {
    @Override
    public void close() {
      executor.shutdownNow();
    }
  }
}
