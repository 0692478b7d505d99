package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.seqKey;
import static dev.edgesync.engine.storage.StoreLayout.stateKey;

import dev.edgesync.engine.storage.kv.KvStore;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Reads of the compacted change log ({@link VersionedStore#readChanges}): from the {@link
 * RecentLog} when the requested seqs are still in memory, else from the by-seq index at one
 * snapshot.
 *
 * <p>Thread safety: any thread, concurrently with the writer; the head it reads is the one the
 * writer publishes after each durable commit.
 */
final class ChangeLogReader {
  private final KvStore kv;
  private final RecentLog recent;
  private final LongSupplier headSeq;

  /**
   * @param recent the in-memory tail of the log, appended to by the writer
   * @param headSeq the highest seq whose commit is durable
   */
  ChangeLogReader(KvStore kv, RecentLog recent, LongSupplier headSeq) {
    this.kv = kv;
    this.recent = recent;
    this.headSeq = headSeq;
  }

  /**
   * See {@link GroupCommitStore#readChanges}. A by-seq row whose state row, read at the same
   * snapshot, is missing or carries another seq is skipped: the key was overwritten after the
   * snapshot (iq80 LevelDB compactions can drop the version a snapshot should see), and its newer
   * version has a later seq, so a later read delivers it.
   */
  ChangeBatch readChanges(long afterSeq, int maxEntries, long maxBytes) {
    if (afterSeq < 0 || maxEntries < 1 || maxBytes < 1) {
      throw new IllegalArgumentException(
          "readChanges needs afterSeq >= 0, maxEntries >= 1, maxBytes >= 1; got " + afterSeq + ", " + maxEntries
              + ", " + maxBytes);
    }
    // The newest commits are in memory: a subscriber that keeps up never reads the database.
    ChangeBatch recentRun = recent.read(afterSeq, maxEntries, maxBytes);
    if (recentRun != null) {
      return recentRun;
    }
    // The head is read before the snapshot: the snapshot holds every commit up to it, and possibly
    // whole later commits whose head is not published yet. Their rows are returned too, and the
    // highest seq seen then stands for the snapshot's head (a commit's top seq always has its row
    // in that commit).
    long head = headSeq.getAsLong();
    List<StoredEntry> entries = new ArrayList<>();
    long bytes = 0;
    long lastSeq = afterSeq;
    long highestSeen = head;
    boolean reachedEnd = true;
    try (KvStore.Snapshot snapshot = kv.snapshot();
        KvStore.RowIterator rows = kv.iterate(snapshot, seqKey(afterSeq + 1))) {
      while (rows.hasNext()) {
        KvStore.Row row = rows.next();
        if (!StoreLayout.isSeqKey(row.key())) {
          break;
        }
        long seq = StoreLayout.seqOf(row.key());
        highestSeen = Math.max(highestSeen, seq);
        byte[] key = row.value();
        byte[] state = kv.get(snapshot, stateKey(key));
        StoredEntry entry = state == null ? null : StoreLayout.decodeState(key, state);
        if (entry == null || entry.seq() != seq) {
          lastSeq = seq; // overwritten since the snapshot; the newer version comes later
          continue;
        }
        int size = entry.approximateBytes();
        if (entries.size() >= maxEntries || (!entries.isEmpty() && bytes + size > maxBytes)) {
          reachedEnd = false;
          break;
        }
        entries.add(entry);
        bytes += size;
        lastSeq = seq;
      }
    }
    long snapshotHead = highestSeen;
    return new ChangeBatch(entries, reachedEnd ? Math.max(lastSeq, snapshotHead) : lastSeq, snapshotHead);
  }
}
