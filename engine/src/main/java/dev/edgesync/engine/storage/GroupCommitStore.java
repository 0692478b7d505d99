package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.EMPTY;
import static dev.edgesync.engine.storage.StoreLayout.META_DIGEST;
import static dev.edgesync.engine.storage.StoreLayout.META_HEAD_SEQ;
import static dev.edgesync.engine.storage.StoreLayout.META_HLC;
import static dev.edgesync.engine.storage.StoreLayout.metaKey;
import static dev.edgesync.engine.storage.StoreLayout.printable;
import static dev.edgesync.engine.storage.StoreLayout.seqKey;
import static dev.edgesync.engine.storage.StoreLayout.stateKey;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.edgesync.conflict.ClockSkewException;
import dev.edgesync.conflict.HybridLogicalClock;
import dev.edgesync.conflict.LwwResolver;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.KvStore.Mutation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link VersionedStore} of a node: LWW state, the compacted by-seq change log and meta in one
 * {@link KvStore}, written by a single writer thread that group-commits.
 *
 * <h2>Key layout</h2>
 *
 * <p>One key space, three tables told apart by the first byte (encodings in {@link StoreLayout}):
 *
 * <ul>
 *   <li>{@code 's' + key} → state row: HLC (8 bytes), origin (2-byte length + UTF-8), seq (8
 *       bytes), flags (bit 0: tombstone), value. One row per key ever written; a delete keeps a
 *       tombstone row, so that an older version arriving later still loses.
 *   <li>{@code 'q' + seq} (8 bytes, big-endian) → key: the by-seq index. A key has at most one row,
 *       under its newest version's seq; storing a newer version deletes the old row in the same
 *       batch, so the index is bounded by the number of keys, never by history.
 *   <li>{@code 'm' + name} → meta: {@code format} (layout version), {@code nodeId}, {@code logId}
 *       (a random UUID made at creation), {@code headSeq}, {@code hlc} (the HLC high-water mark)
 *       , {@code digest} (the {@link StateDigest}, 16 bytes) and {@code epochs} (see below).
 * </ul>
 *
 * <h2>Epochs</h2>
 *
 * <p>Every {@link #open} starts a new epoch of the log ({@link LogEpochs}), recorded in meta by
 * {@link StoreMeta} before the writer starts; {@link #epochOf} tells which epoch issued a seq.
 *
 * <p>Every group commit writes state rows, by-seq rows and the meta rows {@code headSeq}, {@code
 * hlc} and {@code digest} in one atomic {@link KvStore#write}.
 *
 * <h2>Writer</h2>
 *
 * <p>Local writes and remote batches go through a bounded queue ({@code limits.writeQueueDepth})
 * to one daemon thread, {@code edgesync-writer-<nodeId>}. It takes what is queued, up to {@code
 * groupCommitMaxEntries} entries (a larger remote batch is committed alone, whole), resolves LWW
 * for each entry against an overlay of the group's own winners (so several writes to one key in
 * one group resolve correctly), assigns dense seqs to winners, commits one batch, then tells the
 * listeners and completes the futures.
 *
 * <ul>
 *   <li>A local write is checked against {@code limits.maxKeyBytes}/{@code limits.maxValueBytes}
 *       before it is queued; when the queue is full it fails at once with {@link
 *       LimitExceededException} ({@code limits.writeQueueDepth}) instead of blocking the caller.
 *   <li>A remote batch blocks its caller while the queue is full. That is the backpressure of
 *       replication: the gRPC client thread that applies a peer's batches stops, so it requests no
 *       more messages, so the peer stops sending.
 *   <li>Before a remote batch is applied, every entry's timestamp is checked against the maximum
 *       clock skew; if any is too far ahead the whole batch fails with {@link ClockSkewException}
 *       and nothing of it is applied (other commands of the same group are not affected).
 * </ul>
 *
 * <p>Futures complete and listeners are called on the writer thread: dependants chained with the
 * non-async {@link CompletableFuture} methods run there too and delay every later commit, so chain
 * real work with the {@code ...Async} variants. A failing {@link KvStore#write} (or any unexpected
 * error of the writer, including an exception thrown by a listener) puts the store into a failed
 * state: that group's writes and every later one fail with {@link StorageException}, and {@link
 * #failure()} returns the cause. Reads keep working.
 *
 * <h2>Cache</h2>
 *
 * <p>A Caffeine cache maps recent keys to their committed version, seq and digest contribution,
 * sparing the state-row read of the LWW check. It holds committed state only and is never the
 * source of truth: a miss reads the state row. A key enters the cache when a lookup reads its
 * row; a commit refreshes the keys the cache holds and does not add keys that are new to the
 * store.
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
  private final EngineMetrics metrics;
  private final String logId;
  private final LogEpochs epochs;
  private final HybridLogicalClock clock;
  private final ArrayBlockingQueue<Command> queue;
  private final Cache<KeyBytes, StoredVersion> cache;
  private final KeyFilter keyFilter; // used by the writer only, once open
  private final RecentLog recent;
  private final StateReader state;
  private final ChangeLogReader changes;
  private final CopyOnWriteArrayList<CommitListener> listeners = new CopyOnWriteArrayList<>();
  private final Thread writer;

  // Written by the writer thread only, after the commit that made them true is durable.
  private volatile long headSeq;
  private volatile StateDigest digest;

  private volatile Throwable failure;
  private volatile boolean closing;
  private final WriterGate gate;
  private volatile boolean writerDone;
  private boolean closed; // guarded by this

  private GroupCommitStore(
      KvStore kv, String location, StoreOptions options, EngineMetrics metrics, StoreMeta meta, WriterGate gate) {
    this.kv = kv;
    this.gate = gate;
    this.location = location;
    this.options = options;
    this.metrics = metrics;
    this.logId = meta.logId();
    this.epochs = meta.epochs();
    this.headSeq = meta.headSeq();
    this.digest = meta.digest();
    this.clock = new HybridLogicalClock(options.wallClock(), options.maxClockSkew(), meta.hlc());
    this.queue = new ArrayBlockingQueue<>(options.writeQueueDepth());
    // Maintenance runs on the calling thread (the writer): no pool threads, deterministic tests.
    this.cache = Caffeine.newBuilder().maximumSize(options.cacheMaxEntries()).executor(Runnable::run).build();
    this.keyFilter = meta.keyFilter();
    this.recent = new RecentLog(meta.headSeq(), RECENT_LOG_ENTRIES, RECENT_LOG_BYTES);
    this.state = new StateReader(kv);
    this.changes = new ChangeLogReader(kv, recent, () -> headSeq);
    this.writer = new Thread(this::runWriter, "edgesync-writer-" + options.nodeId());
    this.writer.setDaemon(true);
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
      StoreMeta meta = StoreMeta.loadOrCreate(kv, location, options.nodeId());
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
        store.headSeq,
        store.currentEpoch(),
        store.epochs.current().firstSeq(),
        store.epochs.list().size(),
        store.digest);
    return store;
  }

  // ---------------------------------------------------------------------------------------------
  // Identity and state

  @Override
  public String nodeId() {
    return options.nodeId();
  }

  @Override
  public String logId() {
    return logId;
  }

  @Override
  public long headSeq() {
    return headSeq;
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
    return digest;
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
    return failure;
  }

  /** Commands (local writes and remote batches) waiting for the writer. */
  public long pendingWrites() {
    return queue.size();
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
  public CompletableFuture<WriteResult> submitLocal(byte[] key, byte[] value) {
    Objects.requireNonNull(key, "key");
    RuntimeException refused = refusal();
    if (refused == null) {
      refused = checkLimits(key, value == null ? EMPTY : value);
    }
    if (refused != null) {
      return CompletableFuture.failedFuture(refused);
    }
    LocalWrite write = new LocalWrite(key.clone(), value == null ? null : value.clone(), new CompletableFuture<>());
    gate.submitted();
    if (!queue.offer(write)) {
      gate.finished(1);
      return CompletableFuture.failedFuture(
          new LimitExceededException(
              "limits.writeQueueDepth",
              "write queue of node " + nodeId() + " is full (" + options.writeQueueDepth() + " writes waiting,"
                  + " limits.writeQueueDepth = " + options.writeQueueDepth() + "): retry later, slow down the"
                  + " writers, or raise limits.writeQueueDepth"));
    }
    failIfWriterGone();
    return write.future;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Blocks while the write queue is full (backpressure, see the class comment). Entries are
   * checked against the same key and value limits as local writes; a batch with an entry over a
   * limit fails whole with {@link LimitExceededException}. A batch larger than {@code
   * groupCommitMaxEntries} is accepted and committed alone.
   */
  @Override
  public CompletableFuture<ApplyResult> submitRemote(String peerId, List<StoredEntry> entries) {
    Objects.requireNonNull(peerId, "peerId");
    Objects.requireNonNull(entries, "entries");
    RuntimeException refused = refusal();
    if (refused == null) {
      refused = checkRemote(peerId, entries);
    }
    if (refused != null) {
      return CompletableFuture.failedFuture(refused);
    }
    if (entries.isEmpty()) {
      return CompletableFuture.completedFuture(new ApplyResult(0, 0, 0, headSeq));
    }
    RemoteBatch batch = new RemoteBatch(peerId, List.copyOf(entries), new CompletableFuture<>());
    gate.submitted();
    try {
      queue.put(batch);
    } catch (InterruptedException e) {
      gate.finished(1);
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(e);
    }
    failIfWriterGone();
    return batch.future;
  }

  /** Why a write cannot be accepted now, or null. */
  private RuntimeException refusal() {
    Throwable f = failure;
    if (f != null) {
      return stoppedError(f);
    }
    if (closing) {
      return closingError();
    }
    return null;
  }

  private StorageException stoppedError(Throwable cause) {
    return new StorageException(
        "store " + location + " of node " + nodeId() + " stopped accepting writes after an earlier failure ("
            + cause + "); see the first error in the log, fix its cause and restart the node",
        cause);
  }

  private StoreClosedException closingError() {
    return new StoreClosedException(
        "node " + nodeId() + " is closing: store " + location + " accepts no more writes");
  }

  private LimitExceededException checkLimits(byte[] key, byte[] value) {
    if (key.length == 0) {
      return new LimitExceededException(
          "limits.maxKeyBytes",
          "key is empty: keys must be 1 to " + options.maxKeyBytes() + " bytes (limits.maxKeyBytes)");
    }
    if (key.length > options.maxKeyBytes()) {
      return new LimitExceededException(
          "limits.maxKeyBytes",
          "key of " + key.length + " bytes is longer than limits.maxKeyBytes = " + options.maxKeyBytes()
              + ": use a shorter key or raise limits.maxKeyBytes");
    }
    if (value.length > options.maxValueBytes()) {
      return new LimitExceededException(
          "limits.maxValueBytes",
          "value of " + value.length + " bytes for key " + printable(key) + " is larger than limits.maxValueBytes = "
              + options.maxValueBytes() + ": split the value or raise limits.maxValueBytes");
    }
    return null;
  }

  private RuntimeException checkRemote(String peerId, List<StoredEntry> entries) {
    for (StoredEntry e : entries) {
      Objects.requireNonNull(e, "entry");
      LimitExceededException over = checkLimits(e.key(), e.value());
      if (over != null) {
        return new LimitExceededException(
            over.limitName(), "batch from peer '" + peerId + "' refused: " + over.getMessage());
      }
      if (e.tombstone() && e.value().length != 0) {
        return new IllegalArgumentException(
            "batch from peer '" + peerId + "' refused: tombstone for key " + printable(e.key()) + " carries a "
                + e.value().length + "-byte value");
      }
      try {
        StoreLayout.originBytes(e.version().origin());
      } catch (IllegalArgumentException tooLong) {
        return new IllegalArgumentException("batch from peer '" + peerId + "' refused: " + tooLong.getMessage());
      }
    }
    return null;
  }

  /**
   * A command can land in the queue after the writer has exited (a submit racing with close):
   * nobody would complete it, so whoever sees the writer gone fails what is left.
   */
  private void failIfWriterGone() {
    if (writerDone) {
      failQueued();
    }
  }

  private void failQueued() {
    for (Command c; (c = queue.poll()) != null; ) {
      if (c == CloseMarker.INSTANCE) {
        continue;
      }
      try {
        c.fail(closingError());
      } finally {
        gate.finished(1);
      }
    }
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
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
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
    if (Thread.currentThread() == writer) {
      throw new IllegalStateException(
          "close() of store " + location + " called from its writer thread (a commit or conflict listener):"
              + " it would wait for itself; close from another thread");
    }
    closing = true;
    boolean interrupted = false;
    while (true) {
      try {
        // The writer is alive and draining, so a slot frees up even if the queue is full.
        queue.put(CloseMarker.INSTANCE);
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    writerDone = true;
    failQueued();
    closed = true;
    try {
      kv.close();
    } finally {
      cache.invalidateAll();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      log.info("closed store {} of node {} at head seq {}", location, nodeId(), headSeq);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The writer

  private void runWriter() {
    List<Command> group = new ArrayList<>();
    boolean stop = false;
    while (!stop) {
      group.clear();
      int entries = 0;
      Command command = takeUninterruptibly();
      boolean commit = gate.beforeGroup();
      while (true) {
        if (command == CloseMarker.INSTANCE) {
          stop = true;
          break;
        }
        group.add(command);
        entries += command.entryCount();
        Command next = queue.peek();
        if (next == null || (next != CloseMarker.INSTANCE && entries + next.entryCount() > options.groupCommitMaxEntries())) {
          break;
        }
        command = queue.poll(); // the writer is the only consumer, so this is `next`
      }
      if (!group.isEmpty()) {
        processGroup(group, entries, commit);
      }
    }
  }

  private Command takeUninterruptibly() {
    Command c = null;
    while (c == null) {
      try {
        c = queue.take();
      } catch (InterruptedException e) {
        // Nobody interrupts the writer on purpose; close() stops it with the marker.
        log.warn("writer of store {} was interrupted; it stops only through close()", location);
      }
    }
    return c;
  }

  private void processGroup(List<Command> group, int entries, boolean commit) {
    try {
      if (commit) {
        commitGroup(group, entries);
      } else {
        // The gate dropped the group (a simulated crash): it dies with the process, uncommitted.
        StoreClosedException gone = closingError();
        group.forEach(c -> c.fail(gone));
      }
    } finally {
      gate.finished(group.size());
    }
  }

  private void commitGroup(List<Command> group, int entries) {
    Throwable f = failure;
    if (f != null) {
      StorageException stopped = stoppedError(f);
      group.forEach(c -> c.fail(stopped));
      return;
    }
    long start = metrics.registry().config().clock().monotonicTime();
    GroupCommit commit;
    try {
      commit = applyAndCommit(group);
    } catch (Throwable t) {
      enterFailedState(t);
      StorageException error =
          t instanceof StorageException se ? se : new StorageException("commit to " + location + " failed: " + t, t);
      // The writer itself lives on, failing whatever is queued, so that no caller waits forever.
      group.forEach(c -> c.fail(error));
      return;
    }
    metrics.commitBatchEntries().record(entries);
    metrics.commitLatency().record(metrics.registry().config().clock().monotonicTime() - start, TimeUnit.NANOSECONDS);
    if (commit.localWrites > 0) {
      metrics.localWrites(commit.localWrites);
    }
    if (!commit.losers.isEmpty()) {
      metrics.conflicts(commit.losers.size());
    }
    try {
      notifyListeners(group, commit);
    } catch (Throwable e) {
      // The commit is durable, so its futures still succeed below; but a listener that missed an
      // event (a replication stream not woken, a subscriber not told) must not go unnoticed.
      enterFailedState(new IllegalStateException("a listener of store " + location + " threw: " + e, e));
    }
    for (int i = 0; i < group.size(); i++) {
      group.get(i).complete(commit.results.get(i), commit.headSeq);
    }
  }

  private void enterFailedState(Throwable t) {
    if (failure == null) {
      failure = t;
      log.error("store {} of node {} failed and stops accepting writes", location, nodeId(), t);
    }
  }

  /** What one group commit did, for the steps after the write. */
  private static final class GroupCommit {
    final List<Object> results = new ArrayList<>(); // per command: WriteResult, Counts, or null
    final List<List<StoredEntry>> stored = new ArrayList<>(); // per command
    final List<Conflict> losers = new ArrayList<>();
    final List<Long> replacedSeqs = new ArrayList<>(); // seqs whose by-seq row this commit deletes
    int localWrites;
    long headSeq;
  }

  private record Conflict(byte[] key, Version winner, Version loser, String fromPeer) {}

  private record Counts(int applied, int duplicates, int conflicts) {}

  private GroupCommit applyAndCommit(List<Command> group) {
    GroupCommit commit = new GroupCommit();
    Map<KeyBytes, StoredVersion> overlay = new HashMap<>();
    List<Mutation> mutations = new ArrayList<>();
    long seq = headSeq;
    StateDigest newDigest = digest;
    for (Command command : group) {
      List<StoredEntry> stored = new ArrayList<>();
      commit.stored.add(stored);
      if (command instanceof LocalWrite w) {
        Version version = new Version(clock.now(), nodeId());
        KeyBytes key = new KeyBytes(w.key);
        StoredVersion old = lookup(key, overlay);
        if (old != null && !version.isAfter(old.version)) {
          // now() exceeds every timestamp stored or seen (the clock restarts above the persisted
          // mark and is updated with every remote entry), so this is a broken invariant.
          throw new IllegalStateException(
              "local write got version " + version + " which is not after the stored " + old.version + " of key "
                  + printable(w.key));
        }
        boolean tombstone = w.value == null;
        StoredEntry entry = new StoredEntry(w.key, tombstone ? EMPTY : w.value, tombstone, version, ++seq);
        newDigest = store(entry, key, old, overlay, mutations, newDigest, commit.replacedSeqs);
        stored.add(entry);
        commit.results.add(new WriteResult(version, seq));
        commit.localWrites++;
      } else if (command instanceof RemoteBatch b) {
        try {
          for (StoredEntry e : b.entries) {
            clock.check(e.version().hlc());
          }
          for (StoredEntry e : b.entries) {
            clock.update(e.version().hlc());
          }
        } catch (ClockSkewException skew) {
          // Nothing of the batch was resolved or written; the clock moved at most to timestamps
          // that passed the check. The other commands of the group go on.
          b.future.completeExceptionally(skew);
          commit.results.add(null);
          continue;
        }
        int applied = 0;
        int duplicates = 0;
        int conflicts = 0;
        for (StoredEntry e : b.entries) {
          KeyBytes key = new KeyBytes(e.key());
          StoredVersion old = lookup(key, overlay);
          switch (LwwResolver.resolve(old == null ? null : old.version, e.version())) {
            case APPLY -> {
              StoredEntry entry = new StoredEntry(e.key(), e.value(), e.tombstone(), e.version(), ++seq);
              newDigest = store(entry, key, old, overlay, mutations, newDigest, commit.replacedSeqs);
              stored.add(entry);
              applied++;
            }
            case DUPLICATE -> duplicates++;
            case LOSE -> {
              commit.losers.add(new Conflict(e.key(), old.version, e.version(), b.peerId));
              conflicts++;
            }
          }
        }
        commit.results.add(new Counts(applied, duplicates, conflicts));
      } else {
        throw new IllegalStateException("unexpected command " + command);
      }
    }
    if (!mutations.isEmpty()) {
      mutations.add(Mutation.put(metaKey(META_HEAD_SEQ), StoreLayout.encodeLong(seq)));
      mutations.add(Mutation.put(metaKey(META_HLC), StoreLayout.encodeLong(clock.current())));
      mutations.add(Mutation.put(metaKey(META_DIGEST), StoreLayout.encodeDigest(newDigest)));
      kv.write(mutations, options.sync());
      recent.append(commit.stored, commit.replacedSeqs);
      // Publish only now that the batch is durable; readers rely on head <= what is stored.
      digest = newDigest;
      headSeq = seq;
      // Refresh only keys the cache holds (found by this group's lookups or earlier): a key that
      // is new to the store is not cached by its first write, so a catch-up of millions of new
      // keys does not churn the cache, and the first update of such a key reads its row once.
      overlay.forEach(cache.asMap()::replace);
    }
    // A group of duplicates and losers only writes nothing: they are already covered by stored
    // versions, whose timestamps the persisted HLC mark already exceeds.
    commit.headSeq = seq;
    return commit;
  }

  /** Adds the mutations storing {@code entry} over {@code old} and returns the updated digest. */
  private StateDigest store(
      StoredEntry entry,
      KeyBytes key,
      StoredVersion old,
      Map<KeyBytes, StoredVersion> overlay,
      List<Mutation> mutations,
      StateDigest digest,
      List<Long> replacedSeqs) {
    mutations.add(Mutation.put(stateKey(entry.key()), StoreLayout.encodeState(entry)));
    if (old != null) {
      // Deleting a row put earlier in this same batch is fine: mutations apply in order.
      mutations.add(Mutation.delete(seqKey(old.seq)));
      replacedSeqs.add(old.seq);
      digest = digest.minus(old.contribution);
    } else {
      // Before the write: a failed commit leaves a key the filter may hold, which costs a read.
      keyFilter.add(entry.key());
    }
    mutations.add(Mutation.put(seqKey(entry.seq()), entry.key()));
    StateDigest contribution = StateDigest.contribution(entry);
    overlay.put(key, new StoredVersion(entry.version(), entry.seq(), contribution));
    return digest.plus(contribution);
  }

  /** The committed (or, within the group, pending) version of a key; null when never written. */
  private StoredVersion lookup(KeyBytes key, Map<KeyBytes, StoredVersion> overlay) {
    StoredVersion v = overlay.get(key);
    if (v != null) {
      return v;
    }
    if (!keyFilter.mightContain(key.bytes)) {
      return null; // never stored: no read needed
    }
    v = cache.getIfPresent(key);
    if (v != null) {
      return v;
    }
    byte[] row = kv.get(stateKey(key.bytes));
    if (row == null) {
      return null;
    }
    StoredEntry entry = StoreLayout.decodeState(key.bytes, row);
    v = new StoredVersion(entry.version(), entry.seq(), StateDigest.contribution(entry));
    cache.put(key, v);
    return v;
  }

  private void notifyListeners(List<Command> group, GroupCommit commit) {
    // One call per run of consecutive commands with the same origin keeps calls in seq order.
    List<StoredEntry> run = new ArrayList<>();
    String runOrigin = null;
    for (int i = 0; i < group.size(); i++) {
      String origin = group.get(i) instanceof RemoteBatch b ? b.peerId : null;
      if (!run.isEmpty() && !Objects.equals(origin, runOrigin)) {
        tellCommitListeners(run, runOrigin, commit.headSeq);
        run = new ArrayList<>();
      }
      if (!commit.stored.get(i).isEmpty()) {
        runOrigin = origin;
        run.addAll(commit.stored.get(i));
      }
    }
    if (!run.isEmpty()) {
      tellCommitListeners(run, runOrigin, commit.headSeq);
    }
    ConflictListener conflictListener = options.conflictListener();
    if (conflictListener != null) {
      for (Conflict c : commit.losers) {
        conflictListener.onConflict(c.key, c.winner, c.loser, c.fromPeer);
      }
    }
  }

  private void tellCommitListeners(List<StoredEntry> stored, String origin, long head) {
    List<StoredEntry> view = List.copyOf(stored);
    for (CommitListener listener : listeners) {
      listener.onCommit(view, origin, head);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Commands and small types

  private sealed interface Command permits LocalWrite, RemoteBatch, CloseMarker {
    int entryCount();

    void fail(Throwable error);

    /** Completes with the outcome the writer recorded ({@code null}: already failed). */
    void complete(Object result, long headSeq);
  }

  private record LocalWrite(byte[] key, byte[] value, CompletableFuture<WriteResult> future) implements Command {
    @Override
    public int entryCount() {
      return 1;
    }

    @Override
    public void fail(Throwable error) {
      future.completeExceptionally(error);
    }

    @Override
    public void complete(Object result, long headSeq) {
      future.complete((WriteResult) result);
    }
  }

  private record RemoteBatch(String peerId, List<StoredEntry> entries, CompletableFuture<ApplyResult> future)
      implements Command {
    @Override
    public int entryCount() {
      return entries.size();
    }

    @Override
    public void fail(Throwable error) {
      future.completeExceptionally(error);
    }

    @Override
    public void complete(Object result, long headSeq) {
      if (result instanceof Counts c) {
        future.complete(new ApplyResult(c.applied(), c.duplicates(), c.conflicts(), headSeq));
      }
    }
  }

  private enum CloseMarker implements Command {
    INSTANCE;

    @Override
    public int entryCount() {
      return 0;
    }

    @Override
    public void fail(Throwable error) {}

    @Override
    public void complete(Object result, long headSeq) {}
  }

  /** A committed version as the LWW check and the digest need it. */
  private record StoredVersion(Version version, long seq, StateDigest contribution) {}

  /** Byte-array key with value equality, for the overlay and the cache. */
  private static final class KeyBytes {
    final byte[] bytes;
    private final int hash;

    KeyBytes(byte[] bytes) {
      this.bytes = bytes;
      this.hash = Arrays.hashCode(bytes);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof KeyBytes k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}