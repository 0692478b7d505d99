package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.EMPTY;
import static dev.edgesync.engine.storage.StoreLayout.META_DIGEST;
import static dev.edgesync.engine.storage.StoreLayout.META_EPOCHS;
import static dev.edgesync.engine.storage.StoreLayout.META_FORMAT;
import static dev.edgesync.engine.storage.StoreLayout.META_HEAD_SEQ;
import static dev.edgesync.engine.storage.StoreLayout.META_HLC;
import static dev.edgesync.engine.storage.StoreLayout.META_LOG_ID;
import static dev.edgesync.engine.storage.StoreLayout.META_NODE_ID;
import static dev.edgesync.engine.storage.StoreLayout.META_OLDEST_HLC;
import static dev.edgesync.engine.storage.StoreLayout.META_PURGED_TOTAL;
import static dev.edgesync.engine.storage.StoreLayout.META_PURGE_HORIZON;
import static dev.edgesync.engine.storage.StoreLayout.META_STABLE_HLC;
import static dev.edgesync.engine.storage.StoreLayout.META_TOMBSTONES;
import static dev.edgesync.engine.storage.StoreLayout.metaKey;
import static dev.edgesync.engine.storage.StoreLayout.seqKey;

import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.KvStore.Mutation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an open of a store starts from, read from (or, on a new database, written to) the {@code
 * meta} table, after the checks that make it safe to write on: the node id, the layout version,
 * the state digest and the head seq. Loading also fills the key filter from the one scan of the
 * state table that verifies the digest, and records the new epoch this open starts ({@link
 * LogEpochs}) in one synced write before any commit can use it.
 *
 * @param logId random UUID made when the database was created
 * @param headSeq highest committed seq
 * @param hlc the persisted HLC high-water mark
 * @param digest the state digest recorded with the last commit (verified when the store may lose
 *     records silently)
 * @param epochs the stored epochs plus the one this open starts
 * @param keyFilter holds every key of the state table
 * @param gc what tombstone collection persisted
 * @param stateRows rows of the state table (keys held, tombstones included), counted by that scan
 */
