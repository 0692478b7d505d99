package dev.edgesync.engine.storage;

import dev.edgesync.conflict.ClockSkewException;
import dev.edgesync.conflict.HybridLogicalClock;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link VersionedStore} of a node: LWW state, the compacted by-seq change log and meta in one
 * {@link KvStore}, written by a single writer thread that group-commits. This class wires the
 * parts, one concern each:
 *
 * <ul>
 *   <li>{@link StoreMeta}: opening: meta loaded or created, node id, layout version and digest
 *       checked, the key filter filled, a new epoch started ({@link LogEpochs}, {@link #epochOf});
 *   <li>{@link WriteAdmission}: limits, refusals and the bounded write queue;
 *   <li>{@link GroupCommitWriter}: the writer thread, its failed state and the listener calls;
 *   <li>{@link LwwGroup}: LWW resolution, seq assignment and mutations of one group commit;
 *   <li>{@link VersionLookup}: a key's committed version through key filter, cache and store;
 *   <li>{@link StateReader} and {@link ChangeLogReader}: {@link #get}/{@link #scan} and {@link
 *       #readChanges} (with the {@link RecentLog}).
 * </ul>
 *
 * <p>The key layout is in {@link StoreLayout}. A delete keeps a tombstone row, so that an older
 * version arriving later still loses; storing a newer version of a key deletes its old by-seq row
 * in the same batch, so the change log is bounded by the number of keys, never by history. Every
 * group commit writes state rows, by-seq rows and the meta rows {@code headSeq}, {@code hlc} and
 * {@code digest} in one atomic {@link KvStore#write}; futures complete after that write returns.
 *
 * <p>Futures complete and listeners are called on the writer thread: dependants chained with the
 * non-async {@link CompletableFuture} methods run there too and delay every later commit, so chain
 * real work with the {@code ...Async} variants. After a failed write (or a listener that threw)
 * every later write fails with {@link StorageException} and {@link #failure()} returns the cause;
 * reads keep working.
 *
 * <h2>Lifecycle</h2>
 *
 * <p>{@link #open} starts the writer. {@link #close()} refuses new writes ({@link
 * StoreClosedException}), lets the writer commit everything queued, joins it and closes the {@link
 * KvStore}. It must not be called from a listener (that is, from the writer thread). A harness
 * that must decide when group commits happen passes a {@link WriterGate} to {@link
 * #open(KvStore, String, StoreOptions, EngineMetrics, WriterGate)}.
 *
 * <p>Thread safety: all public methods may be called from any thread.
 */
public final class GroupCommitStore implements VersionedStore {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitStore.class);

  /** Newest seqs of the change log held in memory for {@link #readChanges} ({@code RecentLog}). */
  public static final int RECENT_LOG_ENTRIES = 16_384;

  /** Byte bound of the {@link RecentLog}: 8 MiB. */
  static final long RECENT_LOG_BYTES = 8L << 20;

  private final KvStore kv;
  private final String location;
  private final StoreOptions options;
  private final String logId;
  private final LogEpochs epochs;
  private final HybridLogicalClock clock;
  private final ReadClock readClock;
  private final WriterGate gate;
  private final VersionLookup versions;
  private final GroupCommitWriter writer;
  private final WriteAdmission admission;
  private final StateReader state;
  private final ChangeLogReader changes;
  private boolean closed; // guarded by this

  private GroupCommitStore(
      KvStore kv, String location, StoreOptions options, EngineMetrics metrics, StoreMeta meta, WriterGate gate) {
    this.kv = kv;
    this.location = location;
    this.options = options;
    this.logId = meta.logId();
    this.epochs = meta.epochs();
    // Never below the stable time this node reported: its later writes must be newer than it.
    this.clock =
        new HybridLogicalClock(options.wallClock(), options.maxClockSkew(), Math.max(meta.hlc(), meta.gc().stableHlc()));
    this.readClock = new ReadClock(kv, clock);
    this.gate = gate;
    this.versions = new VersionLookup(kv, meta.keyFilter(), options.cacheMaxEntries());
    RecentLog recent = new RecentLog(meta.headSeq(), RECENT_LOG_ENTRIES, RECENT_LOG_BYTES);
    this.writer =
        new GroupCommitWriter(
            kv, location, options, metrics, clock, readClock, meta.headSeq(), meta.digest(), versions, recent, gate,
            meta.gc());
    writer.initialStateRows(meta.stateRows());
    this.admission = new WriteAdmission(options, writer, gate);
    this.state = new StateReader(kv);
    this.changes = new ChangeLogReader(kv, recent, writer::headSeq);
  }

  /**
   * Opens the store over {@code kv}, creating meta on a new database, and starts the writer.
   *
   * <p>Takes ownership of {@code kv}: it is closed by {@link #close()}, and closed here when
   * opening fails.
   *
   * @param location where the database lives, for messages (the db directory)
   * @throws NodeIdMismatchException if the database was created under another node id (nothing is
   *     written then)
   * @throws StorageException if the database cannot be read or is inconsistent
   */
  public static GroupCommitStore open(KvStore kv, String location, StoreOptions options, EngineMetrics metrics) {
    return open(kv, location, options, metrics, WriterGate.NONE);
  }

  /**
   * Like {@link #open(KvStore, String, StoreOptions, EngineMetrics)}, with the writer consulting
   * {@code gate} around each group commit (for a deterministic simulation; production passes
   * {@link WriterGate#NONE}).
   */
  public static GroupCommitStore open(
      KvStore kv, String location, StoreOptions options, EngineMetrics metrics, WriterGate gate) {
    Objects.requireNonNull(kv, "kv");
    Objects.requireNonNull(location, "location");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(gate, "gate");
    GroupCommitStore store;
    try {
      StoreMeta meta = StoreMeta.loadOrCreate(kv, location, options.nodeId(), options.wallClock());
      store = new GroupCommitStore(kv, location, options, metrics, meta, gate);
    } catch (RuntimeException | Error e) {
      try {
        kv.close();
      } catch (RuntimeException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
    store.writer.start();
    log.info(
        "opened store {} of node {}: log id {}, head seq {}, epoch {} from seq {} ({} epochs), digest {}",
        location,
        options.nodeId(),
        store.logId,
        store.headSeq(),
        store.currentEpoch(),
        store.epochs.current().firstSeq(),
        store.epochs.list().size(),
        store.digest());
    return store;
  }

  // ---------------------------------------------------------------------------------------------
  // Identity and state

  @Override
  public String nodeId() {
    return options.nodeId();
  }

  /**
   * Writes a backup of this store as of one snapshot to {@code out} ({@link StoreBackup}); writes
   * go on meanwhile. {@code progress} hears the rows written so far, now and then.
   */
  public StoreBackup.Manifest backup(java.io.OutputStream out, java.util.function.LongConsumer progress)
      throws java.io.IOException {
    return StoreBackup.write(kv, out, java.time.Instant.now(), progress);
  }

  @Override
  public String logId() {
    return logId;
  }

  @Override
  public long headSeq() {
    return writer.headSeq();
  }

  @Override
  public String epochOf(long seq) {
    return epochs.epochOf(seq);
  }

  @Override
  public String currentEpoch() {
    return epochs.current().idText();
  }

  /** The log's epochs, oldest first, for tests. */
  List<StoreLayout.Epoch> epochs() {
    return epochs.list();
  }

  @Override
  public StateDigest digest() {
    return writer.digest();
  }

  @Override
  public StateAtHead stateAtHead() {
    return writer.stateAtHead();
  }

  @Override
  public void scanState(Consumer<StoredEntry> visitor) {
    state.scanState(visitor);
  }

  /**
   * The HLC time a read judges expiry at: never earlier than any read before it, across restarts
   * too ({@link ReadClock}); may write one meta row (synced) about every two seconds while reads
   * happen.
   */
  public long readTime() {
    return readClock.now();
  }

  /** The node's hybrid logical clock (restored above the persisted high-water mark on open). */
  public HybridLogicalClock clock() {
    return clock;
  }

  /** Where the database lives, as given to {@link #open}. */
  public String location() {
    return location;
  }

  /** The error that stopped the writer, or {@code null} while the store is healthy. */
  public Throwable failure() {
    return writer.failure();
  }

  /** Commands (local writes and remote batches) waiting for the writer. */
  public long pendingWrites() {
    return writer.pending();
  }

  /**
   * Recomputes the digest from the state table, at one snapshot. Equals {@link #digest()} when no
   * commit happens meanwhile.
   */
  @Override
  public StateDigest recomputeDigest() {
    return state.recomputeDigest();
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /**
   * {@inheritDoc}
   *
   * <p>Never throws for a refused write: the future fails with {@link LimitExceededException} (key
   * empty or longer than {@code limits.maxKeyBytes}, value longer than {@code
   * limits.maxValueBytes}, queue full), {@link StoreClosedException} or {@link StorageException}.
   * The key and value are copied.
   */
  @Override
  public CompletableFuture<WriteResult> submitLocal(byte[] key, byte[] value, Precondition precondition, long ttlMillis) {
    return admission.submitLocal(key, value, precondition, ttlMillis);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Blocks while the write queue is full (backpressure, see {@link WriteAdmission}). Entries
   * are checked against the same key and value limits as local writes; a batch with an entry over
   * a limit fails whole with {@link LimitExceededException}. A batch larger than {@code
   * groupCommitMaxEntries} is accepted and committed alone. Before it is applied, every entry's
   * timestamp is checked against the maximum clock skew; if any is too far ahead the whole batch
   * fails with {@link ClockSkewException} and nothing of it is applied.
   */
  @Override
  public CompletableFuture<ApplyResult> submitRemote(String peerId, List<StoredEntry> entries) {
    return admission.submitRemote(peerId, entries, false);
  }

  @Override
  public CompletableFuture<ApplyResult> submitRemote(String peerId, List<StoredEntry> entries, boolean repair) {
    return admission.submitRemote(peerId, entries, repair);
  }

  // ---------------------------------------------------------------------------------------------
  // Tombstone collection

  @Override
  public GcState gcState() {
    return writer.gcState();
  }

  /** Keys whose value this node holds: state rows less tombstones (expired values not yet collected count). */
  public long keyCount() {
    return Math.max(0, writer.stateRows() - writer.gcState().tombstones());
  }

  @Override
  public long quiescentClock() {
    return writer.quiescentClock();
  }

  @Override
  public CompletableFuture<GcOutcome> collectTombstones(
      long stableHlc, long purgeHorizon, int maxRows, java.util.Map<String, Long> members, java.util.Set<String> forgotten) {
    return admission
        .collect(new TombstoneCollector.Round(stableHlc, purgeHorizon, maxRows, members, forgotten))
        .thenApply(o -> new GcOutcome(o.purged(), o.more(), o.state()));
  }

  @Override
  public CompletableFuture<Boolean> announceExpired(int maxRows) {
    return admission.announce(maxRows);
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  @Override
  public Optional<StoredEntry> get(byte[] key) {
    return state.get(key);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Reads the latest state through one store iterator, holding one row at a time on LevelDB
   * ({@link dev.edgesync.engine.storage.kv.MemoryKvStore} copies the rows from the prefix on). The
   * iterator is consistent as of when it was opened, except on LevelDB after a retried read, where
   * versions written since may show (see {@link dev.edgesync.engine.storage.kv.LevelDbKvStore}); no
   * key is ever missing, since deletes keep tombstone rows.
   */
  @Override
  public EntryIterator scan(byte[] prefix) {
    return state.scan(prefix, null);
  }

  @Override
  public EntryIterator scan(byte[] prefix, byte[] startAfter) {
    return state.scan(prefix, startAfter);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Batches stay within {@code maxBytes} (by {@link StoredEntry#approximateBytes()}) unless a
   * single entry is larger. A key overwritten after the read's snapshot may be skipped: its newer
   * version has a later seq, so a later read delivers it (see {@link ChangeLogReader}).
   */
  @Override
  public ChangeBatch readChanges(long afterSeq, int maxEntries, long maxBytes) {
    return changes.readChanges(afterSeq, maxEntries, maxBytes);
  }

  @Override
  public AutoCloseable addCommitListener(CommitListener listener) {
    return writer.addCommitListener(listener);
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Refuses new writes, lets the writer commit what is queued, joins it and closes the {@link
   * KvStore}. Idempotent; a second caller waits for the first.
   *
   * @throws IllegalStateException when called from the writer thread (from a listener)
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    gate.closing();
    if (writer.isWriterThread()) {
      throw new IllegalStateException(
          "close() of store " + location + " called from its writer thread (a commit or conflict listener):"
              + " it would wait for itself; close from another thread");
    }
    admission.refuseNewWrites();
    boolean interrupted = writer.stop();
    closed = true;
    try {
      kv.close();
    } finally {
      versions.invalidateAll();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      log.info("closed store {} of node {} at head seq {}", location, nodeId(), headSeq());
    }
  }
}
