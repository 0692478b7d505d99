package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Values at the size limit (1 MiB, as large as a whole batch) replicate among small ones, with
 * gzip on the stream in one direction and off in the other: an entry larger than a batch travels
 * alone and no message exceeds what the receiver accepts.
 */
class LargeValuesReplicateTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  static final int MAX_VALUE_BYTES = 1024 * 1024;

  @Test
  void valuesAtTheSizeLimitReplicateBothWaysWithAndWithoutCompression() {
    Cluster c = cleanup.newCluster("large-values", false);
    c.add("gz", s -> s.replication.put("compression", "true"));
    c.add("plain", s -> s.replication.put("batchMaxBytes", "256KiB"));
    c.connect("gz", "plain").startAll();
    AckedWrites acked = new AckedWrites();
    for (String id : c.ids()) {
      NodeClient n = c.node(id).http();
      Map<String, String> small = new LinkedHashMap<>();
      for (int i = 0; i < 10; i++) {
        // Largest value, just smaller than the limit, exactly at the limit; then small ones around.
        String big = String.valueOf((char) ('a' + i)).repeat(i % 2 == 0 ? MAX_VALUE_BYTES : MAX_VALUE_BYTES - 1);
        acked.add(n.put(id + "/big/" + i, big));
        for (int j = 0; j < 100; j++) {
          small.put(id + "/small/" + i + "/" + j, "s" + j);
        }
      }
      Data.bulk(n, small, acked);
    }
    Map<String, com.fasterxml.jackson.databind.JsonNode> state = c.awaitConverged();
    acked.assertHeldBy("converged state", state);
    assertEquals(MAX_VALUE_BYTES, state.get("gz/big/0").path("value").asText().length());
    assertEquals(MAX_VALUE_BYTES, state.get("plain/big/4").path("value").asText().length());
  }
}
