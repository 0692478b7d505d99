package dev.edgesync.node.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.discovery.PeerSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Run-time peer changes on top of the configured peers: precedence, persistence, a damaged file. */
class RuntimePeersTest {
  @TempDir Path dir;

  private static final PeerSpec B = PeerSpec.of("b", "10.0.0.2:7400");
  private static final PeerSpec C = PeerSpec.of("c", "10.0.0.3:7400");

  @Test
  void changesApplyOnTopOfTheConfigAndSurviveAReloadAndAConfigChange() {
    RuntimePeers peers = RuntimePeers.load(dir, "a", List.of(B, C));
    List<List<PeerSpec>> applied = new ArrayList<>();
    peers.attach(applied::add);
    peers.put(PeerSpec.of("d", "10.0.0.4:7400"));
    peers.put(PeerSpec.of("b", "10.0.0.20:7400"));
    assertTrue(peers.remove("c").isPresent());
    assertEquals(List.of("b=10.0.0.20:7400", "d=10.0.0.4:7400"), text(peers.effective()));
    assertEquals(3, applied.size(), "each change reaches the node");
    assertEquals(List.of("c"), peers.removedConfigured());

    // A restart reads them back; they win over the configuration, also when the file changes.
    RuntimePeers again = RuntimePeers.load(dir, "a", List.of(B, C));
    assertEquals(text(peers.effective()), text(again.effective()));
    again.configuredChanged(List.of(B, C, PeerSpec.of("e", "10.0.0.5:7400")), java.util.Set.of("e"));
    assertEquals(RuntimePeers.Source.DNS, again.list().get(0).source(), "e was found in DNS");
    assertEquals(List.of("e=10.0.0.5:7400", "b=10.0.0.20:7400", "d=10.0.0.4:7400"), text(again.effective()));

    // reset hands a peer back to the configuration.
    assertTrue(again.reset("c"));
    assertTrue(again.reset("b"));
    assertFalse(again.reset("b"));
    assertEquals(List.of("b=10.0.0.2:7400", "c=10.0.0.3:7400", "e=10.0.0.5:7400", "d=10.0.0.4:7400"), text(again.effective()));
    // Removing a peer added at run time leaves no trace.
    assertTrue(again.remove("d").isPresent());
    assertTrue(RuntimePeers.load(dir, "a", List.of()).effective().isEmpty());
  }

  @Test
  void aNodeIsNotItsOwnPeer() {
    RuntimePeers peers = RuntimePeers.load(dir, "a", List.of());
    assertThrows(IllegalArgumentException.class, () -> peers.put(PeerSpec.of("a", "10.0.0.1:7400")));
  }

  @Test
  void aDamagedFileStopsTheStartNamingTheFileAndTheFix() throws Exception {
    Files.writeString(dir.resolve(RuntimePeers.FILE), "{\"peers\": [{\"id\": \"b\", \"address\": \"nohost\"}]}");
    IllegalStateException bad = assertThrows(IllegalStateException.class, () -> RuntimePeers.load(dir, "a", List.of(B)));
    assertTrue(bad.getMessage().contains(dir.resolve(RuntimePeers.FILE).toString()) && bad.getMessage().contains("move it aside"),
        bad.getMessage());
    Files.writeString(dir.resolve(RuntimePeers.FILE), "{\"peers\": ");
    assertThrows(IllegalStateException.class, () -> RuntimePeers.load(dir, "a", List.of(B)));
  }

  private static List<String> text(List<PeerSpec> peers) {
    return peers.stream().map(PeerSpec::toString).toList();
  }
}
