package dev.edgesync.engine.storage;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A writer gate that holds the writer's first group until {@link #release()}: commands submitted
 * meanwhile join that group (a test builds one group commit of its choosing).
 */
final class HoldFirstGroupGate implements WriterGate {
  private final CountDownLatch taken = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicBoolean first = new AtomicBoolean(true);

  @Override
  public boolean beforeGroup() {
    if (first.getAndSet(false)) {
      taken.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return true;
  }

  /** Waits until the writer holds its first group; false after 30 s. */
  boolean awaitTaken() throws InterruptedException {
    return taken.await(30, TimeUnit.SECONDS);
  }

  void release() {
    release.countDown();
  }
}
