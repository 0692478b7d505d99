package dev.edgesync.engine.storage;

import dev.edgesync.conflict.ClockSkewException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The node's versioned key-value state over a {@link KvStore}: the {@code state} table, the
 * compacted {@code by-seq} change log and {@code meta}, with last-writer-wins applied by a single
 * writer that group-commits local writes and remote batches.
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>Only a version that wins LWW is stored, and it gets the next local seq; a key has at most
 *       one by-seq row (its newest version's seq), so the change log is bounded by the number of
 *       keys, never by history.
 *   <li>A future completes only after the commit holding its write is durable (one fsync per
 *       group commit in {@code fsync} durability).
 *   <li>State, by-seq, head seq, HLC high-water mark and digest change in one atomic write.
 *   <li>A storage failure fails every pending and later write with {@link StorageException}.
 * </ul>
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
public interface VersionedStore extends AutoCloseable {

  /** This node's id, as stored in meta. */
  String nodeId();

  /** Random UUID made when the database was created; changes when it is wiped. */
  String logId();

  /** Highest seq committed. */
  long headSeq();

  /**
   * The epoch of this log that {@code seq} belongs to: the id of the latest epoch whose first seq
   * is {@code <= seq}; {@code ""} for seq 0 ("nothing"). Every open of the database starts a new
   * epoch at head seq + 1, so a database restored from an older copy issues its seqs again in an
   * epoch no subscriber has seen, and a subscriber's (seq, epoch) no longer matches.
   */
  String epochOf(long seq);

  /** The epoch this open of the database started (the one new seqs belong to). */
  String currentEpoch();

  /** Digest of the current state; equal states have equal digests. */
  StateDigest digest();

  /** Recomputes the digest from the state table (slow: reads everything). */
  StateDigest recomputeDigest();

  /**
   * Queues a local put ({@code value != null}) or delete ({@code value == null}).
   *
   * @return completes after the write is committed, or exceptionally with {@link
   *     StorageException}, or {@link LimitExceededException} when the write queue is full
   */
  default CompletableFuture<WriteResult> submitLocal(byte[] key, byte[] value) {
    return submitLocal(key, value, null);
  }

  /**
   * Queues a local write made only if the key's current version here meets {@code precondition}
   * (null: unconditional), checked atomically with the write.
   *
   * @return as {@link #submitLocal(byte[], byte[])}, or fails with {@link
   *     PreconditionFailedException} (nothing written) when the precondition does not hold
   */
  default CompletableFuture<WriteResult> submitLocal(byte[] key, byte[] value, Precondition precondition) {
    return submitLocal(key, value, precondition, 0);
  }

  /**
   * As {@link #submitLocal(byte[], byte[], Precondition)}; a put with {@code ttlMillis > 0} stores
   * a value that expires {@code ttlMillis} after its version's HLC (at most {@link #MAX_TTL_MILLIS}):
   * every node hides it from then on and collects it like a tombstone.
   *
   * @throws IllegalArgumentException when {@code ttlMillis} is negative, over the maximum, or given
   *     with a delete
   */
  CompletableFuture<WriteResult> submitLocal(byte[] key, byte[] value, Precondition precondition, long ttlMillis);

  /** The longest time to live a put may carry: 100 years (36,500 days). */
  long MAX_TTL_MILLIS = 36_500L * 24 * 3600 * 1000;

  /**
   * Queues a batch of entries received from {@code peerId} for LWW apply; entries are already
   * checksum-verified. The HLC is advanced past every entry's timestamp.
   *
   * @return completes after the commit with the counts, or exceptionally with {@link
   *     ClockSkewException} (wrapped in a {@link java.util.concurrent.CompletionException}) when any
   *     entry's timestamp is too far in the future, in which case nothing of the batch is applied
   */
  CompletableFuture<ApplyResult> submitRemote(String peerId, List<StoredEntry> entries);

  /**
   * As {@link #submitRemote(String, List)}; {@code repair}: the entries answer an anti-entropy
   * request, so a value (not a tombstone) older than the purge horizon for a key this node does not
   * hold is applied, not dropped as stale: a member that holds it as its current version proves that
   * no collected tombstone superseded it, and this node lost it.
   */
  CompletableFuture<ApplyResult> submitRemote(String peerId, List<StoredEntry> entries, boolean repair);

  /** Latest committed version of {@code key}, including tombstones; empty when never written. */
  Optional<StoredEntry> get(byte[] key);

  /**
   * Iterates live (non-tombstone) entries whose key starts with {@code prefix}, lazily, in key
   * order; close the iterator.
   */
  EntryIterator scan(byte[] prefix);

  /**
   * Like {@link #scan(byte[])}, starting at the first key strictly after {@code startAfter} (null:
   * from the start of the prefix); pages through a large prefix without re-reading earlier keys.
   */
  EntryIterator scan(byte[] prefix, byte[] startAfter);

  /**
   * Reads the change log after {@code afterSeq} from one consistent snapshot, stopping at {@code
   * maxEntries} entries or once {@code maxBytes} is reached (at least one entry is returned if
   * there is one).
   */
  ChangeBatch readChanges(long afterSeq, int maxEntries, long maxBytes);

  /** Registers a listener told about every commit; returns a handle that removes it. */
  AutoCloseable addCommitListener(CommitListener listener);

  /** Stops accepting writes, commits what is queued, then releases the store. */
  @Override
  void close();

  /** An iterator over entries that holds store resources until closed. */
  interface EntryIterator extends java.util.Iterator<StoredEntry>, AutoCloseable {
    @Override
    void close();
  }

  /** The head seq and the state digest at that head, read as one moment of the store. */
  record StateAtHead(long headSeq, StateDigest digest) {}

  /** The head seq and the state digest at it, published together by each commit. */
  StateAtHead stateAtHead();

  /**
   * Visits every state row, tombstones included, in key order, from one snapshot. Reads the whole
   * state table sequentially: call it from an I/O thread.
   */
  void scanState(Consumer<StoredEntry> visitor);

  /** What tombstone collection persisted, as of the last commit. */
  GcState gcState();

  /**
   * An HLC below which every local write of this node is committed and above which every later
   * local write will be (the node's own term of its stable time).
   */
  long quiescentClock();

  /**
   * Tells the commit listeners ({@link CommitListener#onExpired}) about the values that expired
   * since the last call, up to the store's read time, at most {@code maxRows}: through the writer,
   * between two commits, so announcements fall in commit order.
   *
   * @return completes with true when more expired values are left for the next call
   */
  CompletableFuture<Boolean> announceExpired(int maxRows);

  /** A round of tombstone collection's outcome: purged, whether older ones are left, the state after. */
  record GcOutcome(int purged, boolean more, GcState state) {}

  /**
   * Persists {@code stableHlc}, {@code members} and {@code forgotten} and purges at most {@code maxRows}
   * tombstones older than {@code purgeHorizon}, in one commit through the writer (alone, between
   * groups). The caller must have derived {@code purgeHorizon} from stability (see {@code
   * docs/ARCHITECTURE.md}).
   */
  CompletableFuture<GcOutcome> collectTombstones(
      long stableHlc, long purgeHorizon, int maxRows, java.util.Map<String, Long> members, java.util.Set<String> forgotten);
}
