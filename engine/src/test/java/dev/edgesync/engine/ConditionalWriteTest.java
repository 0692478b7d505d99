package dev.edgesync.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.Precondition;
import dev.edgesync.engine.storage.PreconditionFailedException;
import dev.edgesync.engine.storage.WriteResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compare-and-set on one node: putIf, putIfAbsent, deleteIf, checked atomically with the write. */
class ConditionalWriteTest {
  @TempDir Path dir;

  private SyncNode node() {
    return SyncNode.builder().nodeId("a").cluster("test").dataDir(dir.resolve("a")).listen("127.0.0.1:0").build().start();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void putIfAbsentCreatesOnceAndTreatsATombstoneAsAbsent() {
    try (SyncNode n = node()) {
      WriteResult first = n.putIfAbsent(b("k"), b("1"));
      PreconditionFailedException e = assertThrows(PreconditionFailedException.class, () -> n.putIfAbsent(b("k"), b("2")));
      assertEquals(first.version(), e.current());
      assertTrue(e.getMessage().contains("required absent"), e.getMessage());
      assertArrayEquals(b("1"), n.get(b("k")).orElseThrow().value(), "the refused write changed nothing");
      n.delete(b("k"));
      n.putIfAbsent(b("k"), b("3"));
      assertArrayEquals(b("3"), n.get(b("k")).orElseThrow().value());
    }
  }

  @Test
  void putIfAndDeleteIfNeedTheExactCurrentVersion() {
    try (SyncNode n = node()) {
      WriteResult v1 = n.put(b("k"), b("1"));
      WriteResult v2 = n.putIf(b("k"), b("2"), v1.version());
      PreconditionFailedException stale = assertThrows(PreconditionFailedException.class, () -> n.putIf(b("k"), b("x"), v1.version()));
      assertEquals(v2.version(), stale.current());
      assertThrows(PreconditionFailedException.class, () -> n.deleteIf(b("k"), v1.version()));
      n.deleteIf(b("k"), v2.version());
      assertTrue(n.get(b("k")).isEmpty());
      // A deleted key has no version a putIf can match, even the tombstone's.
      PreconditionFailedException deleted = assertThrows(PreconditionFailedException.class, () -> n.putIf(b("k"), b("y"), v2.version()));
      assertTrue(deleted.currentIsTombstone());
      PreconditionFailedException never = assertThrows(PreconditionFailedException.class, () -> n.putIf(b("never"), b("y"), new Version(1, "a")));
      assertNull(never.current());
    }
  }

  /** Concurrent read-modify-write with putIf: no increment is lost, however the writes interleave. */
  @Test
  void concurrentCompareAndSetIncrementsLoseNothing() throws Exception {
    int threads = 4;
    int perThread = 25;
    try (SyncNode n = node()) {
      n.put(b("counter"), b("0"));
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      AtomicInteger retries = new AtomicInteger();
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          done.add(pool.submit(() -> {
            for (int i = 0; i < perThread; i++) {
              while (true) {
                KeyValue cur = n.get(b("counter")).orElseThrow();
                int next = Integer.parseInt(new String(cur.value(), StandardCharsets.UTF_8)) + 1;
                try {
                  n.putIf(b("counter"), b(Integer.toString(next)), cur.version());
                  break;
                } catch (PreconditionFailedException lost) {
                  retries.incrementAndGet();
                }
              }
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(Integer.toString(threads * perThread), new String(n.get(b("counter")).orElseThrow().value(), StandardCharsets.UTF_8),
          "every increment is there (" + retries.get() + " retries after a lost race)");
    }
  }

  @Test
  void theAsyncFormFailsItsFutureAndAGroupWithOtherWritesStillCommitsThem() {
    try (SyncNode n = node()) {
      WriteResult v1 = n.put(b("k"), b("1"));
      CompletableFuture<WriteResult> ok = n.putAsync(b("other"), b("o"));
      CompletableFuture<WriteResult> refused = n.writeIf(b("k"), b("2"), Precondition.absent(), Acks.none());
      CompletableFuture<WriteResult> ok2 = n.putAsync(b("other2"), b("o"));
      CompletionException e = assertThrows(CompletionException.class, refused::join);
      assertTrue(e.getCause() instanceof PreconditionFailedException, e.toString());
      ok.join();
      ok2.join();
      assertEquals(v1.version(), n.get(b("k")).orElseThrow().version());
      assertTrue(n.get(b("other2")).isPresent());
    }
  }
}
