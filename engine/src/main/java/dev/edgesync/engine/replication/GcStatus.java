package dev.edgesync.engine.replication;

import dev.edgesync.engine.storage.GcState;
import java.util.List;
import java.util.Map;

/**
 * Tombstone collection of one node, for {@code /status} and the metrics.
 *
 * @param store what the store persisted: tombstones, purge horizon, purged total, stable time
 * @param stableHlc this node's stable time as of the last round (0 until every source has reported)
 * @param horizonHlc the GC horizon as of the last round: the lowest stable time of all members
 * @param silentSources configured peers that have not reported since this node started: they hold
 *     the stable time
 * @param members the other nodes known, with their last stable time (each holds the horizon until
 *     forgotten)
 * @param lastFailure the last round's failure, or null
 */
public record GcStatus(
    GcState store,
    long stableHlc,
    long horizonHlc,
    List<String> silentSources,
    Map<String, Long> members,
    String lastFailure) {}
