package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two node processes given the same id by mistake, each listing the other (under another name):
 * both are told exactly that, not "tried to subscribe to itself", and neither takes the other's
 * data.
 */
class SameIdTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void twoNodesWithOneIdAreToldSo() {
    NodeSpec first = new NodeSpec("shop-1", cleanup.newDir("first"));
    NodeSpec second = new NodeSpec("shop-1", cleanup.newDir("second"));
    first.peer("shop-2", second.grpcAddress());
    second.peer("shop-2", first.grpcAddress());
    NodeProcess a = cleanup.track(new NodeProcess(first));
    NodeProcess b = cleanup.track(new NodeProcess(second));
    a.start();
    b.start();
    a.http().put("only-on-first", "v");
    for (NodeProcess n : new NodeProcess[] {a, b}) {
      await("node " + n.spec.dir + " is told that another node uses its id")
          .atMost(Duration.ofSeconds(30))
          .until(() -> n.log().contains("another node also uses the id 'shop-1'"));
      String line = n.log().lines().filter(l -> l.contains("another node also uses the id")).findFirst().orElseThrow();
      System.out.println("told: " + line);
      assertTrue(line.contains("give one of them another id"), "the message names the fix: " + line);
    }
    assertTrue(b.http().get("only-on-first").isEmpty(), "the second node took nothing from the first");
  }
}
