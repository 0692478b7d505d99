package dev.edgesync.engine.storage;

import java.util.ArrayList;
import java.util.List;

/**
 * The newest stretch of the change log, in memory, so that {@link GroupCommitStore#readChanges}
 * serves subscribers that keep up without touching the database. Read from iq80 LevelDB, the same
 * entries cost a snapshot, an iterator over the by-seq index and one state-row read per entry,
 * each taking the database's lock that the writer and the compaction thread also need; from here
 * they are a copy of references.
 *
 * <p>Holds a contiguous run of seqs ending at the newest commit: at most {@code maxEntries} slots
 * and about {@code maxBytes} bytes of entries (by {@link StoredEntry#approximateBytes()}); older
 * slots drop off the front. It is the compacted log, like the by-seq index: the commit that
 * replaces a key's version also empties the slot of the replaced seq, so a read returns what
 * {@code readChanges} returns from the database. A read that starts before the run returns null
 * and the caller reads the database.
 *
 * <p>Thread safety: one writer ({@link #append}) and any number of readers; all methods lock.
 */
final class RecentLog {
  private final StoredEntry[] ring; // null: a seq whose version a later commit replaced
  private final long maxBytes;
  private int start; // index of the slot of firstSeq
  private int size;
  private long firstSeq; // seq of the oldest slot held; nextSeq when empty
  private long nextSeq; // seq after the newest slot held
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
   * Adds one commit: its entries, in seq order per list and across lists, and the seqs whose
   * version it replaced (their by-seq rows are deleted in the same commit). An entry whose seq
   * does not follow the newest one held starts a new run (a store's seqs are dense, so this does
   * not happen; the run stays contiguous whatever it is given).
   */
  synchronized void append(List<List<StoredEntry>> commit, List<Long> replacedSeqs) {
    for (List<StoredEntry> entries : commit) {
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
      }
    }
    for (long seq : replacedSeqs) {
      if (seq >= firstSeq && seq < nextSeq) {
        int slot = (int) ((start + (seq - firstSeq)) % ring.length);
        StoredEntry replaced = ring[slot];
        if (replaced != null) {
          bytes -= replaced.approximateBytes();
          ring[slot] = null;
        }
      }
    }
    while (bytes > maxBytes && size > 1) {
      dropOldest();
    }
  }

  /**
   * The entries after {@code afterSeq}, as {@link VersionedStore#readChanges} returns them, or
   * null when the run does not hold {@code afterSeq + 1} (nor is it the next seq to come).
   */
  synchronized ChangeBatch read(long afterSeq, int maxEntries, long maxBatchBytes) {
    if (afterSeq + 1 < firstSeq || afterSeq + 1 > nextSeq) {
      return null;
    }
    List<StoredEntry> out = new ArrayList<>(Math.min(maxEntries, 1024));
    long batchBytes = 0;
    long head = nextSeq - 1;
    for (int i = (int) (afterSeq + 1 - firstSeq); i < size; i++) {
      StoredEntry e = ring[(start + i) % ring.length];
      if (e == null) {
        continue; // replaced: its key's newer version comes later in the run
      }
      int b = e.approximateBytes();
      if (out.size() >= maxEntries || (!out.isEmpty() && batchBytes + b > maxBatchBytes)) {
        // Stopped short: everything up to the last entry returned is covered.
        return new ChangeBatch(out, out.get(out.size() - 1).seq(), head);
      }
      out.add(e);
      batchBytes += b;
    }
    // Reached the head: replaced slots after the last entry are covered too.
    return new ChangeBatch(out, head, head);
  }

  private void dropOldest() {
    StoredEntry e = ring[start];
    ring[start] = null;
    start = (start + 1) % ring.length;
    size--;
    firstSeq++;
    if (e != null) {
      bytes -= e.approximateBytes();
    }
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
