package dev.edgesync.engine.replication;

import io.micrometer.core.instrument.Counter;
import java.util.concurrent.atomic.AtomicLong;

/** What this node streamed to one subscriber, and what it acknowledged, since start. */
final class SubscriberStats {
  final AtomicLong entriesSent = new AtomicLong();
  final AtomicLong ackedSeq = new AtomicLong();
  private final Counter sentCounter;

  SubscriberStats(Counter sentCounter) {
    this.sentCounter = sentCounter;
  }

  void sent(int entries) {
    entriesSent.addAndGet(entries);
    sentCounter.increment(entries);
  }
}
