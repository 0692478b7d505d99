package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.metaKey;

import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.KvStore.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One round of tombstone collection, resolved on the writer thread into mutations for one atomic
 * write: the tombstones older than the round's purge horizon, then the values that expired before
 * it, oldest first and at most {@code maxRows} in all, leave the state table, the by-seq log, their
 * index and the digest; the meta
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
  int tombstonesPurged;
  int expiredPurged;
  // Index rows removed, each of which the count of its index ('tombstones', 'expiring') counted.
  int tombstoneRows;
  int expiryRows;
  long purgedMaxSeq;
  Outcome outcome;

  private TombstoneCollector(StateDigest digest) {
    this.digest = digest;
  }

  static TombstoneCollector resolve(KvStore kv, VersionLookup versions, GcState gc, StateDigest digest, Round round) {
    TombstoneCollector c = new TombstoneCollector(digest);
    long horizon = Math.max(gc.purgeHorizon(), round.purgeHorizon());
    int[] budget = {round.maxRows()};
    boolean more = c.sweep(kv, versions, StoreLayout.TOMBSTONES, horizon, budget);
    more |= c.sweep(kv, versions, StoreLayout.EXPIRIES, horizon, budget);
    GcState after =
        new GcState(
            gc.tombstones() - c.tombstoneRows,
            gc.expiring() - c.expiryRows,
            gc.oldestHlc(),
            gc.createdHlc(),
            Math.max(gc.stableHlc(), round.stableHlc()),
            horizon,
            gc.purgedTotal() + c.tombstonesPurged + c.expiredPurged,
            Math.max(gc.purgedMaxSeq(), c.purgedMaxSeq),
            round.members(),
            round.forgotten());
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_DIGEST), StoreLayout.encodeDigest(c.digest)));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_TOMBSTONES), StoreLayout.encodeLong(after.tombstones())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_EXPIRING), StoreLayout.encodeLong(after.expiring())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_STABLE_HLC), StoreLayout.encodeLong(after.stableHlc())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_PURGE_HORIZON), StoreLayout.encodeLong(after.purgeHorizon())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_PURGED_TOTAL), StoreLayout.encodeLong(after.purgedTotal())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_PURGED_MAX_SEQ), StoreLayout.encodeLong(after.purgedMaxSeq())));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_MEMBERS), StoreLayout.encodeHorizons(after.members())));
    Map<String, Long> forgotten = new java.util.TreeMap<>();
    after.forgotten().forEach(id -> forgotten.put(id, 0L));
    c.mutations.add(Mutation.put(metaKey(StoreLayout.META_FORGOTTEN), StoreLayout.encodeHorizons(forgotten)));
    c.outcome = new Outcome(c.tombstonesPurged + c.expiredPurged, more, after);
    return c;
  }

  /**
   * Purges the rows of one index ({@code 't'}: tombstones by HLC, {@code 'x'}: values by expiry)
   * below {@code horizon}, oldest first, within {@code budget} index rows.
   *
   * @return true when rows below the horizon are left for the next round
   */
  private boolean sweep(KvStore kv, VersionLookup versions, byte index, long horizon, int[] budget) {
    boolean tombstones = index == StoreLayout.TOMBSTONES;
    try (KvStore.RowIterator rows = kv.iterate(null, new byte[] {index})) {
      while (rows.hasNext()) {
        KvStore.Row row = rows.next();
        if (row.key().length < 9 || row.key()[0] != index || StoreLayout.indexHlc(row.key()) >= horizon) {
          return false;
        }
        if (budget[0] <= 0) {
          return true;
        }
        budget[0]--;
        byte[] key = StoreLayout.indexUserKey(row.key());
        long at = StoreLayout.indexHlc(row.key());
        mutations.add(Mutation.delete(row.key()));
        if (tombstones) {
          tombstoneRows++;
        } else {
          expiryRows++;
        }
        byte[] state = kv.get(StoreLayout.stateKey(key));
        StoredEntry entry = state == null ? null : StoreLayout.decodeState(key, state);
        boolean matches =
            entry != null
                && (tombstones
                    ? entry.tombstone() && entry.version().hlc() == at
                    : !entry.tombstone() && entry.expiresHlc() == at);
        if (!matches) {
          continue; // an index row without its state row: only the index row goes
        }
        // A value expired before the horizon is, for every node, a delete at its expiry time: every
        // node holds this version or a newer one of its key (its HLC is below its expiry), so it
        // goes exactly as a tombstone of that time would.
        mutations.add(Mutation.delete(StoreLayout.stateKey(key)));
        mutations.add(Mutation.delete(StoreLayout.seqKey(entry.seq())));
        purgedSeqs.add(entry.seq());
        purgedMaxSeq = Math.max(purgedMaxSeq, entry.seq());
        digest = digest.minus(StateDigest.contribution(entry));
        versions.forget(key);
        if (tombstones) {
          tombstonesPurged++;
        } else {
          expiredPurged++;
        }
      }
    }
    return false;
  }
}
