package dev.edgesync.engine.replication.core;

import io.micrometer.core.instrument.Counter;
import java.util.concurrent.atomic.AtomicLong;

/** What this node streamed to one subscriber, and what it acknowledged, since start. */
public final class SubscriberStats {
  public final AtomicLong entriesSent = new AtomicLong();
  public final AtomicLong ackedSeq = new AtomicLong();
  private final Counter sentCounter;

  public SubscriberStats(Counter sentCounter) {
    this.sentCounter = sentCounter;
  }

  public void sent(int entries) {
    entriesSent.addAndGet(entries);
    sentCounter.increment(entries);
  }
}
