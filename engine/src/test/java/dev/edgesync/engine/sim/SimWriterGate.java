package dev.edgesync.engine.sim;

import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.WriterGate;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The simulation's control over one {@link GroupCommitStore}'s writer thread, the one thread of
 * the engine that {@link SimLoop} cannot run itself.
 *
 * <ul>
 *   <li>{@linkplain #hold Held}, the writer starts no new group commit, so writes submitted by one
 *       simulated step are committed together after the step, and their futures complete on the
 *       writer thread (never inside the submitting call, which would make callback order depend on
 *       thread timing). Writes still queue while held. A new gate is held; closing the store
 *       releases it for good.
 *   <li>{@linkplain #isQuiet Quiet}: every write and remote batch submitted so far is finished,
 *       committed or failed, with its future completed and the commit listeners told. The loop
 *       releases a writer and {@linkplain #awaitQuiet waits} for this between two tasks.
 *   <li>{@linkplain #crash Crashed}: the store stops as a killed process would when it is then
 *       closed. A group commit already writing finishes (its writes are durable and
 *       acknowledged); every command still queued fails with {@code StoreClosedException} and
 *       none of it reaches the key-value store.
 * </ul>
 *
 * <p>Thread safety: {@link #hold}, {@link #awaitQuiet} and {@link #crash} are called by the
 * harness thread; the {@link WriterGate} methods by the store (writer and submitting threads).
 */
final class SimWriterGate implements WriterGate {
  // Commands submitted and not yet finished (committed or failed, callbacks run).
  private final AtomicLong unfinished = new AtomicLong();
  private final Object lock = new Object();
  private boolean held = true; // guarded by lock
  private boolean closing; // guarded by lock
  private volatile boolean crashed;

  /** While {@code hold} is true the writer takes no new group. */
  void hold(boolean hold) {
    synchronized (lock) {
      held = hold;
      lock.notifyAll();
    }
  }

  boolean isQuiet() {
    return unfinished.get() == 0;
  }

  /**
   * Waits until {@link #isQuiet()}.
   *
   * @throws InterruptedException when interrupted while waiting
   */
  void awaitQuiet() throws InterruptedException {
    if (isQuiet()) {
      return;
    }
    synchronized (lock) {
      while (!isQuiet()) {
        lock.wait();
      }
    }
  }

  /** Makes every group the writer takes from now on fail uncommitted; close the store next. */
  void crash() {
    crashed = true;
  }

  @Override
  public void submitted() {
    unfinished.incrementAndGet();
  }

  @Override
  public void finished(int commands) {
    if (unfinished.addAndGet(-commands) == 0) {
      synchronized (lock) {
        lock.notifyAll();
      }
    }
  }

  @Override
  public boolean beforeGroup() {
    synchronized (lock) {
      while (held && !closing) {
        try {
          lock.wait();
        } catch (InterruptedException e) {
          // Nobody interrupts the writer on purpose; it goes on once released.
        }
      }
    }
    return !crashed;
  }

  @Override
  public void closing() {
    synchronized (lock) {
      closing = true;
      lock.notifyAll();
    }
  }
}
