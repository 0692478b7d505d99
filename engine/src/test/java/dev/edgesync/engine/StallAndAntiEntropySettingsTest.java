package dev.edgesync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.replication.AntiEntropySettings;
import dev.edgesync.engine.replication.ReplicationSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code replication.stallTimeout}, {@code antiEntropySettle}, {@code antiEntropyMinInterval} and
 * {@code repairMaxEntries} reach the replication settings from the builder, default as documented
 * and are refused with the field and the value named.
 */
class StallAndAntiEntropySettingsTest {
  @TempDir Path dir;

  private SyncNode.Builder builder() {
    return SyncNode.builder().nodeId("a").dataDir(dir).listen("127.0.0.1:0");
  }

  @Test
  void unsetValuesTakeTheirDefaultsAndTheStallTimeoutFollowsTheHeartbeatTimeout() {
    ReplicationSettings s = builder().build().config().replicationSettings();
    assertEquals(Defaults.STALL_TIMEOUT, s.stallTimeout());
    assertEquals(Duration.ofSeconds(15), s.stallTimeout());
    assertEquals(AntiEntropySettings.DEFAULTS, s.antiEntropy());

    ReplicationSettings slow =
        builder().heartbeatTimeout(Duration.ofSeconds(8)).build().config().replicationSettings();
    assertEquals(Duration.ofSeconds(24), slow.stallTimeout(), "3 x heartbeatTimeout when not set");
  }

  @Test
  void setValuesReachTheReplicationSettings() {
    ReplicationSettings s =
        builder()
            .stallTimeout(Duration.ofSeconds(4))
            .antiEntropySettle(Duration.ZERO)
            .antiEntropyMinInterval(Duration.ofSeconds(2))
            .repairMaxEntries(500)
            .build()
            .config()
            .replicationSettings();
    assertEquals(Duration.ofSeconds(4), s.stallTimeout());
    assertEquals(new AntiEntropySettings(Duration.ZERO, Duration.ofSeconds(2), 500), s.antiEntropy());
  }

  @Test
  void badValuesAreRefusedNamingTheField() {
    ConfigException zero = assertThrows(ConfigException.class, () -> builder().stallTimeout(Duration.ZERO));
    assertTrue(zero.getMessage().contains("replication.stallTimeout"), zero.getMessage());
    ConfigException negative =
        assertThrows(ConfigException.class, () -> builder().antiEntropySettle(Duration.ofSeconds(-1)));
    assertTrue(negative.getMessage().contains("replication.antiEntropySettle"), negative.getMessage());
    assertThrows(ConfigException.class, () -> builder().antiEntropyMinInterval(null));
    ConfigException entries = assertThrows(ConfigException.class, () -> builder().repairMaxEntries(0));
    assertTrue(entries.getMessage().contains("replication.repairMaxEntries"), entries.getMessage());

    ConfigException tooShort =
        assertThrows(
            ConfigException.class,
            () -> builder().heartbeatInterval(Duration.ofSeconds(2)).stallTimeout(Duration.ofSeconds(3)).build());
    assertTrue(tooShort.getMessage().contains("replication.stallTimeout"), tooShort.getMessage());
    assertTrue(tooShort.getMessage().contains("PT3S"), tooShort.getMessage());
  }

  @Test
  void replicationSettingsValidateTheStallTimeoutAndKeepADerivedOneDerived() {
    ReplicationSettings d = ReplicationSettings.defaults("a", "c");
    assertEquals(Duration.ofSeconds(15), d.stallTimeout());
    assertEquals(Duration.ofSeconds(30), d.withHeartbeat(Duration.ofSeconds(2), Duration.ofSeconds(10)).stallTimeout());
    ReplicationSettings set = d.withStallTimeout(Duration.ofSeconds(7));
    assertEquals(Duration.ofSeconds(7), set.withHeartbeat(Duration.ofSeconds(2), Duration.ofSeconds(10)).stallTimeout());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> d.withStallTimeout(Duration.ofMillis(1500)));
    assertTrue(e.getMessage().startsWith("invalid replication.stallTimeout: 'PT1.5S'"), e.getMessage());
  }
}
