package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.string;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** A failed write stops the store's writes: convention 9, no silent continuing. */
class GroupCommitStoreStorageFailureTest {
  private final ManualClock clock = new ManualClock(BASE_MILLIS);

  private static Throwable failureOf(CompletableFuture<?> future) {
    return assertThrows(CompletionException.class, future::join).getCause();
  }

  @Test
  void aFailedWriteFailsItsGroupAndEveryLaterWrite() {
    MemoryKvStore kv = new MemoryKvStore();
    try (GroupCommitStore store = StoreFixtures.open(kv, StoreFixtures.options("node-a", clock))) {
      store.submitLocal(bytes("before"), bytes("v")).join();
      StateDigest digest = store.digest();
      IOException disk = new IOException("No space left on device");
      kv.failNextWrite(disk);

      StorageException failed = assertInstanceOf(StorageException.class, failureOf(store.submitLocal(bytes("k"), bytes("v"))));
      assertSame(disk, failed.getCause());
      assertSame(failed, store.failure());
      assertEquals(1, store.headSeq(), "head unchanged");
      assertEquals(digest, store.digest(), "digest unchanged");
      assertTrue(store.get(bytes("k")).isEmpty());

      // The store's kv would accept writes again; the store must not.
      StorageException later = assertInstanceOf(StorageException.class, failureOf(store.submitLocal(bytes("k2"), bytes("v"))));
      assertTrue(later.getMessage().contains("stopped accepting writes"), later.getMessage());
      assertSame(failed, later.getCause());
      StoredEntry remote = new StoredEntry(bytes("r"), bytes("v"), false, new Version(Hlc.of(BASE_MILLIS, 0), "b"), 0);
      assertInstanceOf(StorageException.class, failureOf(store.submitRemote("peer-b", List.of(remote))));
      assertEquals(1, store.headSeq());
      // Reads keep working.
      assertEquals("v", string(store.get(bytes("before")).orElseThrow().value()));
    }
  }

  @Test
  void writesQueuedBehindTheFailedGroupFailToo() {
    MemoryKvStore kv = new MemoryKvStore();
    try (GroupCommitStore store = StoreFixtures.open(kv, StoreFixtures.options("node-a", clock, true, 10_000, 1, null))) {
      kv.failNextWrite(new IOException("I/O error"));
      // groupCommitMaxEntries = 1: each write is its own group, so the later ones are queued
      // behind the failing one (or refused at submit once the failure is known).
      List<CompletableFuture<WriteResult>> writes =
          List.of(
              store.submitLocal(bytes("a"), bytes("1")),
              store.submitLocal(bytes("b"), bytes("2")),
              store.submitLocal(bytes("c"), bytes("3")));
      for (CompletableFuture<WriteResult> w : writes) {
        assertInstanceOf(StorageException.class, failureOf(w));
      }
      assertEquals(0, store.headSeq());
      assertEquals(0, StoreFixtures.rows(kv, StoreLayout.STATE).size());
    }
  }

  @Test
  void aHealthyStoreReportsNoFailure() {
    try (GroupCommitStore store = StoreFixtures.open(new MemoryKvStore(), StoreFixtures.options("node-a", clock))) {
      store.submitLocal(bytes("k"), bytes("v")).join();
      assertNull(store.failure());
    }
  }
}
