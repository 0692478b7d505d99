package dev.edgesync.engine.replication;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.engine.replication.core.Stability;
import dev.edgesync.engine.storage.GcState;
import dev.edgesync.engine.storage.VersionedStore;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tombstone collection: every {@code gc.interval} one round computes this node's stable time
 * and horizon ({@link Stability}), and the store persists the stable time and purges, in one
 * write, at most {@code gc.batchSize} tombstones older than the purge horizon: the horizon less
 * {@code gc.minAge}, rounded down to {@link GcSettings#quantumMillis()}, so that every node purges
 * the same tombstones at about the same moment. The horizon is at most the clock of every node
 * known, so with {@code gc.minAge} at least the maximum clock skew, a node not known yet (a new
 * site whose clock is behind by up to the skew) never writes below the purge horizon. A round that leaves older
 * tombstones is followed by the next at once (on the I/O executor, one round at a time). Only
 * after the write are the new values told to peers.
 *
 * <p>Thread safety: rounds never overlap ({@code running}); start and close from any thread.
 */
final class TombstoneGc {
  private static final Logger log = LoggerFactory.getLogger(TombstoneGc.class);

  private final Shared shared;
  private final GcSettings settings;
  private final AtomicBoolean running = new AtomicBoolean();
  private volatile boolean closed;
  private ScheduledFuture<?> task;
  private volatile String lastFailure;

  TombstoneGc(Shared shared) {
    this.shared = shared;
    this.settings = shared.settings().gc();
  }

  synchronized void start() {
    long period = settings.interval().toMillis();
    task = shared.scheduler().scheduleWithFixedDelay(this::round, period, period, TimeUnit.MILLISECONDS);
  }

  synchronized void close() {
    closed = true;
    if (task != null) {
      task.cancel(false);
    }
  }

  /** The last round's failure, or null. */
  String lastFailure() {
    return lastFailure;
  }

  private void round() {
    if (closed || !running.compareAndSet(false, true)) {
      return;
    }
    try {
      VersionedStore store = shared.store();
      Stability.Round r = shared.stability().next(store.quiescentClock());
      long purge = 0;
      if (settings.enabled() && r.horizonHlc() > 0) {
        // The horizon less the minimum age, in the horizon's own time: every node computes about
        // the same horizon, so they purge the same tombstones at about the same moment, whatever
        // their wall clocks say.
        long quantum = settings.quantumMillis();
        long millis = Math.max(0, Hlc.physicalMillis(r.horizonHlc()) - settings.minAge().toMillis());
        purge = Hlc.of(millis / quantum * quantum, 0);
      }
      GcState before = store.gcState();
      purge = Math.max(purge, before.purgeHorizon());
      store
          .collectTombstones(r.stableHlc(), purge, settings.batchSize(), r.members(), r.forgotten())
          .whenComplete(
              (outcome, error) -> {
                running.set(false);
                if (error != null) {
                  String why = String.valueOf(error.getCause() != null ? error.getCause() : error);
                  if (!why.equals(lastFailure)) {
                    log.warn("node {}: tombstone collection round failed (the next round retries): {}", shared.nodeId(), why);
                  }
                  lastFailure = why;
                  return;
                }
                lastFailure = null;
                shared.stability().persisted(r);
                if (outcome.purged() > 0) {
                  log.debug("node {}: purged {} tombstones below {}", shared.nodeId(), outcome.purged(), Hlc.format(outcome.state().purgeHorizon()));
                }
                if (outcome.more() && !closed) {
                  try {
                    shared.io().execute(this::round);
                  } catch (java.util.concurrent.RejectedExecutionException e) {
                    // closing
                  }
                }
              });
    } catch (RuntimeException e) {
      running.set(false);
      log.warn("node {}: tombstone collection round failed (the next round retries): {}", shared.nodeId(), e.toString());
    }
  }
}
