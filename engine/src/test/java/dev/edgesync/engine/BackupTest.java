package dev.edgesync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.storage.StoreBackup;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A backup of a running node, checked and restored into a new data dir, and damaged backups refused. */
class BackupTest {
  @TempDir Path dir;

  private SyncNode.Builder builder(String id, Path dataDir) {
    return SyncNode.builder().nodeId(id).cluster("test").dataDir(dataDir).listen("127.0.0.1:0");
  }

  /** k/0..k/(n-1), committed in a few group commits rather than one fsync each. */
  private static void putAll(SyncNode node, int n, String valuePrefix) {
    List<java.util.concurrent.CompletableFuture<?>> writes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      writes.add(
          node.putAsync(
              ("k/" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8),
              (valuePrefix + i).getBytes(java.nio.charset.StandardCharsets.UTF_8),
              null,
              Acks.none()));
    }
    writes.forEach(java.util.concurrent.CompletableFuture::join);
  }

  @Test
  void aBackupRestoresTheSameStateAndLogIntoANewDataDir() throws Exception {
    byte[] backup;
    String digest;
    long head;
    String logId;
    try (SyncNode node = builder("a", dir.resolve("a")).build().start()) {
      putAll(node, 2_000, "v");
      node.delete("k/7");
      node.put("lease", "x", Duration.ofHours(1));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      List<Long> progress = new ArrayList<>();
      StoreBackup.Manifest m = node.backup(out, progress::add);
      backup = out.toByteArray();
      digest = node.digest();
      head = node.status().headSeq();
      logId = node.status().logId();
      assertEquals(digest, m.digest());
      assertEquals(head, m.headSeq());
      assertEquals("a", m.nodeId());
      assertTrue(m.rows() > 4_000, "state and log rows: " + m.rows());
      node.put("after-backup", "not in it");
    }
    StoreBackup.Manifest checked = StoreBackup.verify(new ByteArrayInputStream(backup));
    assertEquals(digest, checked.digest());

    Path restored = dir.resolve("restored");
    SyncNode.restoreBackup(new ByteArrayInputStream(backup), restored, "a");
    try (SyncNode node = builder("a", restored).build().start()) {
      assertEquals(digest, node.digest(), "the state of the backup");
      assertEquals(head, node.status().headSeq());
      assertEquals(logId, node.status().logId(), "the same log, so peers resume it (in a new epoch)");
      assertEquals("v5", node.get("k/5").orElseThrow());
      assertTrue(node.get("k/7").isEmpty());
      assertTrue(node.get("lease").isPresent());
      assertTrue(node.get("after-backup").isEmpty());
    }
  }

  @Test
  void damagedOrCutBackupsAreRefusedAndLeaveNothingBehind() throws Exception {
    byte[] backup;
    try (SyncNode node = builder("a", dir.resolve("a")).build().start()) {
      putAll(node, 500, "value ");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      node.backup(out, rows -> {});
      backup = out.toByteArray();
    }
    byte[] cut = Arrays.copyOf(backup, backup.length - 12);
    StoreBackup.DamagedBackupException e1 =
        assertThrows(StoreBackup.DamagedBackupException.class, () -> StoreBackup.verify(new ByteArrayInputStream(cut)));
    assertTrue(e1.getMessage().contains("cut short") || e1.getMessage().contains("damaged"), e1.getMessage());
    byte[] flipped = backup.clone();
    flipped[flipped.length / 2] ^= 0x5a;
    assertThrows(StoreBackup.DamagedBackupException.class, () -> StoreBackup.verify(new ByteArrayInputStream(flipped)));
    assertThrows(
        StoreBackup.DamagedBackupException.class,
        () -> StoreBackup.verify(new ByteArrayInputStream("not a backup".getBytes())));

    Path target = dir.resolve("target");
    assertThrows(
        StoreBackup.DamagedBackupException.class,
        () -> SyncNode.restoreBackup(new ByteArrayInputStream(flipped), target, "a"));
    assertFalse(Files.exists(target.resolve("db")), "a failed restore leaves no database");
    assertFalse(Files.exists(target.resolve("db.restoring")), "nor its staging directory");

    IllegalArgumentException other =
        assertThrows(IllegalArgumentException.class, () -> SyncNode.restoreBackup(new ByteArrayInputStream(backup), target, "b"));
    assertTrue(other.getMessage().contains("of node 'a', not 'b'"), other.getMessage());

    // Old watermarks left in a data dir would skip what the peers wrote since the backup.
    Path kept = dir.resolve("kept");
    Files.createDirectories(kept.resolve(".watermarks"));
    IllegalArgumentException leftovers =
        assertThrows(IllegalArgumentException.class, () -> SyncNode.restoreBackup(new ByteArrayInputStream(backup), kept, "a"));
    assertTrue(leftovers.getMessage().contains("watermarks"), leftovers.getMessage());

    SyncNode.restoreBackup(new ByteArrayInputStream(backup), target, null);
    IllegalArgumentException twice =
        assertThrows(IllegalArgumentException.class, () -> SyncNode.restoreBackup(new ByteArrayInputStream(backup), target, "a"));
    assertTrue(twice.getMessage().contains("not empty"), twice.getMessage());
  }
}
