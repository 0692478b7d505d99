package dev.edgesync.engine.replication;

import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.watermark.WatermarkStore;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What the parts of one engine share: settings, the store, the clocks and the threads.
 *
 * @param io runs blocking work (store reads for publishers, watermark writes); never timers
 * @param scheduler runs timers (heartbeats, reconnects, ack timeouts); tasks on it never block
 */
record Shared(
    ReplicationSettings settings,
    VersionedStore store,
    WatermarkStore watermarks,
    EngineMetrics metrics,
    InstantSource clock,
    ScheduledExecutorService scheduler,
    ExecutorService io) {

  String nodeId() {
    return settings.nodeId();
  }
}
