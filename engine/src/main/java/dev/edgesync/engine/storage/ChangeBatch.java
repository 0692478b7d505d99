package dev.edgesync.engine.storage;

import java.util.List;

/**
 * A run of the by-seq index read for a subscriber.
 *
 * @param entries the entries, in increasing seq order
 * @param lastSeq every seq up to and including this one is covered by this batch and earlier ones
 *     (rows are compacted, so seqs have gaps); equals the snapshot's head when the run reached it
 * @param headSeq the head seq of the snapshot the batch was read from
 */
public record ChangeBatch(List<StoredEntry> entries, long lastSeq, long headSeq) {}
