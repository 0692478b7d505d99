package dev.edgesync.engine.storage.kv;

import dev.edgesync.engine.storage.errors.StorageException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A {@link KvStore} held in memory, for tests and the simulation: nothing survives {@link
 * #close()}.
 *
 * <p>Snapshots (and iterators over the latest state, which LevelDB also pins to the moment they
 * were opened) copy the rows they cover, which is O(rows): fine for tests, not for production
 * sizes. Writes are atomic with respect to snapshots and iterators: a multi-key write is applied
 * under a write lock that copying holds as a reader. A single-key {@link #get(byte[])} needs no
 * lock.
 *
 * <p>{@link #failNextWrite(Exception)} injects an I/O failure for tests of the failure path.
 *
 * <p>Thread safety: every method may be called from any thread. Byte arrays handed in are copied;
 * byte arrays handed out must not be modified.
 */
public final class MemoryKvStore implements KvStore {
  private final ConcurrentSkipListMap<byte[], byte[]> rows = new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final AtomicReference<Exception> nextWriteFailure = new AtomicReference<>();
  private volatile boolean closed;

  /** Creates an empty store. */
  public MemoryKvStore() {}

  /**
   * Makes the next {@link #write} fail with a {@link StorageException} caused by {@code cause},
   * without applying any of its mutations (as a failed {@code fsync} of a LevelDB batch would
   * leave it: not acknowledged). Later writes succeed again.
   */
  public void failNextWrite(Exception cause) {
    nextWriteFailure.set(Objects.requireNonNull(cause, "cause"));
  }

  /**
   * A new, open store holding a copy of every row: a backup of this "disk" as it is now, for
   * tests that restore a node from an older copy.
   */
  public MemoryKvStore copy() {
    checkOpen();
    MemoryKvStore copy = new MemoryKvStore();
    copy.rows.putAll(copyFrom(null));
    return copy;
  }

  /** Number of rows, for tests. */
  public int size() {
    return rows.size();
  }

  @Override
  public byte[] get(byte[] key) {
    checkOpen();
    return rows.get(key);
  }

  @Override
  public byte[] get(Snapshot snapshot, byte[] key) {
    checkOpen();
    return ours(snapshot).rows.get(key);
  }

  @Override
  public void write(List<Mutation> mutations, boolean sync) {
    checkOpen();
    Exception failure = nextWriteFailure.getAndSet(null);
    if (failure != null) {
      throw new StorageException("write of " + mutations.size() + " mutations failed (injected): " + failure, failure);
    }
    lock.writeLock().lock();
    try {
      for (Mutation m : mutations) {
        if (m.value() == null) {
          rows.remove(m.key());
        } else {
          rows.put(m.key().clone(), m.value().clone());
        }
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public Snapshot snapshot() {
    checkOpen();
    return new MemorySnapshot(copyFrom(null));
  }

  @Override
  public RowIterator iterate(Snapshot snapshot, byte[] fromInclusive) {
    checkOpen();
    NavigableMap<byte[], byte[]> view =
        snapshot == null ? copyFrom(fromInclusive) : ours(snapshot).rows.tailMap(fromInclusive, true);
    Iterator<Map.Entry<byte[], byte[]>> it = view.entrySet().iterator();
    return new RowIterator() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public Row next() {
        Map.Entry<byte[], byte[]> e = it.next();
        return new Row(e.getKey(), e.getValue());
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void close() {
    closed = true;
  }

  private NavigableMap<byte[], byte[]> copyFrom(byte[] fromInclusive) {
    lock.readLock().lock();
    try {
      // TreeMap's SortedMap constructor builds in linear time from the already sorted rows.
      return new TreeMap<>(fromInclusive == null ? rows : rows.tailMap(fromInclusive, true));
    } finally {
      lock.readLock().unlock();
    }
  }

  private static MemorySnapshot ours(Snapshot snapshot) {
    if (snapshot instanceof MemorySnapshot s) {
      return s;
    }
    throw new IllegalArgumentException("not a snapshot of a MemoryKvStore: " + snapshot);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("memory store is closed");
    }
  }

  private record MemorySnapshot(NavigableMap<byte[], byte[]> rows) implements Snapshot {
    @Override
    public void close() {}
  }
}
