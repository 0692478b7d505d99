package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A site backed up under write load with {@code edgesync backup}, its disk then lost: restored
 * with {@code edgesync restore} into a new data dir, it converges with its peer with every
 * acknowledged write, the ones made after the backup included, and what it writes next reaches the
 * peer although it re-issues seqs the peer saw before (a new log epoch). {@code backup --verify}
 * catches a damaged copy of the file.
 */
class BackupRestoreTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void aSiteRestoredFromABackupTakenUnderLoadConvergesWithNothingLost() throws Exception {
    try (Cluster c = cleanup.newCluster("backup", false)) {
      c.add("a");
      c.add("b");
      c.connect("a", "b").startAll();
      NodeClient a = c.node("a").http();
      NodeClient b = c.node("b").http();
      AckedWrites acked = new AckedWrites();
      for (int i = 0; i < 300; i++) {
        acked.add(a.put("before/" + i, "v" + i));
      }
      acked.add(a.delete("before/3"));

      // A writer keeps going on a while the backup is taken.
      AtomicBoolean writing = new AtomicBoolean(true);
      AtomicInteger written = new AtomicInteger();
      Thread writer =
          new Thread(
              () -> {
                for (int i = 0; writing.get(); i++) {
                  acked.add(a.put("during/" + i, "v" + i));
                  written.incrementAndGet();
                }
              },
              "writer");
      writer.start();
      await("the writer is under way").atMost(Duration.ofSeconds(30)).until(() -> written.get() >= 50);
      Path file = c.dir().resolve("a.backup");
      String out = NodeProcess.runCommand(c.dir(), 0, "backup", "--to", file.toString(), "--node", c.node("a").spec.httpAddress());
      assertTrue(out.contains("backup of node 'a'"), out);
      int atBackup = written.get();
      await("writes go on after the backup").atMost(Duration.ofSeconds(30)).until(() -> written.get() >= atBackup + 50);
      writing.set(false);
      writer.join();
      acked.add(b.put("from-b", "b"));

      assertTrue(NodeProcess.runCommand(c.dir(), 0, "backup", "--verify", file.toString()).contains("a sound backup of node 'a'"));
      byte[] bytes = Files.readAllBytes(file);
      bytes[bytes.length / 2] ^= 0x5a;
      Path damaged = c.dir().resolve("damaged.backup");
      Files.write(damaged, bytes);
      String refused = NodeProcess.runCommand(c.dir(), 1, "backup", "--verify", damaged.toString());
      assertTrue(refused.contains("is damaged"), refused);

      // b holds everything a acknowledged; then a's disk is lost.
      c.awaitConverged();
      c.node("a").kill9();
      Path newDir = c.dir().resolve("a-restored");
      String restored = NodeProcess.runCommand(c.dir(), 0, "restore", file.toString(), "--data-dir", newDir.toString(), "--id", "a");
      assertTrue(restored.contains("restored node 'a'"), restored);
      c.node("a").spec.dataDir = newDir;
      c.node("a").start();
      Map<String, com.fasterxml.jackson.databind.JsonNode> state = c.awaitConverged();
      acked.assertHeldBy("a restored from its backup, and b", state);

      // a re-issues seqs above the backup's head in a new epoch: b must still get them.
      acked.add(a.put("after-restore", "new"));
      await("b gets what the restored a writes")
          .atMost(Duration.ofSeconds(30))
          .until(() -> b.get("after-restore").isPresent());
      acked.assertHeldBy("both sites", c.awaitConverged());
      assertEquals(1, c.node("a").http().status().peers().size());
    }
  }

}
