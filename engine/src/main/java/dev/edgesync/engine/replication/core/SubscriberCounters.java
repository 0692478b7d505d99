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
  private Instant connectedAt; // the last accepted Welcome

  void applied(ApplyResult result) {
    entriesApplied += result.applied();
    duplicates += result.duplicates();
    conflicts += result.conflicts();
  }

  void reconnected() {
    reconnects++;
  }

  void error(String message, Instant at) {
    lastError = oneLine(message);
    lastErrorAt = at;
  }

  void connected(Instant at) {
    connectedAt = at;
  }

  /** An error text on one line, at most 500 characters: a cause's stack or Netty's detail stays in the log. */
  private static String oneLine(String message) {
    if (message == null) {
      return null;
    }
    String line = message.replaceAll("\\s+", " ").strip();
    return line.length() <= 500 ? line : line.substring(0, 497) + "...";
  }

  /** True when the link connected after the last error: the error is history, not the link's state. */
  public boolean lastErrorResolved() {
    return lastError != null && connectedAt != null && !connectedAt.isBefore(lastErrorAt);
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
