package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.storage.ApplyResult;
import java.time.Instant;

/**
 * What the subscription to one peer did since the peer was added: entries applied, duplicates,
 * conflicts, reconnects, and the last problem. Not thread-safe.
 */
public final class SubscriberCounters {
  private long entriesApplied;
  private long duplicates;
  private long conflicts;
  private long reconnects;
  private String lastError;
  private Instant lastErrorAt;

  void applied(ApplyResult result) {
    entriesApplied += result.applied();
    duplicates += result.duplicates();
    conflicts += result.conflicts();
  }

  void reconnected() {
    reconnects++;
  }

  void error(String message, Instant at) {
    lastError = message;
    lastErrorAt = at;
  }

  public long entriesApplied() {
    return entriesApplied;
  }

  public long duplicates() {
    return duplicates;
  }

  public long conflicts() {
    return conflicts;
  }

  public long reconnects() {
    return reconnects;
  }

  public String lastError() {
    return lastError;
  }

  public Instant lastErrorAt() {
    return lastErrorAt;
  }
}
