package dev.edgesync.engine.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReplicationSettingsTest {
  @Test
  void defaultsAreTheDesignDefaults() {
    ReplicationSettings s = ReplicationSettings.defaults("site-a", "prod");
    assertEquals(Duration.ofSeconds(1), s.heartbeatInterval());
    assertEquals(Duration.ofSeconds(5), s.heartbeatTimeout());
    assertEquals(Duration.ofMillis(200), s.reconnectBaseDelay());
    assertEquals(Duration.ofSeconds(30), s.reconnectMaxDelay());
    assertEquals(1000, s.batchMaxEntries());
    assertEquals(1024 * 1024, s.batchMaxBytes());
  }

  @Test
  void invalidValuesAreRefusedNamingTheField() {
    ReplicationSettings d = ReplicationSettings.defaults("site-a", "prod");
    assertMessage(() -> ReplicationSettings.defaults("bad id!", "prod"), "replication.nodeId", "bad id!");
    assertMessage(() -> ReplicationSettings.defaults("a", " "), "replication.cluster");
    assertMessage(() -> d.withListen("0.0.0.0", 70000), "replication.listenPort", "70000");
    assertMessage(
        () -> d.withHeartbeat(Duration.ofSeconds(1), Duration.ofMillis(1500)), "replication.heartbeatTimeout", "twice");
    assertMessage(() -> d.withHeartbeat(Duration.ZERO, Duration.ofSeconds(5)), "replication.heartbeatInterval");
    assertMessage(
        () -> d.withReconnect(Duration.ofSeconds(2), Duration.ofSeconds(1)), "replication.reconnectMaxDelay", "reconnectBaseDelay");
    assertMessage(() -> d.withBatch(0, 1 << 20), "replication.batchMaxEntries");
    assertMessage(() -> d.withBatch(10, 64 * 1024 * 1024), "replication.maxInboundMessageBytes", "batchMaxBytes");
  }

  private static void assertMessage(Runnable r, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should mention " + part);
    }
  }
}
