package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.EMPTY;
import static dev.edgesync.engine.storage.StoreLayout.printable;

import dev.edgesync.engine.storage.WriteCommand.LocalWrite;
import dev.edgesync.engine.storage.WriteCommand.RemoteBatch;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The way into the writer's bounded queue ({@code limits.writeQueueDepth}): what is refused, and
 * how a caller waits for room.
 *
 * <ul>
 *   <li>Nothing is accepted once the store is closing ({@link StoreClosedException}) or its writer
 *       has failed ({@code StorageException}).
 *   <li>A local write is checked against {@code limits.maxKeyBytes}/{@code limits.maxValueBytes}
 *       before it is queued; when the queue is full it fails at once with {@link
 *       LimitExceededException} ({@code limits.writeQueueDepth}) instead of blocking the caller.
 *   <li>A remote batch is checked entry by entry against the same limits (one entry over fails
 *       the whole batch), then blocks its caller while the queue is full. That is the
 *       backpressure of replication: the thread that applies a peer's batches stops, so it
 *       requests no more messages, so the peer stops sending.
 * </ul>
 *
 * <p>A refusal never throws: it is the failed future returned. Threading: any thread.
 */
final class WriteAdmission {
  private final StoreOptions options;
  private final GroupCommitWriter writer;
  private final WriterGate gate;
  private volatile boolean closing;

  WriteAdmission(StoreOptions options, GroupCommitWriter writer, WriterGate gate) {
    this.options = options;
    this.writer = writer;
    this.gate = gate;
  }

  /** From now on every write is refused with {@link StoreClosedException}. */
  void refuseNewWrites() {
    closing = true;
  }

  /** See {@link GroupCommitStore#submitLocal}; the key and value are copied. */
  CompletableFuture<WriteResult> submitLocal(byte[] key, byte[] value, Precondition precondition, long ttlMillis) {
    Objects.requireNonNull(key, "key");
    if (ttlMillis < 0 || ttlMillis > VersionedStore.MAX_TTL_MILLIS || (ttlMillis > 0 && value == null)) {
      throw new IllegalArgumentException(
          value == null
              ? "a delete cannot carry a time to live (ttl " + ttlMillis + " ms): delete without one"
              : "time to live of " + ttlMillis + " ms is out of range: give 0 (no expiry) up to "
                  + VersionedStore.MAX_TTL_MILLIS + " ms (36,500 days)");
    }
    RuntimeException refused = refusal();
    if (refused == null) {
      refused = checkLimits(key, value == null ? EMPTY : value);
    }
    if (refused != null) {
      return CompletableFuture.failedFuture(refused);
    }
    LocalWrite write = new LocalWrite(key.clone(), value == null ? null : value.clone(), precondition, ttlMillis, new CompletableFuture<>());
    gate.submitted();
    if (!writer.offer(write)) {
      gate.finished(1);
      return CompletableFuture.failedFuture(
          new LimitExceededException(
              "limits.writeQueueDepth",
              "write queue of node " + options.nodeId() + " is full (" + options.writeQueueDepth() + " writes"
                  + " waiting, limits.writeQueueDepth = " + options.writeQueueDepth() + "): retry later, slow down"
                  + " the writers, or raise limits.writeQueueDepth"));
    }
    writer.failQueuedIfStopped();
    return write.future();
  }

  /** See {@link GroupCommitStore#submitRemote}. */
  CompletableFuture<ApplyResult> submitRemote(String peerId, List<StoredEntry> entries, boolean repair) {
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
      return CompletableFuture.completedFuture(new ApplyResult(0, 0, 0, writer.headSeq()));
    }
    RemoteBatch batch = new RemoteBatch(peerId, List.copyOf(entries), repair, new CompletableFuture<>());
    gate.submitted();
    try {
      writer.put(batch);
    } catch (InterruptedException e) {
      gate.finished(1);
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(e);
    }
    writer.failQueuedIfStopped();
    return batch.future();
  }

  /**
   * Queues a round of tombstone collection; when the queue is full the round fails with {@link
   * LimitExceededException} (the next round retries: collection never holds writes back).
   */
  CompletableFuture<TombstoneCollector.Outcome> collect(TombstoneCollector.Round round) {
    WriteCommand.Collect command = new WriteCommand.Collect(round, new CompletableFuture<>());
    return alone(command, command.future());
  }

  /** See {@link GroupCommitStore#announceExpired}. */
  CompletableFuture<Boolean> announce(int maxRows) {
    WriteCommand.Announce command = new WriteCommand.Announce(maxRows, new CompletableFuture<>());
    return alone(command, command.future());
  }

  /** Queues a command the writer runs alone, between groups. */
  private <T> CompletableFuture<T> alone(WriteCommand command, CompletableFuture<T> future) {
    RuntimeException refused = refusal();
    if (refused != null) {
      return CompletableFuture.failedFuture(refused);
    }
    gate.submitted();
    if (!writer.offer(command)) {
      gate.finished(1);
      return CompletableFuture.failedFuture(
          new LimitExceededException("limits.writeQueueDepth", "write queue of node " + options.nodeId() + " is full"));
    }
    writer.failQueuedIfStopped();
    return future;
  }

  /** Why a write cannot be accepted now, or null. */
  private RuntimeException refusal() {
    Throwable f = writer.failure();
    if (f != null) {
      return writer.stoppedError(f);
    }
    if (closing) {
      return writer.closedError();
    }
    return null;
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
}
