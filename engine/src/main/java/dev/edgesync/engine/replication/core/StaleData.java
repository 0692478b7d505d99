package dev.edgesync.engine.replication.core;

import dev.edgesync.conflict.Hlc;

/**
 * Whether another node's data may be older than this node's tombstone horizon: it may then hold a
 * version that a purged tombstone superseded, and nothing can tell it any more. That is the case
 * when it holds some version older than the horizon and either it is not stable past the horizon
 * (restored from an older copy, or away after it was decommissioned) or it was not counted in the
 * horizon (a node new to this cluster, or one of another cluster that collected on its own). A
 * new, empty node, or one that only ever stored newer versions, is never stale; nor is one whose
 * database was created empty after the horizon and that did not go back from the stable time it
 * told this node (it got its older versions from the cluster: a new node whose first sync was cut
 * off).
 */
public final class StaleData {
  private StaleData() {}

  /**
   * @param theirStable the other node's stable time (0: unknown)
   * @param theirOldest the lowest HLC it ever stored (0: unknown)
   * @param theirCreated when its database was created empty (0: unknown)
   * @param counted whether it is a member this node counted in its horizon
   * @param recordedStable the highest stable time this node heard from it (0: none)
   * @param purgeHorizon this node purged tombstones below this HLC
   * @return why it is stale, in words, or null when it is not
   */
  public static String check(
      long theirStable, long theirOldest, long theirCreated, boolean counted, long recordedStable, long purgeHorizon) {
    if (purgeHorizon == 0 || theirOldest >= purgeHorizon) {
      return null;
    }
    if (theirCreated >= purgeHorizon && theirStable >= recordedStable) {
      // Created empty after the horizon, and not gone back from what it told us (a restored copy
      // would be): everything older it holds came from the cluster after these tombstones were
      // collected, and its sources keep for it the tombstones of anything they sent it since.
      return null;
    }
    if (!counted) {
      return "it holds versions from before the horizon " + Hlc.format(purgeHorizon)
          + " but was not counted when the tombstones below it were collected (a node new to this cluster)";
    }
    if (theirStable >= purgeHorizon) {
      return null;
    }
    return "its stable time " + Hlc.format(theirStable) + " is below the horizon " + Hlc.format(purgeHorizon)
        + " and it holds versions from before it";
  }

  /**
   * The refusal of a subscriber's {@code Hello} for its data, or null: a node that was
   * decommissioned ({@code forgotten}), or whose data is stale against {@code purgeHorizon}.
   */
  public static Failure refusal(
      String nodeId,
      dev.edgesync.proto.Hello hello,
      long purgeHorizon,
      java.util.function.Predicate<String> forgotten,
      java.util.function.ToLongFunction<String> recordedStable) {
    String who = "node '" + hello.getNodeId() + "'";
    if (forgotten.test(hello.getNodeId())) {
      return new Failure(
          "stale_data",
          dev.edgesync.proto.Refusal.Code.STALE_DATA,
          dev.edgesync.engine.replication.wire.StreamStatus.Code.FAILED_PRECONDITION,
          who + " was decommissioned (forgotten) and may not sync again under this id: its data may hold keys"
              + " deleted since; give the node a new id and an empty data dir, or remove it for good");
    }
    String stale =
        check(
            hello.getStableHlc(), hello.getOldestHlc(), hello.getCreatedHlc(),
            recordedStable.applyAsLong(hello.getNodeId()) > 0, recordedStable.applyAsLong(hello.getNodeId()), purgeHorizon);
    if (stale == null) {
      return null;
    }
    return new Failure(
        "stale_data",
        dev.edgesync.proto.Refusal.Code.STALE_DATA,
        dev.edgesync.engine.replication.wire.StreamStatus.Code.FAILED_PRECONDITION,
        who + " holds data older than the tombstone horizon of node '" + nodeId + "' (" + stale + "), so it may hold"
            + " keys deleted since whose tombstones are gone: it was restored from an old backup, was decommissioned,"
            + " or joins this cluster with old data. Stop node '" + hello.getNodeId()
            + "', move its data dir aside and start it again: it re-syncs from its peers");
  }
}
