package dev.edgesync.engine.replication;

import dev.edgesync.engine.replication.core.Stability;

import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.watermark.WatermarkStore;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/**
 * What the parts of one engine share: settings, the store, the clocks and the threads.
 *
 * @param io runs blocking work (store reads for publishers, watermark writes); never timers
 * @param scheduler runs timers (heartbeats, reconnects, ack timeouts); tasks on it never block
 * @param appliedFrom what this node has committed of a peer's log, by peer id (anti-entropy's
 *     "caught up both ways" is told to the peer in heartbeats); {@link AppliedPosition#NONE} for a
 *     node this one does not pull from
 * @param stability this node's stable time and GC horizon, fed by every stream (see {@link TombstoneGc})
 */
record Shared(
    ReplicationSettings settings,
    VersionedStore store,
    WatermarkStore watermarks,
    EngineMetrics metrics,
    InstantSource clock,
    ScheduledExecutorService scheduler,
    ExecutorService io,
    Function<String, AppliedPosition> appliedFrom,
    Stability stability) {

  String nodeId() {
    return settings.nodeId();
  }
}