record StoreMeta(
    String logId, long headSeq, long hlc, StateDigest digest, LogEpochs epochs, KeyFilter keyFilter, GcState gc, long stateRows) {
  private static final Logger log = LoggerFactory.getLogger(StoreMeta.class);

  /**
   * Loads the meta of the database in {@code kv}, or creates it on an empty one; called once per
   * open, on the opening thread, before the writer starts.
   *
   * @throws NodeIdMismatchException if the database was created under another node id (nothing is
   *     written then)
   * @throws StorageException if the database cannot be read or is inconsistent
   */
  static StoreMeta loadOrCreate(KvStore kv, String location, String nodeId, java.time.InstantSource wall) {
    KeyFilter keyFilter = KeyFilter.withHeapBudget(location);
    byte[] storedId = kv.get(metaKey(META_NODE_ID));
    if (storedId == null) {
      return create(kv, location, nodeId, keyFilter, wall);
    }
    String stored = new String(storedId, StandardCharsets.UTF_8);
    if (!stored.equals(nodeId)) {
      throw new NodeIdMismatchException(location, stored, nodeId);
    }
    long format = StoreLayout.decodeLong(META_FORMAT, requiredMeta(kv, location, META_FORMAT));
    if (format != StoreLayout.FORMAT_VERSION) {
      throw new StorageException(
          "database at " + location + " has layout version " + format + " but this edgesync reads version "
              + StoreLayout.FORMAT_VERSION + ": run the edgesync version that wrote it");
    }
    String logId = new String(requiredMeta(kv, location, META_LOG_ID), StandardCharsets.UTF_8);
    long head = StoreLayout.decodeLong(META_HEAD_SEQ, requiredMeta(kv, location, META_HEAD_SEQ));
    long hlc = StoreLayout.decodeLong(META_HLC, requiredMeta(kv, location, META_HLC));
    StateDigest digest = StoreLayout.decodeDigest(requiredMeta(kv, location, META_DIGEST));
    long[] rows = {0};
    java.util.function.Consumer<byte[]> eachKey =
        key -> {
          keyFilter.add(key);
          rows[0]++;
        };
    if (kv.mayLoseRecordsSilently()) {
      verifyDigest(kv, location, digest, eachKey);
    } else {
      StateReader.scanState(kv, (key, row) -> eachKey.accept(key));
    }
    // Head and rows are written in one atomic batch, so a by-seq row above the head means the
    // database was damaged or written by something else; better to stop here than to reuse seqs.
    try (KvStore.RowIterator after = kv.iterate(null, seqKey(head + 1))) {
      if (after.hasNext()) {
        byte[] key = after.next().key();
        if (StoreLayout.isSeqKey(key)) {
          throw new StorageException(
              "database at " + location + " is inconsistent: by-seq row " + StoreLayout.seqOf(key)
                  + " is above the head seq " + head + "; move the data dir aside and restart: the node re-syncs"
                  + " its state from its peers");
        }
      }
    }
    GcState gc = loadGcState(kv, location);
    LogEpochs epochs = LogEpochs.startingAfter(StoreLayout.decodeEpochs(kv.get(metaKey(META_EPOCHS))), head);
    kv.write(List.of(Mutation.put(metaKey(META_EPOCHS), StoreLayout.encodeEpochs(epochs.list()))), true);
    return new StoreMeta(logId, head, hlc, digest, epochs, keyFilter, gc, rows[0]);
  }

  private static StoreMeta create(KvStore kv, String location, String nodeId, KeyFilter keyFilter, java.time.InstantSource wall) {
    try (KvStore.RowIterator any = kv.iterate(null, EMPTY)) {
      if (any.hasNext()) {
        throw new StorageException(
            "database at " + location + " holds data but no node id: it is not an edgesync database, or it is"
                + " damaged; give the node an empty data dir (a damaged one can be moved aside: the node re-syncs"
                + " its state from its peers)");
      }
    }
    String logId = UUID.randomUUID().toString();
    LogEpochs epochs = LogEpochs.first();
    long created = dev.edgesync.conflict.Hlc.of(Math.max(0, wall.millis()), 0);
    kv.write(
        List.of(
            Mutation.put(metaKey(META_FORMAT), StoreLayout.encodeLong(StoreLayout.FORMAT_VERSION)),
            Mutation.put(metaKey(META_NODE_ID), nodeId.getBytes(StandardCharsets.UTF_8)),
            Mutation.put(metaKey(META_LOG_ID), logId.getBytes(StandardCharsets.UTF_8)),
            Mutation.put(metaKey(META_HEAD_SEQ), StoreLayout.encodeLong(0)),
            Mutation.put(metaKey(META_HLC), StoreLayout.encodeLong(0)),
            Mutation.put(metaKey(META_DIGEST), StoreLayout.encodeDigest(StateDigest.EMPTY)),
            Mutation.put(metaKey(META_TOMBSTONES), StoreLayout.encodeLong(0)),
            Mutation.put(metaKey(StoreLayout.META_CREATED_HLC), StoreLayout.encodeLong(created)),
            Mutation.put(metaKey(META_EPOCHS), StoreLayout.encodeEpochs(epochs.list()))),
        true);
    log.info("created database {} for node {} with log id {}", location, nodeId, logId);
    GcState gc = new GcState(0, 0, Long.MAX_VALUE, created, 0, 0, 0, 0, java.util.Map.of(), java.util.Set.of());
    return new StoreMeta(logId, 0, 0, StateDigest.EMPTY, epochs, keyFilter, gc, 0);
  }

  /**
   * The digest in meta is written in the same atomic batch as the rows it sums, so a state that
   * sums to another digest lost (or gained) rows of some batch after it was committed: iq80
   * dropping a damaged block of its log on recovery does exactly that. Running on such a state
   * would serve it as the truth and lose acknowledged writes for good, so the store refuses to
   * open. Costs one scan of the state table (about a second per million keys).
   *
   * <p>What this cannot see: a damaged block at the very end of the log takes the meta of the
   * batches in it along, leaving an older but consistent state. The replication engine catches
   * that case from the head seq it recorded outside the database (see {@code
   * ReplicationEngine}).
   */
  private static void verifyDigest(KvStore kv, String location, StateDigest stored, java.util.function.Consumer<byte[]> eachKey) {
    long start = System.nanoTime();
    StateDigest actual = StateReader.digestOf(kv, eachKey);
    if (!actual.equals(stored)) {
      throw new StorageException(
          "database at " + location + " is damaged: its state no longer sums to the digest recorded with its last"
              + " commit (" + stored.toHex() + " recorded, " + actual.toHex() + " found), so committed writes were"
              + " lost (LevelDB drops the records of a damaged log block when it recovers); move the data dir aside"
              + " and restart: the node re-syncs its state from its peers");
    }
    log.info(
        "verified the state digest of {} in {} ms", location, (System.nanoTime() - start) / 1_000_000);
  }

  /**
   * Reads what tombstone collection persisted. A database from before the tombstone index gets it
   * here, once: one scan of the state table writes an index row per tombstone, the count and the
   * oldest HLC.
   */
  private static GcState loadGcState(KvStore kv, String location) {
    byte[] count = kv.get(metaKey(META_TOMBSTONES));
    long tombstones;
    long oldest;
    if (count == null) {
      long start = System.nanoTime();
      long[] found = {0, Long.MAX_VALUE};
      List<Mutation> rows = new java.util.ArrayList<>();
      StateReader.scanState(
          kv,
          (key, row) -> {
            StoredEntry e = StoreLayout.decodeState(key, row);
            found[1] = Math.min(found[1], e.version().hlc());
            if (e.tombstone()) {
              found[0]++;
              rows.add(Mutation.put(StoreLayout.tombstoneKey(e.version().hlc(), key), EMPTY));
              if (rows.size() >= 10_000) {
                kv.write(List.copyOf(rows), false);
                rows.clear();
              }
            }
          });
      tombstones = found[0];
      oldest = found[1];
      rows.add(Mutation.put(metaKey(META_TOMBSTONES), StoreLayout.encodeLong(tombstones)));
      if (oldest != Long.MAX_VALUE) {
        rows.add(Mutation.put(metaKey(META_OLDEST_HLC), StoreLayout.encodeLong(oldest)));
      }
      kv.write(rows, true);
      log.info(
          "indexed {} tombstones of {} for collection in {} ms", tombstones, location, (System.nanoTime() - start) / 1_000_000);
    } else {
      tombstones = StoreLayout.decodeLong(META_TOMBSTONES, count);
      oldest = optionalLong(kv, META_OLDEST_HLC, Long.MAX_VALUE);
    }
    return new GcState(
        tombstones,
        // A database from before expiring values holds none: absent means 0.
        optionalLong(kv, StoreLayout.META_EXPIRING, 0),
        oldest,
        optionalLong(kv, StoreLayout.META_CREATED_HLC, 0),
        optionalLong(kv, META_STABLE_HLC, 0),
        optionalLong(kv, META_PURGE_HORIZON, 0),
        optionalLong(kv, META_PURGED_TOTAL, 0),
        optionalLong(kv, StoreLayout.META_PURGED_MAX_SEQ, 0),
        StoreLayout.decodeHorizons(kv.get(metaKey(StoreLayout.META_MEMBERS))),
        StoreLayout.decodeHorizons(kv.get(metaKey(StoreLayout.META_FORGOTTEN))).keySet());
  }

  private static long optionalLong(KvStore kv, String name, long absent) {
    byte[] value = kv.get(metaKey(name));
    return value == null ? absent : StoreLayout.decodeLong(name, value);
  }

  private static byte[] requiredMeta(KvStore kv, String location, String name) {
    byte[] value = kv.get(metaKey(name));
    if (value == null) {
      throw new StorageException(
          "database at " + location + " lacks meta '" + name + "': it is damaged; move the data dir aside and"
              + " restart: the node re-syncs its state from its peers");
    }
    return value;
  }
}
