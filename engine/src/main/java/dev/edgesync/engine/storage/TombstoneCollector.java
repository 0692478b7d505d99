package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.metaKey;

import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.KvStore.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One round of tombstone collection, resolved on the writer thread into mutations for one atomic
 * write: the tombstones older than the round's purge horizon, oldest first and at most {@code
 * maxRows}, leave the state table, the by-seq log, the tombstone index and the digest; the meta
 * rows record the new counts, the purge horizon, the node's stable time and the subscribers that
 * hold the horizon back. Finding them costs a seek in the tombstone index, never a state scan.
 *
 * <p>Why a tombstone older than the horizon is safe to drop, and why a version older than it for a
 * key the node no longer holds is stale, is argued in {@code docs/ARCHITECTURE.md} ("Deletes that
 * go away").
 */
final class TombstoneCollector {
  /**
   * What the replication layer asks of one round.
   *
   * @param stableHlc the node's stable time, persisted by this round (it is reported only after)
   * @param purgeHorizon tombstones with an HLC below it are purged; never lowered
   * @param maxRows at most this many tombstones per round (one write, bounded)
   * @param members the other nodes known, with their last stable time
   * @param forgotten nodes decommissioned
   */
  record Round(long stableHlc, long purgeHorizon, int maxRows, Map<String, Long> members, java.util.Set<String> forgotten) {}

  /** A round's outcome: tombstones purged, whether older ones are left, the state after it. */
  record Outcome(int purged, boolean more, GcState state) {}

  final List<Mutation> mutations = new ArrayList<>();
  final List<Long> purgedSeqs = new ArrayList<>();
  StateDigest digest;
  Outcome outcome;

  private TombstoneCollector(StateDigest digest) {
    this.digest = digest;
  }

  static TombstoneCollector resolve(KvStore kv, VersionLookup versions, GcState gc, StateDigest digest, Round round) {
    TombstoneCollector c = new TombstoneCollector(digest);
    long horizon = Math.max(gc.purgeHorizon(), round.purgeHorizon());
    int purged = 0;
    long purgedMaxSeq = gc.purgedMaxSeq();
    int indexRowsDropped = 0;
    boolean more = false;
    try (KvStore.RowIterator rows = kv.iterate(null, new byte[] {StoreLayout.TOMBSTONES})) {
      while (rows.hasNext()) {
        KvStore.Row row = rows.next();
        if (!StoreLayout.isTombstoneKey(row.key()) || StoreLayout.tombstoneHlc(row.key()) >= horizon) {
          break;
        }
        if (purged + indexRowsDropped >= round.maxRows()) {
          more = true;
          break;
        }
        byte[] key = StoreLayout.tombstoneUserKey(row.key());
        c.mutations.add(Mutation.delete(row.key()));
        byte[] state = kv.get(StoreLayout.stateKey(key));
        StoredEntry entry = state == null ? null : StoreLayout.decodeState(key, state);
        if (entry == null || !entry.tombstone() || entry.version().hlc() != StoreLayout.tombstoneHlc(row.key())) {
          indexRowsDropped++; // an index row without its tombstone: only the row goes
          continue;
        }
        c.mutations.add(Mutation.delete(StoreLayout.stateKey(key)));
        c.mutations.add(Mutation.delete(StoreLayout.seqKey(entry.seq())));
        c.purgedSeqs.add(entry.seq());
        purgedMaxSeq = Math.max(purgedMaxSeq, entry.seq());
        c.digest = c.digest.minus(StateDigest.contribution(entry));
        versions.forget(key);
        purged++;
      }
    }
    GcState after =
        new GcState(
            gc.tombstones() - purged,
            gc.oldestHlc(),
            Math.max(gc.stableHlc(), round.stableHlc()),
            horizon,
            gc.purgedTotal() + purged,
            purgedMaxSeq,
            round.members(),
            round.forgotten());
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_DIGEST), StoreLayout.encodeDigest(c.digest)));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_TOMBSTONES), StoreLayout.encodeLong(after.tombstones())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_STABLE_HLC), StoreLayout.encodeLong(after.stableHlc())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_PURGE_HORIZON), StoreLayout.encodeLong(after.purgeHorizon())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_PURGED_TOTAL), StoreLayout.encodeLong(after.purgedTotal())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_PURGED_MAX_SEQ), StoreLayout.encodeLong(after.purgedMaxSeq())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_MEMBERS), StoreLayout.encodeHorizons(after.members())));
    Map<String, Long> forgotten = new java.util.TreeMap<>();
    after.forgotten().forEach(id -> forgotten.put(id, 0L));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_FORGOTTEN), StoreLayout.encodeHorizons(forgotten)));
    c.outcome = new Outcome(purged, more, after);
    return c;
  }
}
