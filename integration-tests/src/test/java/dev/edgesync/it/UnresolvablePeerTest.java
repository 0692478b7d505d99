package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A peer whose name does not resolve: the node's log says so in its own format, one line per
 * report, with grpc's own warning at most once per cause (no stack trace every few seconds), and
 * {@code lastError} is one line naming the host.
 */
class UnresolvablePeerTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void anUnresolvablePeerIsReportedInOneLineOncePerCause() {
    NodeSpec spec = new NodeSpec("shop-1", cleanup.newDir("shop-1"));
    spec.peer("ghost", "nosuchhost.invalid:7400");
    NodeProcess node = cleanup.track(new NodeProcess(spec));
    node.start();
    Status status =
        await("several attempts to reach the unresolvable peer")
            // A resolver without an answer at hand may take seconds per lookup.
            .atMost(Duration.ofSeconds(90))
            .until(() -> node.http().status(), s -> s.peer("ghost").reconnects() >= 3);
    String error = status.peer("ghost").lastError();
    assertTrue(error.contains("Unable to resolve host nosuchhost.invalid") && !error.contains("\n"), error);

    List<String> lines = node.log().lines().toList();
    List<String> grpc = lines.stream().filter(l -> l.contains("Failed to resolve name")).toList();
    assertEquals(1, grpc.size(), "grpc's warning once for one cause: " + grpc);
    assertTrue(grpc.get(0).matches("^\\d{4}-\\d\\d-\\d\\dT.* WARN .*grpc: .*"), "in the node's format: " + grpc.get(0));
    assertFalse(lines.stream().anyMatch(l -> l.startsWith("\tat ") || l.startsWith("WARNING:")),
        "no stack trace and no java.util.logging format:\n" + node.tail(20));
  }
}
