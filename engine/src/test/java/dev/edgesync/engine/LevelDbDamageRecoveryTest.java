package dev.edgesync.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.transport.inmemory.Network;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose LevelDB database was damaged while it was stopped refuses to start with a message
 * that names the database and the recovery, and the recovery works: with the data dir moved
 * aside, the node starts empty under the same id and gets everything back from its peer.
 *
 * <p>The damages are the two iq80 LevelDB 0.12 handles badly: a flipped byte in its log (on
 * recovery it silently drops the records of the damaged block; in the middle of the log the
 * store's digest check catches it, at the end the replication engine's recorded head seq does) and
 * a log cut to a few bytes (open throws).
 */
class LevelDbDamageRecoveryTest {
  private static final int KEYS = 2000;

  @TempDir Path root;
  private final Network network = new Network();
  private final List<SyncNode> nodes = new java.util.ArrayList<>();

  @AfterEach
  void closeNodes() {
    for (SyncNode n : nodes) {
      try {
        n.close();
      } catch (RuntimeException e) {
        // A node that failed to start is already closed.
      }
    }
  }

  private SyncNode node(String id, String peer, Path dataDir) {
    SyncNode n =
        SyncNode.builder()
            .nodeId(id)
            .cluster("damage")
            .dataDir(dataDir)
            .listen(id, 7400)
            .peer(peer, peer + ":7400")
            .transport(network.transport(id))
            .heartbeatInterval(Duration.ofMillis(100))
            .heartbeatTimeout(Duration.ofSeconds(1))
            .reconnectBaseDelay(Duration.ofMillis(20))
            .reconnectMaxDelay(Duration.ofMillis(200))
            .build();
    nodes.add(n);
    return n;
  }

  @Test
  void aFlippedByteInTheMiddleOfTheLogIsRefusedAndTheNodeResyncsAfterMovingItsDataDirAside() throws IOException {
    damageAndRecover(log -> flipByte(log, 0.4));
  }

  @Test
  void aFlippedByteAtTheEndOfTheLogIsRefusedAndTheNodeResyncsAfterMovingItsDataDirAside() throws IOException {
    damageAndRecover(log -> flipByte(log, 0.9995));
  }

  @Test
  void aLogOfAFewBytesIsRefusedAndTheNodeResyncsAfterMovingItsDataDirAside() throws IOException {
    damageAndRecover(log -> Files.write(log, new byte[] {0x13, 0x37, 0x42}));
  }

  private interface Damage {
    void apply(Path log) throws IOException;
  }

  private void damageAndRecover(Damage damage) throws IOException {
    Path aDir = root.resolve("site-a");
    SyncNode a = node("site-a", "site-b", aDir).start();
    SyncNode b = node("site-b", "site-a", root.resolve("site-b")).start();
    for (int i = 0; i < KEYS; i++) {
      a.put("key-" + i, "value-" + i + " written on site-a, acknowledged with fsync");
    }
    for (int i = 0; i < 50; i++) {
      b.put("b-key-" + i, "value-" + i + " written on site-b");
    }
    awaitEqualDigests(a, b);
    Map<String, KeyValue> before = contents(a);
    assertEquals(KEYS + 50, before.size());
    a.close();

    damage.apply(onlyLog(aDir.resolve("db")));

    SyncNode damaged = node("site-a", "site-b", aDir);
    StorageException refused = assertThrows(StorageException.class, damaged::start);
    String message = refused.getMessage();
    System.out.println("refused as expected: " + message);
    assertTrue(message.contains(aDir.toString()), "names the data dir: " + message);
    assertTrue(message.contains("move the data dir aside"), "says how to recover: " + message);
    assertTrue(message.contains("re-syncs its state from its peers"), "says what recovery does: " + message);

    // The recovery the message describes: move the data dir aside, start again under the same id.
    Files.move(aDir, root.resolve("site-a.damaged"));
    SyncNode recovered = node("site-a", "site-b", aDir).start();
    awaitEqualDigests(recovered, b);
    Map<String, KeyValue> after = contents(recovered);
    assertEquals(before.keySet(), after.keySet());
    for (Map.Entry<String, KeyValue> e : before.entrySet()) {
      KeyValue was = e.getValue();
      KeyValue now = after.get(e.getKey());
      assertEquals(was.version(), now.version(), e.getKey());
      assertArrayEquals(was.value(), now.value(), e.getKey());
    }
    assertTrue(recovered.verifyDigest());
    // And the recovered node takes writes that replicate as before.
    recovered.put("after-recovery", "yes");
    await().atMost(Duration.ofSeconds(30)).until(() -> b.get("after-recovery").equals(Optional.of("yes")));
  }

  private static void awaitEqualDigests(SyncNode x, SyncNode y) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> x.digest().equals(y.digest()));
  }

  private static Map<String, KeyValue> contents(SyncNode n) {
    Map<String, KeyValue> out = new LinkedHashMap<>();
    try (Stream<KeyValue> all = n.scan("")) {
      all.forEach(kv -> out.put(kv.keyUtf8(), kv));
    }
    return out;
  }

  private static Path onlyLog(Path db) throws IOException {
    try (Stream<Path> files = Files.list(db)) {
      List<Path> logs = files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
      assertTrue(!logs.isEmpty(), "no log in " + db);
      return logs.get(logs.size() - 1);
    }
  }

  private static void flipByte(Path log, double where) throws IOException {
    byte[] bytes = Files.readAllBytes(log);
    assertTrue(bytes.length > 64 * 1024, "the log holds several blocks: " + bytes.length + " bytes");
    int at = (int) (bytes.length * where);
    bytes[at] ^= 0x5a;
    Files.write(log, bytes);
  }
}
