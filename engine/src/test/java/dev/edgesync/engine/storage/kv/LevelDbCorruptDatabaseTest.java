package dev.edgesync.engine.storage.kv;

import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.storage.errors.StorageException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A LevelDB database that cannot be opened is reported with its path and the way to recover. */
class LevelDbCorruptDatabaseTest {
  @TempDir Path dir;

  private Path closedDatabaseWithData() {
    Path db = dir.resolve("db");
    try (LevelDbKvStore kv = LevelDbKvStore.open(db)) {
      for (int i = 0; i < 100; i++) {
        kv.write(List.of(KvStore.Mutation.put(bytes("key-" + i), bytes("value-" + i))), true);
      }
    }
    return db;
  }

  private static Path onlyFile(Path db, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(db)) {
      List<Path> matching = files.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
      assertTrue(matching.size() >= 1, "no " + suffix + " file in " + db);
      return matching.get(matching.size() - 1);
    }
  }

  private static void assertRefusedWithRecoveryAdvice(Path db) {
    StorageException e = assertThrows(StorageException.class, () -> LevelDbKvStore.open(db).close());
    String message = e.getMessage();
    System.out.println("refused as expected: " + message);
    assertTrue(message.contains(db.toString()), message);
    assertTrue(message.contains("move the data dir"), message);
    assertTrue(message.contains("re-syncs its state from its peers"), message);
  }

  @Test
  void aLogFileOfAFewGarbageBytesIsReportedWithTheRecovery() throws IOException {
    Path db = closedDatabaseWithData();
    Files.write(onlyFile(db, ".log"), new byte[] {0x13, 0x37, 0x42});
    assertRefusedWithRecoveryAdvice(db);
  }

  @Test
  void aCurrentFileNamingAMissingManifestIsReportedWithTheRecovery() throws IOException {
    Path db = closedDatabaseWithData();
    Files.writeString(db.resolve("CURRENT"), "MANIFEST-999999\n", StandardCharsets.US_ASCII);
    assertRefusedWithRecoveryAdvice(db);
  }

  @Test
  void aGarbageManifestIsReportedWithTheRecovery() throws IOException {
    Path db = closedDatabaseWithData();
    Path manifest;
    try (Stream<Path> files = Files.list(db)) {
      manifest = files.filter(p -> p.getFileName().toString().startsWith("MANIFEST-")).findFirst().orElseThrow();
    }
    Files.write(manifest, bytes("this is not a manifest at all, just some text of a sort"));
    assertRefusedWithRecoveryAdvice(db);
  }

  @Test
  void aSecondOpenAfterAFailedOneSaysWhyTheLockIsHeld() throws IOException {
    Path db = closedDatabaseWithData();
    Files.write(onlyFile(db, ".log"), new byte[] {0x13, 0x37, 0x42});
    assertRefusedWithRecoveryAdvice(db);
    StorageException again = assertThrows(StorageException.class, () -> LevelDbKvStore.open(db).close());
    // iq80 keeps the lock of the failed open until garbage collection releases it: the message
    // then points back at the first error; after a collection the damage is reported again.
    assertTrue(
        again.getMessage().contains("earlier open in this JVM failed") || again.getMessage().contains("move the data dir"),
        again.getMessage());
  }

  @Test
  void aDatabaseInUseIsReportedAsInUseNotAsDamaged() {
    Path db = dir.resolve("db");
    try (LevelDbKvStore first = LevelDbKvStore.open(db)) {
      StorageException e = assertThrows(StorageException.class, () -> LevelDbKvStore.open(db).close());
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
      assertFalse(e.getMessage().contains("move the data dir"), e.getMessage());
      first.write(List.of(KvStore.Mutation.put(bytes("still"), bytes("works"))), true);
    }
  }
}
