package dev.edgesync.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PeerEnvSourceTest {

  @Test
  void unsetVariableGivesNothingSoLowerSourcesApply() {
    assertEquals(Optional.empty(), PeerEnvSource.read(Map.of("PATH", "/bin")));
  }

  @Test
  void setVariableIsParsed() {
    Optional<PeerSet> peers =
        PeerEnvSource.read(Map.of("EDGESYNC_PEERS", "site-b=host-b:7400,site-c=host-c:7400"));

    assertEquals(
        Optional.of(
            PeerSet.of(PeerSpec.of("site-b", "host-b:7400"), PeerSpec.of("site-c", "host-c:7400"))),
        peers);
  }

  @Test
  void blankVariableIsAnExplicitEmptySet() {
    Optional<PeerSet> peers = PeerEnvSource.read(Map.of("EDGESYNC_PEERS", " "));

    assertTrue(peers.orElseThrow().isEmpty());
  }

  @Test
  void badValueNamesTheVariable() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> PeerEnvSource.read(Map.of("EDGESYNC_PEERS", "site-b=host-b")));

    assertEquals("environment variable EDGESYNC_PEERS", e.getSource());
    assertTrue(
        e.getMessage()
            .startsWith(
                "environment variable EDGESYNC_PEERS: peers[0].address: port is missing"
                    + " (got 'host-b')"),
        e.getMessage());
  }
}
