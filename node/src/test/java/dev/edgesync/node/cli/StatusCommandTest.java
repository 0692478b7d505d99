package dev.edgesync.node.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The human-readable {@code edgesync status}: a stalled peer and anti-entropy repairs are visible. */
class StatusCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String print(String peerJson) throws Exception {
    JsonNode s =
        JSON.readTree(
            "{\"nodeId\":\"site-a\",\"cluster\":\"c\",\"state\":\"RUNNING\",\"headSeq\":7,\"digest\":\"d\","
                + "\"grpcPort\":1,\"httpPort\":2,\"failure\":null,\"peers\":[" + peerJson + "]}");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StatusCommand.print(s, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static String peer(String stalledSince, String lastDivergenceAt) {
    return "{\"id\":\"site-b\",\"address\":\"10.0.0.2:7400\",\"connected\":true,\"watermark\":5,\"lagEntries\":42,"
        + "\"lagSeconds\":12.5,\"entriesApplied\":5,\"duplicates\":0,\"conflicts\":0,\"entriesSent\":3,"
        + "\"lastError\":null,\"lastErrorAt\":null,\"stalledSince\":" + stalledSince + ",\"repairs\":2,"
        + "\"keysRepaired\":17,\"lastDivergenceAt\":" + lastDivergenceAt + "}";
  }

  @Test
  void aStalledPeerIsShownAsStalledWithWhenAndHowFarBehind() throws Exception {
    String out = print(peer("\"2026-12-07T10:00:00Z\"", "null"));
    assertTrue(out.contains("STALLED"), out);
    assertTrue(out.contains("peer site-b is STALLED since 2026-12-07T10:00:00Z: connected and 42 entries behind"), out);
    assertFalse(out.contains("anti-entropy found"), out);
  }

  @Test
  void aHealthyPeerShowsItsRepairs() throws Exception {
    String out = print(peer("null", "\"2026-12-07T09:00:00Z\""));
    assertFalse(out.contains("STALLED"), out);
    assertTrue(out.lines().anyMatch(l -> l.startsWith("site-b") && l.contains(" yes ") && l.contains(" 17 ")), out);
    assertTrue(out.contains("anti-entropy found a divergence last at 2026-12-07T09:00:00Z (2 repairs, 17 keys repaired in all)"), out);
  }
}
