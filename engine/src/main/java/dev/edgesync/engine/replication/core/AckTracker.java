package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.storage.LimitExceededException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Which seq of this node's log each subscriber has acknowledged, and who waits for how many
 * subscribers to cover which seq (the leaderless "sync" write mode). Pure bookkeeping: the
 * engine completes the returned waiters and runs their timeouts.
 *
 * <p>Thread safety: all methods are synchronized; futures are completed by the caller, outside
 * the lock.
 */
public final class AckTracker {
  /** Most waits pending at once ({@code replication.maxPendingAckWaits}). */
  static final int MAX_PENDING_WAITS = 100_000;

  private final Map<String, Long> acked = new HashMap<>();
  private final TreeMap<Long, List<Waiter>> waiters = new TreeMap<>();
  private int pending;

  /** One wait for {@code required} distinct subscribers to acknowledge {@code seq}. */
  public static final class Waiter {
    public final long seq;
    public final int required;
    public final CompletableFuture<Void> future = new CompletableFuture<>();
    int confirmed;
    public boolean settled;

    Waiter(long seq, int required) {
      this.seq = seq;
      this.required = required;
    }
  }

  /**
   * Registers a wait; the returned waiter is already {@link Waiter#settled} (and must be
   * completed by the caller) when enough subscribers acknowledged {@code seq} before.
   *
   * @throws LimitExceededException when {@link #MAX_PENDING_WAITS} waits are pending
   */
  public synchronized Waiter register(long seq, int required) {
    Waiter w = new Waiter(seq, required);
    w.confirmed = confirmedLocked(seq);
    if (w.confirmed >= required) {
      w.settled = true;
      return w;
    }
    if (pending >= MAX_PENDING_WAITS) {
      throw new LimitExceededException(
          "replication.maxPendingAckWaits",
          "too many writes wait for peer acknowledgements (" + pending + ", the limit is "
              + MAX_PENDING_WAITS + "): peers are not keeping up; retry later or wait for fewer peers");
    }
    waiters.computeIfAbsent(seq, k -> new ArrayList<>()).add(w);
    pending++;
    return w;
  }

  /**
   * {@code subscriber} acknowledged every seq up to {@code seq}. Returns the waiters this
   * satisfied, already removed; the caller completes their futures.
   */
  public synchronized List<Waiter> onAck(String subscriber, long seq) {
    long before = acked.getOrDefault(subscriber, 0L);
    if (seq <= before) {
      return List.of();
    }
    acked.put(subscriber, seq);
    List<Waiter> done = new ArrayList<>();
    // Only waits for a seq in (before, seq] gain this subscriber: it already counted for lower
    // ones and does not cover higher ones.
    var affected = waiters.subMap(before, false, seq, true);
    var it = affected.entrySet().iterator();
    while (it.hasNext()) {
      List<Waiter> list = it.next().getValue();
      list.removeIf(
          w -> {
            w.confirmed++;
            if (w.confirmed >= w.required) {
              w.settled = true;
              done.add(w);
              return true;
            }
            return false;
          });
      if (list.isEmpty()) {
        it.remove();
      }
    }
    pending -= done.size();
    return done;
  }

  /** Removes a waiter that timed out; false when it was settled meanwhile. */
  public synchronized boolean expire(Waiter w) {
    if (w.settled) {
      return false;
    }
    w.settled = true;
    List<Waiter> list = waiters.get(w.seq);
    if (list != null && list.remove(w)) {
      pending--;
      if (list.isEmpty()) {
        waiters.remove(w.seq);
      }
    }
    return true;
  }

  /** Removes and returns every pending waiter (on close). */
  public synchronized List<Waiter> drain() {
    List<Waiter> all = new ArrayList<>();
    waiters.values().forEach(all::addAll);
    all.forEach(w -> w.settled = true);
    waiters.clear();
    pending = 0;
    return all;
  }

  /** The highest seq {@code subscriber} acknowledged, 0 if none. */
  public synchronized long acked(String subscriber) {
    return acked.getOrDefault(subscriber, 0L);
  }

  /** How many subscribers acknowledged {@code seq} or later. */
  public synchronized int confirmed(long seq) {
    return confirmedLocked(seq);
  }

  private int confirmedLocked(long seq) {
    int n = 0;
    for (long s : acked.values()) {
      if (s >= seq) {
        n++;
      }
    }
    return n;
  }
}
