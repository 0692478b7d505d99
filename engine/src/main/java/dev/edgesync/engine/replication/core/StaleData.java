package dev.edgesync.engine.replication.core;

import dev.edgesync.conflict.Hlc;

/**
 * Whether another node's data may be older than this node's tombstone horizon: it may then hold a
 * version that a purged tombstone superseded, and nothing can tell it any more. That is the case
 * when the other node is not stable past the horizon (it does not provably hold every version
 * older) and holds some version older than the horizon. A new, empty node, or one that only ever
 * stored newer versions, is never stale.
 */
public final class StaleData {
  private StaleData() {}

  /**
   * @param theirStable the other node's stable time (0: unknown)
   * @param theirOldest the lowest HLC it ever stored (0: unknown)
   * @param purgeHorizon this node purged tombstones below this HLC
   * @return why it is stale, in words, or null when it is not
   */
  public static String check(long theirStable, long theirOldest, long purgeHorizon) {
    if (purgeHorizon == 0 || theirStable >= purgeHorizon || theirOldest >= purgeHorizon) {
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
      String nodeId, dev.edgesync.proto.Hello hello, long purgeHorizon, java.util.function.Predicate<String> forgotten) {
    String who = "node '" + hello.getNodeId() + "'";
    if (forgotten.test(hello.getNodeId())) {
      return new Failure(
          "stale_data",
          dev.edgesync.proto.Refusal.Code.STALE_DATA,
          dev.edgesync.engine.replication.wire.StreamStatus.Code.FAILED_PRECONDITION,
          who + " was decommissioned (forgotten) and may not sync again under this id: its data may hold keys"
              + " deleted since; give the node a new id and an empty data dir, or remove it for good");
    }
    String stale = check(hello.getStableHlc(), hello.getOldestHlc(), purgeHorizon);
    if (stale == null) {
      return null;
    }
    return new Failure(
        "stale_data",
        dev.edgesync.proto.Refusal.Code.STALE_DATA,
        dev.edgesync.engine.replication.wire.StreamStatus.Code.FAILED_PRECONDITION,
        who + " holds data older than the tombstone horizon of node '" + nodeId + "' (" + stale + "), so it may hold"
            + " keys deleted since whose tombstones are gone: it was away longer than the other nodes kept"
            + " deletes, was restored from an old backup, or was decommissioned. Stop node '" + hello.getNodeId()
            + "', move its data dir aside and start it again: it re-syncs from its peers");
  }
}
