package dev.edgesync.node.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.client.EventStreamReader;
import dev.edgesync.node.client.NodeClient;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A changes-feed client that is behind by more than the tombstone horizon would miss the deletes
 * collected meanwhile: the feed starts it again from seq 0 and says why, on the event stream and
 * in a plain answer, while a client that is not that far behind resumes as usual.
 */
class ChangesFeedAfterCollectionTest {
  @TempDir Path dir;

  private NodePair pair;

  @AfterEach
  void stop() {
    if (pair != null) {
      pair.close();
    }
  }

  @Test
  void aClientBehindTheCollectedDeletesStartsAgainFromZeroOthersResume() throws Exception {
    pair = new NodePair(dir, "replication:\n  maxClockSkew: 1s\ngc:\n  interval: 200ms\n  minAge: 2s\n");
    NodeServer a = pair.a;
    NodeClient ca = new NodeClient(URI.create("http://127.0.0.1:" + a.httpAddress().getPort()), Duration.ofSeconds(10));
    assertEquals(200, ca.put("k/1", "v".getBytes(StandardCharsets.UTF_8), null, null).status());
    assertEquals(200, ca.put("k/2", "v".getBytes(StandardCharsets.UTF_8), null, null).status());
    assertEquals(200, ca.delete("k/1").status());
    long deleteSeq = ca.status().get("headSeq").asLong();
    await("the delete is collected on a")
        .atMost(Duration.ofSeconds(60))
        .until(() -> ca.status().path("gc").path("purgedTotal").asLong() >= 1);

    // Behind: resuming after seq 1 would miss the collected delete of k/1.
    try (EventStreamReader r = ca.openChanges("", 1, null)) {
      assertEquals("open", r.next().name());
      EventStreamReader.Event reset = r.next();
      assertNotNull(reset);
      assertEquals("reset", reset.name());
      JsonNode d = Json.MAPPER.readTree(reset.data());
      assertTrue(d.get("reason").asText().contains("collected"), d.toString());
      EventStreamReader.Event first = r.next();
      assertEquals("change", first.name());
      assertEquals("k/2", Json.MAPPER.readTree(first.data()).get("key").asText(), "from seq 0: the live keys");
    }
    JsonNode plain = ca.getPath("/changes?since=1").json();
    assertTrue(plain.path("reset").asBoolean(), plain.toString());
    assertEquals(List.of("k/2"), plain.path("results").findValuesAsText("key"));

    // Not behind: a client that had seen the delete resumes after it, without a reset.
    assertEquals(200, ca.put("k/3", "v".getBytes(StandardCharsets.UTF_8), null, null).status());
    JsonNode resumed = ca.getPath("/changes?since=" + deleteSeq).json();
    assertTrue(!resumed.path("reset").asBoolean(), resumed.toString());
    assertEquals(List.of("k/3"), resumed.path("results").findValuesAsText("key"));
  }
}
