package dev.edgesync.engine.transport.grpc;

import java.util.HashMap;
import java.util.Map;

/**
 * Counts the replication streams a server serves, in total and per subscriber id, so that a flood
 * of connections cannot take every slot and starve the real peers ({@code
 * limits.maxInboundStreams}, {@code limits.maxStreamsPerPeer}).
 *
 * <p>A stream takes a {@link Slot} when it opens, binds it to its subscriber's id when the {@code
 * Hello} arrives, and releases it when it ends; {@link Slot#release()} is idempotent. Thread-safe.
 */
public final class StreamLimits {
  private final int maxTotal;
  private final int maxPerPeer;
  // Guarded by this. Holds only ids with at least one bound slot, so at most maxTotal entries.
  private final Map<String, Integer> perPeer = new HashMap<>();
  private int open;

  StreamLimits(int maxTotal, int maxPerPeer) {
    if (maxTotal < 1 || maxPerPeer < 1) {
      throw new IllegalArgumentException("limits must be positive: " + maxTotal + ", " + maxPerPeer);
    }
    this.maxTotal = maxTotal;
    this.maxPerPeer = maxPerPeer;
  }

  int maxTotal() {
    return maxTotal;
  }

  int maxPerPeer() {
    return maxPerPeer;
  }

  /** Takes a slot for a new stream, or returns null when {@code maxTotal} streams are open. */
  synchronized Slot tryOpen() {
    if (open >= maxTotal) {
      return null;
    }
    open++;
    return new Slot();
  }

  synchronized int open() {
    return open;
  }

  synchronized int openFor(String peerId) {
    return perPeer.getOrDefault(peerId, 0);
  }

  /** One open stream's claim. */
  final class Slot {
    // Guarded by StreamLimits.this.
    private String peer;
    private boolean released;

    /**
     * Binds the slot to {@code peerId}; returns false (and binds nothing) when that id already
     * holds {@code maxPerPeer} streams. A slot binds once; later calls return true.
     */
    boolean bind(String peerId) {
      synchronized (StreamLimits.this) {
        if (released || peer != null) {
          return true;
        }
        int n = perPeer.getOrDefault(peerId, 0);
        if (n >= maxPerPeer) {
          return false;
        }
        perPeer.put(peerId, n + 1);
        peer = peerId;
        return true;
      }
    }

    /** Gives the slot back; later calls do nothing. */
    void release() {
      synchronized (StreamLimits.this) {
        if (released) {
          return;
        }
        released = true;
        open--;
        if (peer != null) {
          int n = perPeer.get(peer) - 1;
          if (n == 0) {
            perPeer.remove(peer);
          } else {
            perPeer.put(peer, n);
          }
        }
      }
    }
  }
}
