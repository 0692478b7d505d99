package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code PUT ?acks=n} answers once {@code n} peers hold the write durably; with too few peers up
 * it answers 504 saying the write is committed locally, and the write is there locally and
 * replicates later.
 */
class AcknowledgedWriteTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  private static void assertCommittedLocallyOnly(NodeClient.Response r, String what) {
    assertEquals(504, r.status(), what + ": " + r.body());
    assertTrue(r.json().path("error").asText().contains("committed locally"), what + ": the 504 body must say the write is committed locally: " + r.body());
  }

  @Test
  void ackedWriteIsOnThePeersAndTimeoutSaysCommittedLocally() {
    Cluster c = cleanup.newCluster("acks", false);
    c.add("writer");
    c.add("r1");
    c.add("r2");
    c.connect("writer", "r1").connect("writer", "r2").startAll();
    for (String r : new String[] {"r1", "r2"}) {
      c.awaitStatus(r, "subscribed to writer", Cluster.CONVERGENCE, s -> s.peer("writer").connected());
    }
    NodeClient writer = c.node("writer").http();
    NodeClient r1 = c.node("r1").http();
    NodeClient r2 = c.node("r2").http();

    NodeClient.Response both = writer.putAcked("acked/both", "two", 2, "20s");
    assertEquals(200, both.status(), "PUT ?acks=2 with both peers up: " + both.body());
    // Acknowledged means committed there: readable on both replicas now, without waiting.
    assertEquals(Optional.of("two"), r1.get("acked/both"));
    assertEquals(Optional.of("two"), r2.get("acked/both"));

    NodeProcess r2Node = c.node("r2");
    r2Node.kill9();
    NodeClient.Response one = writer.putAcked("acked/one", "one", 1, "20s");
    assertEquals(200, one.status(), "PUT ?acks=1 with one of two peers up: " + one.body());
    assertEquals(Optional.of("one"), r1.get("acked/one"));
    assertCommittedLocallyOnly(writer.putAcked("acked/not-two", "x", 2, "1s"), "PUT ?acks=2 with one peer down");

    NodeProcess r1Node = c.node("r1");
    r1Node.kill9();
    assertCommittedLocallyOnly(writer.putAcked("acked/none", "unconfirmed", 1, "1s"), "PUT ?acks=1 with no peer up");
    assertEquals(Optional.of("unconfirmed"), writer.get("acked/none"), "the unconfirmed write is readable locally");
    assertEquals(Optional.of("x"), writer.get("acked/not-two"), "the unconfirmed write is readable locally");

    r1Node.start();
    r2Node.start();
    c.awaitConverged();
    assertEquals(Optional.of("unconfirmed"), r2.get("acked/none"), "the unconfirmed write replicated once the peers were back");
    NodeClient.Response again = writer.putAcked("acked/again", "again", 2, "20s");
    assertEquals(200, again.status(), "PUT ?acks=2 after both peers came back: " + again.body());
    assertEquals(Optional.of("again"), r2.get("acked/again"));
  }
}
