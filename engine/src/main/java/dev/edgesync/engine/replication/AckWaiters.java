package dev.edgesync.engine.replication;

import dev.edgesync.engine.replication.core.AckTracker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * Writes that wait for subscribers to acknowledge them: the bookkeeping is the {@link AckTracker}'s;
 * this class carries out its decisions by completing futures and timing waits out on the
 * scheduler.
 *
 * <p>Thread safety: all methods may be called from any thread. Futures are completed outside the
 * tracker's lock, on the caller's thread (an ack: the transport's; a timeout: the scheduler's), so
 * a write's continuation runs there.
 */
final class AckWaiters {
  private final AckTracker tracker = new AckTracker();
  private final ScheduledExecutorService scheduler;

  /** @param scheduler runs the timeouts; must outlive every wait */
  AckWaiters(ScheduledExecutorService scheduler) {
    this.scheduler = scheduler;
  }

  /**
   * Completes when {@code peers} (at least 1) distinct subscribers acknowledged a seq {@code >=
   * seq}; fails with {@link AckTimeoutException} after {@code timeout}.
   *
   * @throws dev.edgesync.engine.storage.LimitExceededException when too many waits are pending
   */
  CompletableFuture<Void> await(long seq, int peers, Duration timeout) {
    AckTracker.Waiter w = tracker.register(seq, peers);
    if (w.settled) {
      w.future.complete(null);
      return w.future;
    }
    ScheduledFuture<?> timer =
        scheduler.schedule(
            () -> {
              if (tracker.expire(w)) {
                w.future.completeExceptionally(new AckTimeoutException(seq, peers, tracker.confirmed(seq), timeout));
              }
            },
            timeout.toNanos(),
            TimeUnit.NANOSECONDS);
    // Not kept: cancelling the timer cannot fail.
    var unused = w.future.whenComplete((r, e) -> timer.cancel(false));
    return w.future;
  }

  /** {@code subscriber} acknowledged every seq up to {@code seq}: completes the waits it settles. */
  void onAck(String subscriber, long seq) {
    for (AckTracker.Waiter w : tracker.onAck(subscriber, seq)) {
      w.future.complete(null);
    }
  }

  /** The highest seq {@code subscriber} acknowledged, 0 if none. */
  long acked(String subscriber) {
    return tracker.acked(subscriber);
  }

  /** Fails every pending wait with {@code error(seq, peers)} (on close). */
  void failAll(BiFunction<Long, Integer, RuntimeException> error) {
    for (AckTracker.Waiter w : tracker.drain()) {
      w.future.completeExceptionally(error.apply(w.seq, w.required));
    }
  }
}
