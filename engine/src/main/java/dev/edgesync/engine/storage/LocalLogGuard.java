package dev.edgesync.engine.storage;

import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.watermark.Watermark;
import dev.edgesync.watermark.WatermarkStore;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that a database and the watermark directory next to it still belong together, and that
 * the database did not lose commits, by a marker kept among the watermarks.
 *
 * <p>Watermarks say what the local database holds. If the database was wiped (or replaced) while
 * the watermark directory survived, they claim entries the database lacks, and resuming from them
 * would never bring those entries back. The log id of the database the watermarks were written
 * for is kept under {@link #MARKER}; when it differs from the store's, every peer's watermark is
 * dropped and each peer re-syncs from seq 0 (safe: applying is idempotent). Watermarks from before
 * the marker existed are dropped only next to an empty database.
 *
 * <p>The marker also records this database's head seq at every start and clean close. A head
 * below the recorded one means the database lost commits it had made (iq80 LevelDB drops a
 * damaged block at the end of its log together with the meta written in it, leaving an older but
 * consistent state), or an older copy of it was put back. Running on would lose those
 * acknowledged writes without a word and, worse, give their seqs to new writes that subscribers
 * already hold watermarks past, so they would never receive them: the node refuses to start.
 *
 * <p>Called by whoever runs replication over the store: {@link #checkAtStart} before anything
 * reads a watermark, {@link #recordHead} once nothing writes to the store any more.
 */
public final class LocalLogGuard {
  private static final Logger log = LoggerFactory.getLogger(LocalLogGuard.class);

  /**
   * The pseudo peer id under which the marker is kept among the watermarks. It is not a valid
   * peer id (see {@code PeerSpec.isValidId}), so it cannot clash with a peer.
   */
  public static final String MARKER = "#local-log";

  private final VersionedStore store;
  private final WatermarkStore watermarks;
  private final InstantSource clock;

  public LocalLogGuard(VersionedStore store, WatermarkStore watermarks, InstantSource clock) {
    this.store = store;
    this.watermarks = watermarks;
    this.clock = clock;
  }

  /**
   * Drops watermarks written for another database, then records the store's head.
   *
   * @throws StorageException when the database's head is below the recorded one
   */
  public void checkAtStart() {
    String logId = store.logId();
    long head = store.headSeq();
    Watermark marker = watermarks.read(MARKER);
    if (marker.peerLogId().equals(logId)) {
      if (marker.seq() > head) {
        Path dataDir = watermarks.directory().getParent();
        throw new StorageException(
            "the database of node '" + store.nodeId() + "' in " + dataDir + " ends at seq " + head + " but it had"
                + " committed up to seq " + marker.seq() + " (recorded in " + watermarks.fileFor(MARKER) + " on "
                + marker.updatedAt() + "): committed writes were lost (LevelDB drops the records of a damaged log"
                + " block when it recovers) or an older copy of the database was put back; move the data dir"
                + " aside and restart: the node re-syncs its state from its peers");
      }
      recordHead();
      return;
    }
    boolean stale = !marker.peerLogId().isEmpty() || head == 0;
    if (stale) {
      List<String> dropped = new ArrayList<>();
      for (Map.Entry<String, Watermark> e : watermarks.readAll().entrySet()) {
        if (!e.getKey().equals(MARKER) && !e.getValue().isZero()) {
          watermarks.delete(e.getKey());
          dropped.add(e.getKey());
        }
      }
      if (!dropped.isEmpty()) {
        log.warn(
            "node {}: the watermarks in {} were written for database log '{}' but the database now has"
                + " log {} (wiped or replaced): dropping the watermarks of {} and re-syncing them from seq 0",
            store.nodeId(), watermarks.directory(), marker.peerLogId(), logId, dropped);
      }
    }
    recordHead();
  }

  /** Records the store's log id and head seq under {@link #MARKER}. */
  public void recordHead() {
    watermarks.write(new Watermark(MARKER, store.logId(), store.headSeq(), clock.instant()));
  }
}
