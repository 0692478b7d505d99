package dev.edgesync.engine.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.transport.Transport;
import dev.edgesync.engine.transport.inmemory.InMemoryTransport;
import dev.edgesync.engine.transport.inmemory.Network;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The convergence suite over {@link InMemoryTransport}, plus faults only it can inject. */
class InMemoryConvergenceTest extends ConvergenceSuite {
  private final Network network = new Network();

  @Override
  Transports transports() {
    return new Transports() {
      @Override
      public Transport create(String nodeId) {
        return network.transport(nodeId);
      }

      @Override
      public String host() {
        return "127.0.0.1";
      }

      @Override
      public int unusedPort() {
        return 1;
      }
    };
  }

  @Test
  void blackholedLinkIsDetectedByHeartbeatsAndRecovers() {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    link(a, b);
    put(a, "before", "1");
    awaitConverged(a, b);

    network.blackhole("site-b", true);
    await()
        .atMost(CONVERGE)
        .untilAsserted(
            () -> {
              String error = a.status("site-b").lastError();
              assertTrue(error != null && error.contains("heard nothing"), String.valueOf(error));
            });
    assertTrue(a.errors("site-b", "heartbeat_timeout") >= 1);
    network.blackhole("site-b", false);
    put(b, "after", "1");
    awaitConverged(a, b);
    assertTrue(a.value("after").equals(Optional.of("1")));
    assertTrue(a.status("site-b").reconnects() >= 1);
  }

  @Test
  void isolatedNodeCatchesUpAfterHealing() {
    TestNode a = start("site-a");
    TestNode b = start("site-b");
    link(a, b);
    network.isolate("site-b");
    for (int i = 0; i < 100; i++) {
      put(a, "during-" + i, "1");
      put(b, "b-during-" + i, "1");
    }
    network.heal("site-b");
    awaitConverged(a, b);
    await().atMost(Duration.ofSeconds(30)).until(() -> a.status("site-b").connected() && b.status("site-a").connected());
  }
}
