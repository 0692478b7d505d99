package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Log epochs: one per open, and a restored copy's seqs issued again in a new one. */
class GroupCommitStoreEpochTest {
  @TempDir Path dir;

  private final StoreFixtures.ManualClock clock = new StoreFixtures.ManualClock(BASE_MILLIS);

  private GroupCommitStore open(Path db) {
    return StoreFixtures.open(LevelDbKvStore.open(db), StoreFixtures.options("node-a", clock));
  }

  private static void write(GroupCommitStore store, String prefix, int n) {
    for (int i = 0; i < n; i++) {
      store.submitLocal(bytes(prefix + i), bytes("v")).join();
    }
  }

  @Test
  void everyOpenAppendsAnEpochStartingAfterTheHead() {
    Path db = dir.resolve("db");
    String first;
    try (GroupCommitStore store = open(db)) {
      assertEquals(1, store.epochs().size());
      assertEquals(1, store.epochs().get(0).firstSeq());
      first = store.currentEpoch();
      assertEquals(16, first.length());
      assertTrue(first.matches("[0-9a-f]{16}"), first);
      assertEquals("", store.epochOf(0), "seq 0 means nothing");
      write(store, "a", 10);
      assertEquals(first, store.epochOf(1));
      assertEquals(first, store.epochOf(10));
    }
    String second;
    try (GroupCommitStore store = open(db)) {
      assertEquals(2, store.epochs().size());
      assertEquals(11, store.epochs().get(1).firstSeq());
      second = store.currentEpoch();
      assertNotEquals(first, second);
      assertEquals(first, store.epochOf(10), "old seqs keep their epoch");
      write(store, "b", 5);
      assertEquals(second, store.epochOf(11));
      assertEquals(second, store.epochOf(15));
    }
    // An open without writes leaves an empty epoch behind, which never owns a seq.
    try (GroupCommitStore store = open(db)) {
      assertEquals(3, store.epochs().size());
    }
    try (GroupCommitStore store = open(db)) {
      List<StoreLayout.Epoch> epochs = store.epochs();
      assertEquals(4, epochs.size());
      assertEquals(16, epochs.get(2).firstSeq());
      assertEquals(16, epochs.get(3).firstSeq());
      assertEquals(first, store.epochOf(10));
      assertEquals(second, store.epochOf(15));
      assertEquals(store.currentEpoch(), store.epochOf(16));
      assertEquals(store.currentEpoch(), store.epochOf(1000), "seqs above the head belong to the current epoch");
    }
  }

  @Test
  void aRestoredCopyIssuesItsSeqsAgainInANewEpoch() throws IOException {
    Path db = dir.resolve("db");
    Path copy = dir.resolve("copy");
    String logId;
    try (GroupCommitStore store = open(db)) {
      logId = store.logId();
      write(store, "a", 100);
    }
    copyTree(db, copy);
    String lost;
    try (GroupCommitStore store = open(db)) {
      write(store, "b", 100);
      lost = store.epochOf(200);
      assertEquals(store.currentEpoch(), lost);
    }
    try (GroupCommitStore restored = open(copy)) {
      assertEquals(logId, restored.logId());
      assertEquals(100, restored.headSeq());
      assertEquals(2, restored.epochs().size(), "the copy's epoch list plus a new epoch");
      assertEquals(101, restored.epochs().get(1).firstSeq());
      assertNotEquals(lost, restored.currentEpoch());
      write(restored, "c", 110);
      assertEquals(restored.currentEpoch(), restored.epochOf(200));
      assertNotEquals(lost, restored.epochOf(200), "seq 200 of the lost history is not seq 200 of this one");
      assertEquals(restored.epochOf(100), restored.epochs().get(0).idText(), "the shared history keeps its epoch");
    }
  }

  @Test
  void aMemoryCopyGetsANewEpochToo() {
    MemoryKvStore kv = new MemoryKvStore();
    GroupCommitStore store = StoreFixtures.open(kv, StoreFixtures.options("node-a", clock));
    write(store, "a", 30);
    MemoryKvStore backup = kv.copy();
    write(store, "b", 30);
    String lost = store.epochOf(60);
    store.close();
    try (GroupCommitStore restored = StoreFixtures.open(backup, StoreFixtures.options("node-a", clock))) {
      assertEquals(30, restored.headSeq());
      assertEquals(31, restored.epochs().get(restored.epochs().size() - 1).firstSeq());
      assertEquals(lost, restored.epochOf(30), "seqs of the copy keep their epoch");
      assertNotEquals(lost, restored.epochOf(31));
    }
  }

  @Test
  void epochListEncodingRoundTripsAndRejectsDamage() {
    List<StoreLayout.Epoch> epochs =
        List.of(new StoreLayout.Epoch(-1L, 1), new StoreLayout.Epoch(42L, 101), new StoreLayout.Epoch(7L, 101));
    assertEquals(epochs, StoreLayout.decodeEpochs(StoreLayout.encodeEpochs(epochs)));
    assertEquals(List.of(), StoreLayout.decodeEpochs(null));
    assertEquals("ffffffffffffffff", epochs.get(0).idText());
    assertEquals("000000000000002a", epochs.get(1).idText());
    assertThrows(StorageException.class, () -> StoreLayout.decodeEpochs(new byte[15]));
    byte[] backwards =
        StoreLayout.encodeEpochs(List.of(new StoreLayout.Epoch(1, 50), new StoreLayout.Epoch(2, 10)));
    assertThrows(StorageException.class, () -> StoreLayout.decodeEpochs(backwards));
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
