package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code PUT ?acks=1} answers once a peer holds the write durably; with the peer down it answers
 * 504 saying the write is committed locally, and the write is there locally and replicates later.
 */
class AcknowledgedWriteTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void ackedWriteIsOnThePeerAndTimeoutSaysCommittedLocally() {
    Cluster c = cleanup.newCluster("acks", false);
    c.add("writer");
    c.add("replica");
    c.connect("writer", "replica").startAll();
    c.awaitStatus("replica", "subscribed to writer", Cluster.CONVERGENCE, s -> s.peer("writer").connected());
    NodeClient writer = c.node("writer").http();
    NodeClient replica = c.node("replica").http();

    NodeClient.Response ok = writer.putAcked("acked/1", "confirmed", 1, "20s");
    assertEquals(200, ok.status(), "PUT ?acks=1 with a reachable peer: " + ok.body());
    // Acknowledged means the replica committed it: readable there now, without waiting.
    assertEquals(Optional.of("confirmed"), replica.get("acked/1"), "replica holds the acknowledged write");

    NodeProcess replicaNode = c.node("replica");
    replicaNode.kill9();
    NodeClient.Response timedOut = writer.putAcked("acked/2", "unconfirmed", 1, "1s");
    assertEquals(504, timedOut.status(), "PUT ?acks=1 with no reachable peer: " + timedOut.body());
    String error = timedOut.json().path("error").asText();
    assertTrue(error.contains("committed locally"), "504 body must say the write is committed locally: " + timedOut.body());
    assertEquals(Optional.of("unconfirmed"), writer.get("acked/2"), "the unconfirmed write is readable locally");

    replicaNode.start();
    c.awaitConverged();
    assertEquals(Optional.of("unconfirmed"), replica.get("acked/2"), "the write replicated once the peer was back");
    // With the peer back, acknowledged writes work again.
    assertEquals(200, writer.putAcked("acked/3", "again", 1, "20s").status());
    assertEquals(Optional.of("again"), replica.get("acked/3"));
  }
}
