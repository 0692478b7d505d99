package dev.edgesync.engine;

import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.storage.StoreClosedException;
import dev.edgesync.engine.storage.GroupCommitStore;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the change listeners when values expire: every {@link Defaults#EXPIRY_ANNOUNCE_INTERVAL}
 * it asks the store to announce the values whose expiry the node's clock has passed (a seek in the
 * expiry index, on the writer between two commits), at most {@code batchSize} at a time, and asks
 * again at once while more are left. Skipped while the store holds no expiring value. It only
 * queues a command: the scheduler thread never waits on the disk.
 */
final class ExpiryAnnouncer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExpiryAnnouncer.class);

  private final GroupCommitStore store;
  private final ScheduledExecutorService scheduler;
  private final int batchSize;
  private ScheduledFuture<?> task; // guarded by this
  private boolean running; // guarded by this: one request at a time
  private boolean closed; // guarded by this
  private String lastFailure; // guarded by this: logged once per distinct failure

  ExpiryAnnouncer(GroupCommitStore store, ScheduledExecutorService scheduler, int batchSize) {
    this.store = store;
    this.scheduler = scheduler;
    this.batchSize = batchSize;
  }

  synchronized void start() {
    long period = Defaults.EXPIRY_ANNOUNCE_INTERVAL.toMillis();
    task = scheduler.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.MILLISECONDS);
  }

  private void tick() {
    synchronized (this) {
      if (running || closed || store.gcState().expiring() == 0) {
        return;
      }
      running = true;
    }
    request();
  }

  private void request() {
    try {
      store.announceExpired(batchSize).whenComplete(this::done);
    } catch (RuntimeException e) {
      done(null, e);
    }
  }

  private void done(Boolean more, Throwable error) {
    Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
    String reason = cause == null || cause instanceof StoreClosedException ? null : cause.toString();
    boolean again;
    synchronized (this) {
      if (reason != null && !reason.equals(lastFailure)) {
        log.warn("announcing expired values failed; the next tick tries again: {}", reason);
      }
      lastFailure = reason;
      again = cause == null && Boolean.TRUE.equals(more) && !closed;
      running = again;
    }
    if (again) {
      try {
        scheduler.execute(this::request);
      } catch (java.util.concurrent.RejectedExecutionException shutDown) {
        synchronized (this) {
          running = false;
        }
      }
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (task != null) {
      task.cancel(false);
    }
  }
}
