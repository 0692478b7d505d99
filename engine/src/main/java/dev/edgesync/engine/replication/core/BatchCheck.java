package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.replication.wire.EntryCodec;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Entry;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether a {@code Batch} may be applied: it does not go back behind the previous batch of its
 * stream, its entries' seqs rise strictly within {@code (previous lastSeq, lastSeq]}, and every
 * entry passes its checksum. A batch either passes whole or is refused whole: nothing of a refused
 * batch reaches the store. Pure.
 */
final class BatchCheck {
  /** Either {@code failure}, or the decoded {@code entries} to hand to the store. */
  record Result(Failure failure, List<StoredEntry> entries) {}

  private BatchCheck() {}

  /**
   * @param previousLastSeq the {@code lastSeq} of the stream's previous batch (or the start seq of
   *     its {@code Welcome})
   * @param watermarkSeq the committed watermark, named in the failure so the reader knows what is
   *     kept
   */
  static Result check(Batch batch, long previousLastSeq, long watermarkSeq, SubscriberFailures failures) {
    if (batch.getLastSeq() < previousLastSeq) {
      return refused(
          failures.protocol(
              "sent a Batch ending at seq " + batch.getLastSeq() + " after one ending at " + previousLastSeq));
    }
    List<StoredEntry> entries = new ArrayList<>(batch.getEntriesCount());
    long previousSeq = previousLastSeq;
    for (Entry entry : batch.getEntriesList()) {
      if (entry.getSeq() <= previousSeq || entry.getSeq() > batch.getLastSeq()) {
        return refused(
            failures.protocol(
                "sent an entry with seq " + entry.getSeq() + " out of order (after seq " + previousSeq
                    + ", in a batch ending at " + batch.getLastSeq() + ")"));
      }
      previousSeq = entry.getSeq();
      try {
        entries.add(EntryCodec.decode(entry));
      } catch (EntryCodec.CorruptEntryException e) {
        return refused(failures.corruptBatch(previousLastSeq + 1, batch.getLastSeq(), e.getMessage(), watermarkSeq));
      }
    }
    return new Result(null, entries);
  }

  /**
   * An anti-entropy batch ({@code Batch.repair}): only its entries' checksums are checked, since
   * its entries are state rows in key order, outside the log's seq order.
   */
  static Result checkRepair(Batch batch, long watermarkSeq, SubscriberFailures failures) {
    List<StoredEntry> entries = new ArrayList<>(batch.getEntriesCount());
    for (Entry entry : batch.getEntriesList()) {
      try {
        entries.add(EntryCodec.decode(entry));
      } catch (EntryCodec.CorruptEntryException e) {
        return refused(failures.corruptBatch(0, 0, "repair batch: " + e.getMessage(), watermarkSeq));
      }
    }
    return new Result(null, entries);
  }

  private static Result refused(Failure failure) {
    return new Result(failure, List.of());
  }
}
