package dev.edgesync.engine;

import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.CommitListener;
import dev.edgesync.engine.storage.StoredEntry;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands committed changes to {@link ChangeListener}s off the writer thread.
 *
 * <p>The writer thread only filters by prefix and offers each change to the subscription's
 * bounded queue; one notification thread delivers them in commit order. A subscription whose
 * queue is full is closed and told via {@link ChangeListener#onOverflow()}: a slow listener must
 * never stall writes, and silently dropping changes would be worse than telling it.
 */
final class ChangeNotifier implements CommitListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChangeNotifier.class);

  private final int queueCapacity;
  private final ExecutorService executor;
  private final List<Sub> subscriptions = new CopyOnWriteArrayList<>();

  ChangeNotifier(String nodeId, int queueCapacity) {
    this.queueCapacity = queueCapacity;
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "edgesync-notify-" + nodeId);
              t.setDaemon(true);
              return t;
            });
  }

  Subscription subscribe(byte[] prefix, ChangeListener listener) {
    Sub sub = new Sub(prefix.clone(), listener, new ArrayBlockingQueue<>(queueCapacity));
    subscriptions.add(sub);
    return sub;
  }

  @Override
  public void onCommit(List<StoredEntry> stored, String origin, long headSeq) {
    onCommit(stored, java.util.Collections.nCopies(stored.size(), null), origin, headSeq);
  }

  @Override
  public void onCommit(List<StoredEntry> stored, List<Version> replaced, String origin, long headSeq) {
    deliver(stored, false, i -> {
      StoredEntry e = stored.get(i);
      return new Change(
          e.key(), e.tombstone() ? null : e.value(), e.version(), e.seq(), origin, replaced.get(i), e.expiresHlc(), false);
    });
  }

  @Override
  public void onExpired(List<StoredEntry> expired) {
    deliver(expired, true, i -> {
      StoredEntry e = expired.get(i);
      return new Change(e.key(), null, e.version(), e.seq(), null, null, e.expiresHlc(), true);
    });
  }

  /** Offers the changes of {@code entries} (made on demand, for subscribers whose prefix matches). */
  private void deliver(List<StoredEntry> entries, boolean expiries, java.util.function.IntFunction<Change> changeOf) {
    if (subscriptions.isEmpty()) {
      return;
    }
    for (Sub sub : subscriptions) {
      if (expiries && !sub.listener.wantsExpiries()) {
        continue;
      }
      boolean added = false;
      for (int i = 0; i < entries.size(); i++) {
        if (!startsWith(entries.get(i).key(), sub.prefix)) {
          continue;
        }
        Change change = changeOf.apply(i);
        if (!sub.queue.offer(change)) {
          sub.overflow();
          break;
        }
        added = true;
      }
      if (added) {
        sub.schedule();
      }
    }
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  @Override
  public void close() {
    subscriptions.forEach(Sub::close);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private final class Sub implements Subscription {
    final byte[] prefix;
    final ChangeListener listener;
    final BlockingQueue<Change> queue;
    final AtomicBoolean active = new AtomicBoolean(true);
    final AtomicBoolean scheduled = new AtomicBoolean();

    Sub(byte[] prefix, ChangeListener listener, BlockingQueue<Change> queue) {
      this.prefix = prefix;
      this.listener = listener;
      this.queue = queue;
    }

    void schedule() {
      if (active.get() && scheduled.compareAndSet(false, true)) {
        executor.execute(this::drain);
      }
    }

    private void drain() {
      scheduled.set(false);
      Change change;
      while (active.get() && (change = queue.poll()) != null) {
        try {
          listener.onChange(change);
        } catch (RuntimeException e) {
          // A listener's bug must not end its subscription nor other listeners' deliveries.
          log.error("change listener threw on key {}; the subscription stays active", change.keyUtf8(), e);
        }
      }
      if (!queue.isEmpty()) {
        schedule();
      }
    }

    void overflow() {
      if (active.compareAndSet(true, false)) {
        subscriptions.remove(this);
        queue.clear();
        log.warn(
            "change listener fell {} changes behind and was unsubscribed; resubscribe and re-read with scan",
            queueCapacity);
        executor.execute(
            () -> {
              try {
                listener.onOverflow();
              } catch (RuntimeException e) {
                log.error("change listener threw in onOverflow", e);
              }
            });
      }
    }

    @Override
    public void close() {
      if (active.compareAndSet(true, false)) {
        subscriptions.remove(this);
        queue.clear();
      }
    }

    @Override
    public boolean isActive() {
      return active.get();
    }
  }
}
