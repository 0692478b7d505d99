package dev.edgesync.engine.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.replication.AntiEntropySettings;
import dev.edgesync.engine.replication.GcSettings;
import dev.edgesync.engine.replication.ReplicationSettings;
import dev.edgesync.engine.storage.StoreSurgery;
import dev.edgesync.engine.transport.inmemory.Network;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tombstone collection where membership changes, on the simulation's deterministic loop: a node
 * that ran alone joins a cluster; two clusters that each collected are joined; anti-entropy gives
 * back a value older than the purge horizon that a node lost.
 */
class GcMembershipTest {
  @TempDir Path root;

  private final SimLoop loop = new SimLoop(new SplittableRandom(7), 100);
  private final Network network = new Network(loop.view("network"));
  private final GcSettings gc = new GcSettings(Duration.ofMillis(500), Duration.ofSeconds(2), 1_000, true);

  private SimNode node(String id) {
    return node(id, gc);
  }

  private SimNode node(String id, GcSettings gc) {
    ReplicationSettings s =
        ReplicationSettings.defaults(id, "sim")
            .withListen(id, SimNode.PORT)
            .withHeartbeat(Duration.ofMillis(100), Duration.ofMillis(1_000))
            .withReconnect(Duration.ofMillis(20), Duration.ofMillis(1_000))
            .withBatch(100, Defaults.BATCH_MAX_BYTES)
            .withAntiEntropy(new AntiEntropySettings(Duration.ofMillis(500), Duration.ofSeconds(1), 1_000))
            .withGc(gc);
    return new SimNode(id, root.resolve(id), loop, network, false, Duration.ofSeconds(1), s, 100, 1);
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void write(SimNode n, String key, String value) {
    n.store.submitLocal(b(key), value == null ? null : b(value));
    loop.runUntilQuiet();
  }

  private boolean has(SimNode n, String key) {
    return n.store.get(b(key)).filter(e -> !e.tombstone()).isPresent();
  }

  @Test
  void aNodeThatRanAloneJoinsWithEverythingKeptBothWays() {
    // Within gc.minAge of its first write, a node new to the cluster joins with all its data.
    GcSettings tenMinutes = new GcSettings(Duration.ofMillis(500), Duration.ofMinutes(10), 1_000, true);
    SimNode a = node("a", tenMinutes);
    SimNode bb = node("b", tenMinutes);
    SimNode c = node("c", tenMinutes);
    a.start(List.of("b"));
    bb.start(List.of("a"));
    c.start(List.of());
    for (int i = 0; i < 5; i++) {
      write(a, "k" + i, "v");
      write(c, "c" + i, "v");
    }
    write(a, "gone", "v");
    write(a, "gone", null);
    loop.advance(60_000);
    assertTrue(a.engine.gcStatus().horizonHlc() > 0, "a and b are stable: " + a.engine.gcStatus());
    assertEquals(0, c.engine.gcStatus().stableHlc(), "c pulls from no one: it never becomes stable");

    c.engine.addPeer(new PeerSpec("a", "a", SimNode.PORT));
    a.engine.addPeer(new PeerSpec("c", "c", SimNode.PORT));
    loop.advance(30_000);
    for (int i = 0; i < 5; i++) {
      assertTrue(has(c, "k" + i), "c got a's k" + i);
      assertTrue(has(a, "c" + i), "a got c's acknowledged c" + i);
      assertTrue(has(bb, "c" + i), "b got c's acknowledged c" + i);
    }
    assertEquals(a.store.digest(), c.store.digest());
    assertEquals(a.store.digest(), bb.store.digest());
  }

  @Test
  void twoClustersThatEachCollectedAreRefusedInsteadOfDroppingEachOthersData() {
    SimNode a = node("a");
    SimNode bb = node("b");
    SimNode c = node("c");
    SimNode d = node("d");
    a.start(List.of("b"));
    bb.start(List.of("a"));
    c.start(List.of("d"));
    d.start(List.of("c"));
    write(a, "ab", "v");
    write(c, "cd", "v");
    write(a, "x", "v");
    write(a, "x", null);
    write(c, "y", "v");
    write(c, "y", null);
    loop.advance(60_000);
    assertTrue(a.store.gcState().purgedTotal() > 0 && c.store.gcState().purgedTotal() > 0, "both clusters collected");

    c.engine.addPeer(new PeerSpec("a", "a", SimNode.PORT));
    a.engine.addPeer(new PeerSpec("c", "c", SimNode.PORT));
    loop.advance(30_000);
    // Each holds data older than the other's purge horizon and was not counted when the other
    // collected: neither pulls from the other, and nothing is silently dropped or applied.
    assertTrue(!has(a, "cd") && !has(c, "ab"), "nothing crossed");
    assertTrue(a.engine.peerStatuses().stream().anyMatch(p -> p.id().equals("c") && p.lastError() != null && p.lastError().contains("not counted")),
        "a says why it does not pull from c: " + a.engine.peerStatuses());
  }

  @Test
  void antiEntropyGivesBackAValueOlderThanThePurgeHorizon() {
    SimNode a = node("a");
    SimNode bb = node("b");
    a.start(List.of("b"));
    bb.start(List.of("a"));
    write(a, "old", "kept");
    write(a, "gone", "v");
    write(a, "gone", null);
    loop.advance(60_000);
    long horizon = a.store.gcState().purgeHorizon();
    assertTrue(a.store.get(b("old")).orElseThrow().version().hlc() < horizon, "test premise: 'old' is below the horizon");

    // b loses 'old' (a damaged disk, a bug): it is down, its row goes, it comes back.
    bb.crash();
    StoreSurgery.removeKey(bb.memoryDisk(), b("old"));
    bb.start(List.of("a"));
    loop.advance(30_000);
    assertTrue(has(bb, "old"), "repair gave 'old' back although it is older than the purge horizon");
    assertEquals(a.store.digest(), bb.store.digest());
  }

  /**
   * Found by the simulation's wipes: a node new to the cluster whose first sync was cut off (here a
   * restart after 240 of 302 entries) came back holding versions older than the purge horizon and
   * a stable time of 0, and was refused as stale for ever. Its database was created empty after the
   * horizon: it got those versions from the cluster, and now resumes.
   */
  @Test
  void aNewNodeWhoseFirstSyncIsCutOffResumes() {
    SimNode a = node("a");
    SimNode bb = node("b");
    a.start(List.of("b"));
    bb.start(List.of("a"));
    for (int i = 0; i < 300; i++) {
      a.store.submitLocal(b("k" + i), b("v"));
    }
    write(a, "gone", "v");
    write(a, "gone", null);
    loop.advance(60_000);
    assertTrue(a.store.gcState().purgeHorizon() > 0 && a.store.gcState().tombstones() == 0, "a collected: " + a.store.gcState());
    SimNode c = node("c");
    c.start(List.of("a"));
    a.engine.addPeer(new PeerSpec("c", "c", SimNode.PORT));
    while (c.store.headSeq() < 100) {
      loop.runSome(1);
    }
    assertTrue(c.store.gcState().oldestHlc() < a.store.gcState().purgeHorizon(), "c holds versions older than a's horizon");
    c.crash();
    c.start(List.of("a"));
    loop.advance(30_000);
    assertEquals(a.store.digest(), c.store.digest(), "c resumed and converged: " + c.engine.peerStatuses());
    assertTrue(c.store.gcState().stableHlc() > 0, "c became stable");
    assertTrue(c.store.get(b("gone")).isEmpty(), "the collected delete did not come back");
  }
}
