package dev.edgesync.engine.replication.core;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The batches of one peer handed to the store and not yet reported back, by stream: how many a
 * stream may have uncommitted, and how far their commits let the watermark advance.
 *
 * <p><b>The watermark invariant.</b> {@link #committed} returns an {@link Advance} to a batch's
 * {@code lastSeq} only once that batch and every earlier batch of the same stream are committed;
 * commits that arrive out of order are held until the gap closes. A batch that {@link #failed
 * fails} poisons its stream: later batches of that stream may still commit, but never advance
 * anything again, because the entries of the failed batch are not all stored.
 *
 * <p><b>The window.</b> A stream has at most {@code maxBatchesInFlight} batches uncommitted. At
 * the limit, {@link #mayRequest} says to hold back the request for the next message, and the
 * commit that frees a slot says to make it ({@link Commit#requestDue()}). A failed batch frees its
 * slot, but its stream is over and is owed nothing. Opening a new stream starts a new window:
 * batches of earlier streams no longer hold slots of it, though their commits still count.
 *
 * <p>Pure and not thread-safe: the owner serialises calls. Streams are named by the owner's
 * objects ({@code S}), returned with each outcome.
 */
public final class InFlightWindow<S> {
  /**
   * How far the committed prefix of a stream now reaches.
   *
   * @param lastSeq the {@code lastSeq} of the last batch of the prefix
   * @param lastSeqEpoch the epoch of {@code lastSeq}, as the peer reported it
   * @param entries entries of the batches the prefix grew by
   */
  public record Advance(long lastSeq, String lastSeqEpoch, int entries) {}

  /**
   * What a commit leads to.
   *
   * @param stream the stream the batch came on
   * @param requestDue true when a request held back at the limit is due now
   * @param advance how far the committed prefix of the stream grew, or null when it did not
   */
  public record Commit<S>(S stream, boolean requestDue, Advance advance) {}

  private final int maxBatchesInFlight;
  private final Map<Long, InFlight<S>> byToken = new HashMap<>();
  private Stream<S> current;
  private long nextToken = 1;

  public InFlightWindow(int maxBatchesInFlight) {
    if (maxBatchesInFlight < 1) {
      throw new IllegalArgumentException("maxBatchesInFlight must be at least 1, was " + maxBatchesInFlight);
    }
    this.maxBatchesInFlight = maxBatchesInFlight;
  }

  /** Batches of {@code stream} are handed to the store from now on; earlier streams get no more. */
  public void open(S stream) {
    current = new Stream<>(stream);
  }

  /**
   * A batch of the current stream is handed to the store. Returns the token under which the store
   * reports it back.
   *
   * @throws IllegalStateException before {@link #open}
   */
  public long add(long lastSeq, String lastSeqEpoch, int entries) {
    if (current == null) {
      throw new IllegalStateException("no stream is open");
    }
    InFlight<S> f = new InFlight<>(current, lastSeq, lastSeqEpoch, entries);
    current.batches.addLast(f);
    current.uncommitted++;
    long token = nextToken++;
    byToken.put(token, f);
    return token;
  }

  /**
   * Whether the current stream may ask for its next message now. False at the limit: the request
   * is then owed, and the commit that frees a slot reports it due.
   */
  public boolean mayRequest() {
    if (current.uncommitted >= maxBatchesInFlight) {
      current.requestOwed = true;
      return false;
    }
    return true;
  }

  /** The store committed the batch {@code token}; null for an unknown token. */
  public Commit<S> committed(long token) {
    InFlight<S> f = byToken.remove(token);
    if (f == null) {
      return null;
    }
    f.done = true;
    Stream<S> s = f.stream;
    s.uncommitted--;
    boolean requestDue = s.requestOwed && s.uncommitted < maxBatchesInFlight && s == current && !s.poisoned;
    if (requestDue) {
      s.requestOwed = false;
    }
    Advance advance = null;
    if (!s.poisoned) {
      InFlight<S> last = null;
      int entries = 0;
      while (!s.batches.isEmpty() && s.batches.peekFirst().done) {
        last = s.batches.pollFirst();
        entries += last.entries;
      }
      if (last != null) {
        advance = new Advance(last.lastSeq, last.lastSeqEpoch, entries);
      }
    }
    return new Commit<>(s.owner, requestDue, advance);
  }

  /**
   * The store refused or failed the batch {@code token}: poisons its stream (see the class
   * description) and frees its slot. Returns the stream, or null for an unknown token.
   */
  public S failed(long token) {
    InFlight<S> f = byToken.remove(token);
    if (f == null) {
      return null;
    }
    f.stream.poisoned = true;
    f.stream.uncommitted--;
    return f.stream.owner;
  }

  /** Batches handed to the store and not yet reported back, over all streams. */
  public int size() {
    return byToken.size();
  }

  /** Batches of the current stream handed to the store and not yet reported back. */
  public int uncommitted() {
    return current == null ? 0 : current.uncommitted;
  }

  /** One stream's batches, in the order they were handed to the store. */
  private static final class Stream<S> {
    final S owner;
    final Deque<InFlight<S>> batches = new ArrayDeque<>();
    int uncommitted;
    boolean requestOwed;
    boolean poisoned;

    Stream(S owner) {
      this.owner = owner;
    }
  }

  /** A batch handed to the store. */
  private static final class InFlight<S> {
    final Stream<S> stream;
    final long lastSeq;
    final String lastSeqEpoch;
    final int entries;
    boolean done;

    InFlight(Stream<S> stream, long lastSeq, String lastSeqEpoch, int entries) {
      this.stream = stream;
      this.lastSeq = lastSeq;
      this.lastSeqEpoch = lastSeqEpoch;
      this.entries = entries;
    }
  }
}
