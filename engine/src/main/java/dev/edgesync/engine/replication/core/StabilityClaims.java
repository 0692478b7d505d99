package dev.edgesync.engine.replication.core;

import dev.edgesync.proto.StabilityReport;
import java.util.ArrayDeque;

/**
 * A source's stability reports ({@code Batch}/{@code Heartbeat} {@code stable_hlc}) on one stream,
 * held until this node has committed through the seq each names. Bounded: when full, the newest
 * report replaces the last one held (it names a later seq, so it only waits longer).
 *
 * <p>Not thread-safe: the peer link's lock guards it.
 */
public final class StabilityClaims {
  /** At most this many reports wait; a window of batches in flight is far smaller. */
  static final int MAX = 64;

  /** A report: once committed through {@code seq}, the source's clocks hold here too. */
  public record Claim(long seq, StabilityReport report) {}

  private final ArrayDeque<Claim> waiting = new ArrayDeque<>();

  public void add(long seq, StabilityReport report) {
    Claim last = waiting.peekLast();
    if (last != null && last.seq > seq) {
      return; // a stream's seqs only grow; ignore the odd one
    }
    if (waiting.size() == MAX) {
      waiting.pollLast();
    }
    waiting.addLast(new Claim(seq, report));
  }

  /** Removes and returns the newest report committed through {@code committedSeq} (-1: none), or null. */
  public Claim settle(long committedSeq) {
    Claim settled = null;
    while (!waiting.isEmpty() && waiting.peekFirst().seq <= committedSeq) {
      settled = waiting.pollFirst();
    }
    return settled;
  }

  /** A new stream: reports of the old one no longer apply. */
  public void clear() {
    waiting.clear();
  }
}
