package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A conditional write refused because of a write earlier in its own group commit is answered
 * after that group is committed, like every other outcome of the group: never while the version
 * it quotes is still uncommitted (found in review: the refusal was completed during resolution).
 */
class ConditionalWriteGroupTest {
  @Test
  void aRefusalInsideAGroupIsDeliveredAfterTheGroupCommits() throws Exception {
    HoldFirstGroupGate gate = new HoldFirstGroupGate();
    try (GroupCommitStore store =
        GroupCommitStore.open(new MemoryKvStore(), "mem", StoreFixtures.options("a", Clock.systemUTC()), EngineMetrics.noRegistry(), gate)) {
      CompletableFuture<WriteResult> holder = store.submitLocal(bytes("other"), bytes("x"));
      assertTrue(gate.awaitTaken(), "the writer took the first command");
      // Both join the held group: A writes k, B (create-only) is refused because of A.
      CompletableFuture<WriteResult> a = store.submitLocal(bytes("k"), bytes("A"));
      CompletableFuture<WriteResult> b = store.submitLocal(bytes("k"), bytes("B"), Precondition.absent());
      AtomicReference<Boolean> aDoneWhenBFailed = new AtomicReference<>();
      AtomicReference<Boolean> kVisibleWhenBFailed = new AtomicReference<>();
      CompletableFuture<Void> seen =
          b.handle(
              (r, e) -> {
                aDoneWhenBFailed.set(a.isDone());
                kVisibleWhenBFailed.set(store.get(bytes("k")).isPresent());
                return null;
              });
      gate.release();
      holder.join();
      WriteResult aResult = a.join();
      CompletionException refused = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class, b::join);
      PreconditionFailedException pf = assertInstanceOf(PreconditionFailedException.class, refused.getCause());
      seen.join();
      assertEquals(aResult.version(), pf.current(), "B was refused because of A's version");
      assertTrue(kVisibleWhenBFailed.get(), "when B was refused, the version it quotes was committed and readable");
      assertTrue(aDoneWhenBFailed.get(), "A's future completed before B's refusal");
    }
  }
}
