package dev.edgesync.engine.storage;

import java.util.Map;
import java.util.Set;

/**
 * What a store persists for tombstone collection, as of its last commit (see {@link
 * TombstoneCollector} and {@code docs/ARCHITECTURE.md}, "Deletes that go away").
 *
 * @param tombstones tombstone rows in the state table
 * @param expiring state rows whose value expires (expired or not yet)
 * @param oldestHlc the lowest HLC of any version ever stored here ({@code Long.MAX_VALUE}: none):
 *     no version this node holds is older
 * @param createdHlc the wall-clock HLC at which the database was created empty (0: a database from
 *     before this was recorded): every version it holds that is older came from the cluster
 * @param stableHlc the node's stable time, persisted before it was ever reported: this node holds
 *     every version older than it, or a newer version of its key
 * @param purgeHorizon tombstones older than this have been purged; a remote version older than it
 *     for a key this node does not hold is stale and is not applied
 * @param purgedTotal tombstones and expired values purged since the database was created
 * @param purgedMaxSeq the highest seq of any tombstone or expired value purged: a changes-feed client that resumes
 *     below it may have missed deletes (0: none purged)
 * @param members the other nodes this node knows of, with the stable time each last reported: every
 *     one of them holds the horizon back until it is forgotten
 * @param forgotten nodes decommissioned: they no longer hold the horizon and may not sync again
 */
public record GcState(
    long tombstones,
    long expiring,
    long oldestHlc,
    long createdHlc,
    long stableHlc,
    long purgeHorizon,
    long purgedTotal,
    long purgedMaxSeq,
    Map<String, Long> members,
    Set<String> forgotten) {
  public GcState {
    members = Map.copyOf(members);
    forgotten = Set.copyOf(forgotten);
  }

  public static final GcState EMPTY = new GcState(0, 0, Long.MAX_VALUE, 0, 0, 0, 0, 0, Map.of(), Set.of());
}
