package dev.edgesync.engine.storage;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the write queue carries to the writer: a local write, a remote batch, or the marker that
 * stops the writer. A command is finished once {@link #fail} or {@link #complete} has run; both
 * are called on the writer thread, except for commands failed after the writer stopped (see
 * {@code GroupCommitWriter#failQueued}).
 */
sealed interface WriteCommand permits WriteCommand.LocalWrite, WriteCommand.RemoteBatch, WriteCommand.Collect, WriteCommand.Announce, WriteCommand.CloseMarker {
  /** Entries this command adds to a group, for {@code groupCommitMaxEntries}. */
  int entryCount();

  void fail(Throwable error);

  /** Completes with the outcome the writer recorded ({@code null}: already failed). */
  void complete(Object result, long headSeq);

  /**
   * A local put ({@code value != null}) or delete; key and value are the caller's copies. {@code
   * precondition}: null, or what the key's current version must meet for the write to be made.
   * {@code ttlMillis}: 0, or the put's value expires this long after its version's HLC.
   */
  record LocalWrite(
      byte[] key, byte[] value, Precondition precondition, long ttlMillis, CompletableFuture<WriteResult> future)
      implements WriteCommand {
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
      if (result instanceof PreconditionFailedException refused) {
        future.completeExceptionally(refused);
      } else {
        future.complete((WriteResult) result);
      }
    }
  }

  /** A peer's batch for LWW apply, committed whole in one group; {@code repair}: an anti-entropy answer. */
  record RemoteBatch(String peerId, List<StoredEntry> entries, boolean repair, CompletableFuture<ApplyResult> future)
      implements WriteCommand {
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
      if (result instanceof LwwGroup.Counts c) {
        future.complete(new ApplyResult(c.applied(), c.duplicates(), c.conflicts(), headSeq));
      }
    }
  }

  /** A round of tombstone collection: committed alone, between groups ({@link TombstoneCollector}). */
  record Collect(TombstoneCollector.Round round, CompletableFuture<TombstoneCollector.Outcome> future)
      implements WriteCommand {
    @Override
    public int entryCount() {
      return 0;
    }

    @Override
    public void fail(Throwable error) {
      future.completeExceptionally(error);
    }

    @Override
    public void complete(Object result, long headSeq) {
      future.complete((TombstoneCollector.Outcome) result);
    }
  }

  /**
   * Tells the commit listeners about the values that expired up to the read time, at most {@code
   * maxRows}; run alone, between groups, so that the announcements fall in commit order. Completes
   * with true when more expired values are left for the next call. Writes at most the read lease.
   */
  record Announce(int maxRows, CompletableFuture<Boolean> future) implements WriteCommand {
    @Override
    public int entryCount() {
      return 0;
    }

    @Override
    public void fail(Throwable error) {
      future.completeExceptionally(error);
    }

    @Override
    public void complete(Object result, long headSeq) {
      future.complete((Boolean) result);
    }
  }

  /** Put by {@code close()}: the writer commits what is ahead of it and stops. */
  enum CloseMarker implements WriteCommand {
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
}
