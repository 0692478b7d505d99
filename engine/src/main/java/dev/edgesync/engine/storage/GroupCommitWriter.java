package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;
import dev.edgesync.conflict.HybridLogicalClock;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.WriteCommand.CloseMarker;
import dev.edgesync.engine.storage.WriteCommand.RemoteBatch;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of a store: a daemon thread, {@code edgesync-writer-<nodeId>}, that takes what
 * is queued, up to {@code groupCommitMaxEntries} entries (a larger remote batch is committed alone,
 * whole), resolves it ({@link LwwGroup}), commits it in one atomic {@link KvStore#write} (fsynced in
 * {@code fsync} durability), publishes the new head seq and digest, tells the listeners, and
 * completes the futures, in that order.
 *
 * <p>A failing write (or any unexpected error of the writer, including an exception thrown by a
 * listener) puts the writer into a failed state: that group's commands and every later one fail
 * with {@link StorageException}, and {@link #failure()} returns the cause. The thread lives on,
 * failing what is queued, so that no caller waits forever; reads keep working.
 *
 * <p>Threading: {@link #offer}, {@link #put}, the getters and {@link #addCommitListener} are
 * called from any thread; {@link #stop()} once, by {@code close()}, from a thread other than the
 * writer. Futures complete and listeners run on the writer thread.
 */
final class GroupCommitWriter {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);

  private final KvStore kv;
  private final String location;
  private final StoreOptions options;
  private final EngineMetrics metrics;
  private final HybridLogicalClock clock;
  private final ReadClock readClock;
  private final VersionLookup versions;
  private final RecentLog recent;
  private final WriterGate gate;
  private final ArrayBlockingQueue<WriteCommand> queue;
  private final CopyOnWriteArrayList<CommitListener> listeners = new CopyOnWriteArrayList<>();
  private final Thread thread;

  // Written by the writer thread only, after the commit that made them true is durable: readers
  // rely on head <= what is stored.
  private volatile long headSeq;
  private volatile StateDigest digest;
  // The head and the digest at it, published together after each commit (anti-entropy compares
  // them as one moment of the store).
  private volatile VersionedStore.StateAtHead atHead;
  // What tombstone collection persisted, as of the last commit.
  private volatile GcState gc;
  // State rows (keys held, tombstones included): counted at open, kept by commits and collection.
  private final java.util.concurrent.atomic.AtomicLong stateRows = new java.util.concurrent.atomic.AtomicLong();
  // Odd while a group is resolved and committed: a clock reading taken while it stays even and
  // unchanged is above every local write's HLC that is not committed yet (see quiescentClock).
  private final java.util.concurrent.atomic.AtomicLong phase = new java.util.concurrent.atomic.AtomicLong();
  // clock.current() after the last commit: every local write at or below it is committed.
  private volatile long committedClock;

  // Expiry announcements to the listeners (writer thread only).
  private final ExpiryAnnouncements expiries;

  private volatile Throwable failure;
  private volatile boolean stopped;

  GroupCommitWriter(
      KvStore kv,
      String location,
      StoreOptions options,
      EngineMetrics metrics,
      HybridLogicalClock clock,
      ReadClock readClock,
      long headSeq,
      StateDigest digest,
      VersionLookup versions,
      RecentLog recent,
      WriterGate gate,
      GcState gc) {
    this.gc = gc;
    this.committedClock = clock.current();
    this.readClock = readClock;
    this.expiries = new ExpiryAnnouncements(kv, clock, readClock, listeners);
    this.kv = kv;
    this.location = location;
    this.options = options;
    this.metrics = metrics;
    this.clock = clock;
    this.headSeq = headSeq;
    this.digest = digest;
    this.atHead = new VersionedStore.StateAtHead(headSeq, digest);
    this.versions = versions;
    this.recent = recent;
    this.gate = gate;
    this.queue = new ArrayBlockingQueue<>(options.writeQueueDepth());
    this.thread = new Thread(this::run, "edgesync-writer-" + options.nodeId());
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  long headSeq() {
    return headSeq;
  }

  StateDigest digest() {
    return digest;
  }

  VersionedStore.StateAtHead stateAtHead() {
    return atHead;
  }

  GcState gcState() {
    return gc;
  }

  /** State rows now: keys held, tombstones and expired values not yet collected included. */
  long stateRows() {
    return stateRows.get();
  }

  /** The rows the open counted; before the writer starts. */
  void initialStateRows(long rows) {
    stateRows.set(rows);
  }

  /**
   * An HLC below which every local write of this node is committed, and above which every later
   * local write will be: the clock read when no group is being committed (it advances the clock),
   * else its value after the last commit.
   */
  long quiescentClock() {
    long before = phase.get();
    if ((before & 1) == 0) {
      long now = clock.now();
      if (phase.get() == before) {
        return now;
      }
    }
    return committedClock;
  }

  /** The error that stopped the writer, or {@code null} while healthy. */
  Throwable failure() {
    return failure;
  }

  /** Commands waiting in the queue. */
  int pending() {
    return queue.size();
  }

  boolean isWriterThread() {
    return Thread.currentThread() == thread;
  }

  AutoCloseable addCommitListener(CommitListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** Queues {@code command} unless the queue is full. */
  boolean offer(WriteCommand command) {
    return queue.offer(command);
  }

  /** Queues {@code command}, blocking while the queue is full (remote backpressure). */
  void put(WriteCommand command) throws InterruptedException {
    queue.put(command);
  }

  /**
   * A command can land in the queue after the writer has exited (a submit racing with close):
   * nobody would complete it, so whoever sees the writer gone fails what is left.
   */
  void failQueuedIfStopped() {
    if (stopped) {
      failQueued();
    }
  }

  /**
   * Lets the writer commit everything queued ahead of the close marker, waits for it to exit, and
   * fails what is left. Interrupts are deferred, not lost.
   *
   * @return whether the calling thread was interrupted meanwhile
   */
  boolean stop() {
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
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    stopped = true;
    failQueued();
    return interrupted;
  }

  StoreClosedException closedError() {
    return new StoreClosedException(
        "node " + options.nodeId() + " is closing: store " + location + " accepts no more writes");
  }

  StorageException stoppedError(Throwable cause) {
    return new StorageException(
        "store " + location + " of node " + options.nodeId() + " stopped accepting writes after an earlier failure ("
            + cause + "); see the first error in the log, fix its cause and restart the node",
        cause);
  }

  private void failQueued() {
    for (WriteCommand c; (c = queue.poll()) != null; ) {
      if (c == CloseMarker.INSTANCE) {
        continue;
      }
      try {
        c.fail(closedError());
      } finally {
        gate.finished(1);
      }
    }
  }

  private void run() {
    List<WriteCommand> group = new ArrayList<>();
    boolean stop = false;
    while (!stop) {
      group.clear();
      int entries = 0;
      WriteCommand command = takeUninterruptibly();
      boolean commit = gate.beforeGroup();
      while (true) {
        if (command == CloseMarker.INSTANCE) {
          stop = true;
          break;
        }
        if (command instanceof WriteCommand.Collect || command instanceof WriteCommand.Announce) {
          try {
            if (!commit) {
              command.fail(closedError());
            } else if (command instanceof WriteCommand.Collect collect) {
              collect(collect);
            } else {
              announce((WriteCommand.Announce) command);
            }
          } finally {
            gate.finished(1);
          }
          break;
        }
        group.add(command);
        entries += command.entryCount();
        WriteCommand next = queue.peek();
        if (next == null
            || next instanceof WriteCommand.Collect
            || next instanceof WriteCommand.Announce
            || (next != CloseMarker.INSTANCE && entries + next.entryCount() > options.groupCommitMaxEntries())) {
          break;
        }
        command = queue.poll(); // the writer is the only consumer, so this is `next`
      }
      if (!group.isEmpty()) {
        try {
          if (commit) {
            commitGroup(group, entries);
          } else {
            // The gate dropped the group (a simulated crash): it dies with the process, uncommitted.
            StoreClosedException gone = closedError();
            group.forEach(c -> c.fail(gone));
          }
        } finally {
          gate.finished(group.size());
        }
      }
    }
  }

  private WriteCommand takeUninterruptibly() {
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        // Nobody interrupts the writer on purpose; close() stops it with the marker.
        log.warn("writer of store {} was interrupted; it stops only through close()", location);
      }
    }
  }

  private void commitGroup(List<WriteCommand> group, int entries) {
    Throwable f = failure;
    if (f != null) {
      StorageException stopped = stoppedError(f);
      group.forEach(c -> c.fail(stopped));
      return;
    }
    long start = metrics.registry().config().clock().monotonicTime();
    LwwGroup commit;
    phase.incrementAndGet();
    try {
      GcState before = gc;
      commit = LwwGroup.resolve(group, headSeq, digest, clock, readClock::now, options.nodeId(), versions, before);
      if (!commit.mutations.isEmpty()) {
        kv.write(commit.mutations, options.sync());
        recent.append(commit.stored, commit.replacedSeqs);
        digest = commit.digest;
        headSeq = commit.headSeq;
        atHead = new VersionedStore.StateAtHead(commit.headSeq, commit.digest);
        versions.refresh(commit.overlay);
        stateRows.addAndGet(commit.newRows);
        if (commit.tombstones != before.tombstones()
            || commit.expiring != before.expiring()
            || commit.oldestHlc != before.oldestHlc()) {
          gc =
              new GcState(
                  commit.tombstones, commit.expiring, commit.oldestHlc, before.createdHlc(), before.stableHlc(), before.purgeHorizon(), before.purgedTotal(),
                  before.purgedMaxSeq(), before.members(), before.forgotten());
        }
      }
      if (commit.staleDropped > 0) {
        metrics.staleDropped(commit.staleDropped);
      }
    } catch (Throwable t) {
      enterFailedState(t);
      StorageException error =
          t instanceof StorageException se ? se : new StorageException("commit to " + location + " failed: " + t, t);
      group.forEach(c -> c.fail(error));
      return;
    } finally {
      committedClock = clock.current();
      phase.incrementAndGet();
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
      expiries.afterCommit(commit);
    } catch (Throwable e) {
      // The commit is durable, so its futures still succeed below; but a listener that missed an
      // event (a replication stream not woken, a subscriber not told) must not go unnoticed.
      enterFailedState(new IllegalStateException("a listener of store " + location + " threw: " + e, e));
    }
    for (int i = 0; i < group.size(); i++) {
      group.get(i).complete(commit.results.get(i), commit.headSeq);
    }
  }

  /** One round of tombstone collection, committed alone. */
  private void collect(WriteCommand.Collect command) {
    Throwable f = failure;
    if (f != null) {
      command.fail(stoppedError(f));
      return;
    }
    try {
      TombstoneCollector c = TombstoneCollector.resolve(kv, versions, gc, digest, command.round());
      // The round's own clock is told to peers after this write: a restart must not go below it.
      c.mutations.add(KvStore.Mutation.put(StoreLayout.metaKey(StoreLayout.META_HLC), StoreLayout.encodeLong(clock.current())));
      // Always synced, also in buffered durability: its stable time is told to peers next, and
      // they collect tombstones on its word; the one fsync per round makes every earlier group
      // durable too.
      kv.write(c.mutations, true);
      recent.append(List.of(), c.purgedSeqs);
      digest = c.digest;
      atHead = new VersionedStore.StateAtHead(headSeq, c.digest);
      gc = c.outcome.state();
      stateRows.addAndGet(-c.outcome.purged());
      if (c.outcome.purged() > 0) {
        metrics.tombstonesPurged(c.outcome.purged());
      }
      command.complete(c.outcome, headSeq);
    } catch (Throwable t) {
      enterFailedState(t);
      command.fail(t instanceof StorageException se ? se : new StorageException("tombstone collection in " + location + " failed: " + t, t));
    }
  }

  /** Runs an expiry announcement ({@link ExpiryAnnouncements}) between two groups. */
  private void announce(WriteCommand.Announce command) {
    Throwable f = failure;
    if (f != null) {
      command.fail(stoppedError(f));
      return;
    }
    try {
      command.complete(expiries.announce(command.maxRows()), headSeq);
    } catch (Throwable t) {
      // Nothing was written but the lease: the store stays healthy; the next call tries again.
      command.fail(t);
    }
  }

  private void enterFailedState(Throwable t) {
    if (failure == null) {
      failure = t;
      log.error("store {} of node {} failed and stops accepting writes", location, options.nodeId(), t);
    }
  }

  private void notifyListeners(List<WriteCommand> group, LwwGroup commit) {
    // One call per run of consecutive commands with the same origin keeps calls in seq order.
    List<StoredEntry> run = new ArrayList<>();
    List<Version> runReplaced = new ArrayList<>();
    String runOrigin = null;
    for (int i = 0; i < group.size(); i++) {
      String origin = group.get(i) instanceof RemoteBatch b ? b.peerId() : null;
      if (!run.isEmpty() && !Objects.equals(origin, runOrigin)) {
        tellCommitListeners(run, runReplaced, runOrigin, commit.headSeq);
        run = new ArrayList<>();
        runReplaced = new ArrayList<>();
      }
      if (!commit.stored.get(i).isEmpty()) {
        runOrigin = origin;
        run.addAll(commit.stored.get(i));
        runReplaced.addAll(commit.replaced.get(i));
      }
    }
    if (!run.isEmpty()) {
      tellCommitListeners(run, runReplaced, runOrigin, commit.headSeq);
    }
    ConflictListener conflictListener = options.conflictListener();
    if (conflictListener != null) {
      for (LwwGroup.Conflict c : commit.losers) {
        conflictListener.onConflict(c.key(), c.winner(), c.loser(), c.fromPeer());
      }
    }
  }

  private void tellCommitListeners(List<StoredEntry> stored, List<Version> replaced, String origin, long head) {
    List<StoredEntry> view = List.copyOf(stored);
    // Versions may be null (nothing replaced): an unmodifiable view, not List.copyOf.
    List<Version> replacedView = java.util.Collections.unmodifiableList(replaced);
    for (CommitListener listener : listeners) {
      listener.onCommit(view, replacedView, origin, head);
    }
  }
}
