package dev.edgesync.engine.replication;

import dev.edgesync.engine.replication.core.CoalescingSlot;
import dev.edgesync.watermark.Watermark;
import dev.edgesync.watermark.WatermarkStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;

/**
 * Persists one peer's watermark off the caller's thread with a single write in flight: while a
 * write runs, newer watermarks replace each other and the newest is written next (see {@link
 * CoalescingSlot}). Callers only offer watermarks whose batches are committed, so whatever is
 * written is safe.
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
final class WatermarkWriter {
  private final WatermarkStore store;
  private final Executor executor;
  private final BiConsumer<Watermark, RuntimeException> onFailure;
  private final CoalescingSlot<Watermark> slot = new CoalescingSlot<>();
  private CompletableFuture<Void> idle = CompletableFuture.completedFuture(null);
  private volatile Watermark lastWritten;

  /**
   * @param onFailure told about a failed write (on the writing thread); the next offer retries
   */
  WatermarkWriter(
      WatermarkStore store, Executor executor, BiConsumer<Watermark, RuntimeException> onFailure) {
    this.store = store;
    this.executor = executor;
    this.onFailure = onFailure;
  }

  /** Queues {@code watermark} for writing; returns at once. */
  void offer(Watermark watermark) {
    Watermark start;
    synchronized (this) {
      start = slot.offer(watermark);
      if (start != null) {
        idle = new CompletableFuture<>();
      }
    }
    if (start != null) {
      try {
        executor.execute(() -> run(start));
      } catch (RejectedExecutionException e) {
        // The engine is closing and its executor stopped: write here rather than lose the
        // newest watermark (close() waits for idle()).
        run(start);
      }
    }
  }

  /** Completes when no write is queued or running. */
  synchronized CompletableFuture<Void> idle() {
    return idle;
  }

  /** The last watermark written successfully, or null. */
  Watermark lastWritten() {
    return lastWritten;
  }

  private void run(Watermark first) {
    Watermark next = first;
    while (next != null) {
      try {
        store.write(next);
        lastWritten = next;
      } catch (RuntimeException e) {
        onFailure.accept(next, e);
      }
      CompletableFuture<Void> finished = null;
      synchronized (this) {
        next = slot.done();
        if (next == null) {
          finished = idle;
        }
      }
      if (finished != null) {
        finished.complete(null);
      }
    }
  }
}
