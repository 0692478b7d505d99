package dev.edgesync.engine.storage;

import java.util.ArrayList;
import java.util.List;

/**
 * The newest committed entries of the log, in memory, so that publishers serving the live tail
 * read them without touching the store. A subscriber that keeps up asks for seqs just below the
 * head; reading those from iq80 LevelDB means a snapshot, an iterator over the by-seq index and
 * one state-row read per entry, each of which takes the database's lock that the writer and the
 * compaction thread also need. From here it is a copy of references.
 *
 * <p>Holds a contiguous run of seqs ending at the newest commit: at most {@code maxEntries}
 * entries and about {@code maxBytes} bytes (by {@link StoredEntry#approximateBytes()}); older
 * entries drop off the front. A read that starts before the run returns null and the caller reads
 * the store.
 *
 * <p>Unlike the store's compacted by-seq index, the run keeps an entry that a later commit of the
 * same key replaced. A subscriber may so receive both versions of a key; last-writer-wins applies
 * them to the same result, and the newer one is never left out.
 *
 * <p>Thread safety: one writer ({@link #append}) and any number of readers; all methods lock.
 */
final class RecentLog {
  private final StoredEntry[] ring;
  private final long maxBytes;
  private int start; // index of the entry with seq firstSeq
  private int size;
  private long firstSeq; // seq of the oldest entry held; nextSeq when empty
  private long nextSeq; // seq after the newest entry held
  private long bytes;

  /**
   * @param headSeq the store's head when it opened: the run starts after it
   */
  RecentLog(long headSeq, int maxEntries, long maxBytes) {
    if (maxEntries < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("RecentLog needs maxEntries >= 1 and maxBytes >= 1");
    }
    this.ring = new StoredEntry[maxEntries];
    this.maxBytes = maxBytes;
    this.firstSeq = headSeq + 1;
    this.nextSeq = headSeq + 1;
  }

  /**
   * Appends committed entries, in seq order. An entry whose seq does not follow the newest one
   * held starts a new run (it cannot happen with a store's dense seqs; the run stays contiguous).
   */
  synchronized void append(List<StoredEntry> entries) {
    for (StoredEntry e : entries) {
      if (e.seq() != nextSeq) {
        clear(e.seq());
      }
      if (size == ring.length) {
        dropOldest();
      }
      ring[(start + size) % ring.length] = e;
      size++;
      nextSeq = e.seq() + 1;
      bytes += e.approximateBytes();
      while (bytes > maxBytes && size > 1) {
        dropOldest();
      }
    }
  }

  /**
   * The entries after {@code afterSeq}, like {@link VersionedStore#readChanges}, or null when the
   * run does not hold {@code afterSeq + 1} (nor is it the next seq to come).
   */
  synchronized ChangeBatch read(long afterSeq, int maxEntries, long maxBatchBytes) {
    if (afterSeq + 1 < firstSeq || afterSeq + 1 > nextSeq) {
      return null;
    }
    int from = (int) (afterSeq + 1 - firstSeq);
    List<StoredEntry> out = new ArrayList<>(Math.min(maxEntries, size - from));
    long batchBytes = 0;
    int i = from;
    for (; i < size && out.size() < maxEntries; i++) {
      StoredEntry e = ring[(start + i) % ring.length];
      int b = e.approximateBytes();
      if (!out.isEmpty() && batchBytes + b > maxBatchBytes) {
        break;
      }
      out.add(e);
      batchBytes += b;
    }
    long head = nextSeq - 1;
    long lastSeq = out.isEmpty() ? afterSeq : out.get(out.size() - 1).seq();
    return new ChangeBatch(out, lastSeq, head);
  }

  private void dropOldest() {
    StoredEntry e = ring[start];
    ring[start] = null;
    start = (start + 1) % ring.length;
    size--;
    firstSeq++;
    bytes -= e.approximateBytes();
  }

  private void clear(long seq) {
    while (size > 0) {
      dropOldest();
    }
    firstSeq = seq;
    nextSeq = seq;
    bytes = 0;
  }
}
