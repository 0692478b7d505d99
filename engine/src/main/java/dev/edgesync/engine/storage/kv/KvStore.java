package dev.edgesync.engine.storage.kv;

import java.util.List;

/**
 * The engine's seam to an embedded ordered key-value store: byte keys in unsigned lexicographic
 * order, atomic multi-key writes, consistent snapshots. LevelDB is the first implementation;
 * {@link MemoryKvStore} serves tests and the simulation. Nothing above this interface knows which
 * store it runs on.
 *
 * <p>Thread safety: every method may be called from any thread; {@link #write} calls are
 * serialised by the caller (the single writer) but reads run concurrently with them.
 */
public interface KvStore extends AutoCloseable {

  /** One change in an atomic write: a put when {@code value} is non-null, a delete otherwise. */
  record Mutation(byte[] key, byte[] value) {
    /** A put. */
    public static Mutation put(byte[] key, byte[] value) {
      return new Mutation(key, value);
    }

    /** A delete. */
    public static Mutation delete(byte[] key) {
      return new Mutation(key, null);
    }
  }

  /** A key and its value, as read by an iterator. */
  record Row(byte[] key, byte[] value) {}

  /** A consistent, read-only view of the store at one instant; close it when done. */
  interface Snapshot extends AutoCloseable {
    @Override
    void close();
  }

  /** An iterator over rows that holds store resources until closed. */
  interface RowIterator extends java.util.Iterator<Row>, AutoCloseable {
    @Override
    void close();
  }

  /** Reads one key from the latest state; {@code null} when absent. */
  byte[] get(byte[] key);

  /** Reads one key as of {@code snapshot}; {@code null} when absent. */
  byte[] get(Snapshot snapshot, byte[] key);

  /**
   * Applies all mutations atomically, in order: after a crash either all are visible or none.
   *
   * @param sync when true, the write is on stable storage (fsync) before this returns
   * @throws StorageException on an I/O failure; the store must then be treated as failed
   */
  void write(List<Mutation> mutations, boolean sync);

  /** Takes a snapshot of the latest state. */
  Snapshot snapshot();

  /**
   * Iterates rows with keys {@code >= fromInclusive} in key order, as of {@code snapshot} (or the
   * latest state when {@code snapshot} is null). The caller stops when keys leave its range.
   */
  RowIterator iterate(Snapshot snapshot, byte[] fromInclusive);

  /**
   * Whether a database opened from disk may have lost committed records without saying so, so
   * that its owner should check what it reads against its own bookkeeping (the default: no).
   * iq80 LevelDB silently drops the records of a damaged block of its log when it recovers it.
   */
  default boolean mayLoseRecordsSilently() {
    return false;
  }

  /**
   * Reads that failed and were repeated (an iterator reopened) since the store was opened; an
   * iterator that was reopened may miss rows overwritten after its snapshot (the default: none).
   */
  default long readRetries() {
    return 0;
  }

  /** Releases the store; pending reads and iterators must be closed first. */
  @Override
  void close();
}
