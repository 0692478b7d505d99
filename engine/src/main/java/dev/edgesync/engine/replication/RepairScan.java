package dev.edgesync.engine.replication;

import dev.edgesync.engine.storage.BucketDigests;
import dev.edgesync.engine.storage.StoredEntry;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.Consumer;

/**
 * The reads of anti-entropy: a node's bucket digests, and the entries a peer lacks, each by one
 * sequential scan of the state table. Memory is bounded by the number of buckets and by the repair
 * limits, never by the size of the store.
 */
final class RepairScan {
  /** Visits every state row (tombstones included) in key order, from one consistent snapshot. */
  @FunctionalInterface
  interface StateScanner {
    void forEach(Consumer<StoredEntry> visitor);
  }

  /**
   * What a publisher sends for one repair request.
   *
   * @param entries the state rows of the differing buckets, in key order, at most the limits
   * @param bucketsDiffered how many buckets differ
   * @param truncated true when a limit cut the entries short: the subscriber asks again later
   */
  record Result(List<StoredEntry> entries, int bucketsDiffered, boolean truncated) {}

  private RepairScan() {}

  /** This node's bucket digests. */
  static BucketDigests digestsOf(StateScanner scanner, int bits) {
    BucketDigests out = new BucketDigests(bits);
    scanner.forEach(out::add);
    return out;
  }

  /**
   * Compares {@code theirs} with this node's buckets and collects this node's entries in the buckets
   * that differ, up to {@code maxEntries} entries and {@code maxBytes} of keys and values.
   */
  static Result collect(StateScanner scanner, BucketDigests theirs, int maxEntries, long maxBytes) {
    BitSet differing = digestsOf(scanner, theirs.bits()).differing(theirs);
    if (differing.isEmpty()) {
      return new Result(List.of(), 0, false);
    }
    Collector collector = new Collector(differing, theirs.bits(), maxEntries, maxBytes);
    scanner.forEach(collector);
    return new Result(collector.entries, differing.cardinality(), collector.truncated);
  }

  /** Keeps the rows of the differing buckets until a limit is reached. */
  private static final class Collector implements Consumer<StoredEntry> {
    private final BitSet buckets;
    private final int bits;
    private final int maxEntries;
    private final long maxBytes;
    private final List<StoredEntry> entries = new ArrayList<>();
    private long bytes;
    private boolean truncated;

    Collector(BitSet buckets, int bits, int maxEntries, long maxBytes) {
      this.buckets = buckets;
      this.bits = bits;
      this.maxEntries = maxEntries;
      this.maxBytes = maxBytes;
    }

    @Override
    public void accept(StoredEntry e) {
      if (truncated || !buckets.get(BucketDigests.bucketOf(e.key(), bits))) {
        return;
      }
      long size = (long) e.key().length + e.value().length;
      if (entries.size() >= maxEntries || bytes + size > maxBytes) {
        truncated = true;
        return;
      }
      entries.add(e);
      bytes += size;
    }
  }
}
