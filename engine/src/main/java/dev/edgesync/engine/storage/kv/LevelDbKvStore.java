package dev.edgesync.engine.storage.kv;

import dev.edgesync.engine.storage.errors.StorageException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.iq80.leveldb.CompressionType;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.iq80.leveldb.ReadOptions;
import org.iq80.leveldb.WriteBatch;
import org.iq80.leveldb.WriteOptions;
import org.iq80.leveldb.impl.Iq80DBFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link KvStore} over iq80 LevelDB 0.12 (pure Java), one database directory per node.
 *
 * <p>iq80 0.12 is the last release and has defects this class designs around:
 *
 * <ul>
 *   <li>A read can fail with {@code RuntimeException: Could not open table N} caused by a {@code
 *       FileNotFoundException}: a background compaction deleted a table file the read was about to
 *       open (upstream dain/leveldb#7; seen most right after reopening a freshly loaded database).
 *       The data is still there, in the compaction's output, so {@link #get}, snapshot reads and
 *       iterators retry: a read is repeated, an iterator is reopened on the same snapshot and
 *       positioned after the last row it returned. After {@code maxReadAttempts} failures in a row
 *       the read fails with {@link StorageException}.
 *   <li>Compactions ignore live snapshots (the upstream code says "todo track snapshots"): once a
 *       key has been overwritten after a snapshot was taken and a compaction has run, a read at
 *       that snapshot may find <em>no</em> version of the key instead of the old one. Callers that
 *       read at a snapshot must treat a missing row as "overwritten since" (see {@link
 *       GroupCommitStore#readChanges}). An iterator sees its snapshot exactly unless it had to be
 *       reopened.
 *   <li>A database that cannot be opened (a log file of a few bytes makes {@code open} throw
 *       {@code IndexOutOfBoundsException}) is reported as a {@link StorageException} that names the
 *       directory and the way to recover. iq80 does not release the directory lock of a failed
 *       open, so opening the same directory again in the same JVM then reports it as in use.
 * </ul>
 *
 * <p>Compression is off, so that reading a database never depends on an optional Snappy jar being
 * on the class path.
 *
 * <p>Thread safety: every method may be called from any thread; iq80 serialises writes itself.
 * {@link #close()} must not race with reads (the owner closes it after its readers are done).
 */
public final class LevelDbKvStore implements KvStore {
  private static final Logger log = LoggerFactory.getLogger(LevelDbKvStore.class);

  /** Memtable size: 4 MiB, LevelDB's default; larger only delays compactions. */
  static final int DEFAULT_WRITE_BUFFER_BYTES = 4 << 20;

  /** A read is attempted this many times in a row before it fails. */
  public static final int DEFAULT_MAX_READ_ATTEMPTS = 10;

  private static final String RECOVERY_ADVICE =
      "to recover, move the data dir aside (all of it, watermarks included) and"
          + " restart: the node re-syncs its state from its peers";

  private final Path dir;
  private final DB db;
  private final int maxReadAttempts;
  private final AtomicLong readRetries = new AtomicLong();
  private volatile boolean closed;

  LevelDbKvStore(Path dir, DB db, int maxReadAttempts) {
    this.dir = Objects.requireNonNull(dir, "dir");
    this.db = Objects.requireNonNull(db, "db");
    if (maxReadAttempts < 1) {
      throw new IllegalArgumentException("maxReadAttempts must be at least 1, got " + maxReadAttempts);
    }
    this.maxReadAttempts = maxReadAttempts;
  }

  /**
   * Opens (creating if missing) the LevelDB database in {@code dbDir}.
   *
   * @throws StorageException if it cannot be opened; the message names the directory and says how
   *     to recover (or that another process holds it)
   */
  public static LevelDbKvStore open(Path dbDir) {
    return open(dbDir, DEFAULT_WRITE_BUFFER_BYTES, DEFAULT_MAX_READ_ATTEMPTS);
  }

  /** {@link #open(Path)} with a memtable size (tests use a small one to force compactions). */
  public static LevelDbKvStore open(Path dbDir, int writeBufferBytes, int maxReadAttempts) {
    Options options =
        new Options()
            .createIfMissing(true)
            .paranoidChecks(true)
            .verifyChecksums(true)
            .compressionType(CompressionType.NONE)
            .writeBufferSize(writeBufferBytes)
            .cacheSize(8L << 20);
    DB db;
    try {
      Files.createDirectories(dbDir);
      db = Iq80DBFactory.factory.open(dbDir.toFile(), options);
    } catch (IOException | RuntimeException e) {
      throw openFailure(dbDir, e);
    }
    return new LevelDbKvStore(dbDir, db, maxReadAttempts);
  }

  private static StorageException openFailure(Path dbDir, Exception e) {
    if (isLockFailure(e)) {
      // iq80 keeps the lock of a failed open until its file channel is garbage-collected, so in
      // this JVM "in use" may also mean "an earlier open failed": that error is the one to read.
      return new StorageException(
          "LevelDB database at " + dbDir + " is in use by another process or by another store in this JVM (or an"
              + " earlier open in this JVM failed and iq80 still holds its lock: see that error and restart the"
              + " process): stop the other user first (" + e + ")",
          e);
    }
    return new StorageException(
        "cannot open the LevelDB database at " + dbDir + ": it is damaged or not a LevelDB database (" + e + "); "
            + RECOVERY_ADVICE,
        e);
  }

  private static boolean isLockFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OverlappingFileLockException
          || (t instanceof IOException && String.valueOf(t.getMessage()).startsWith("Unable to acquire lock"))) {
        return true;
      }
    }
    return false;
  }

  /** The database directory. */
  public Path directory() {
    return dir;
  }

  /** How many reads were repeated because of a missing table file, since opening. */
  /**
   * Yes: iq80 0.12 recovers its log at every open (a cleanly closed database keeps its recent
   * writes there) and silently skips a block whose checksum fails, with every record in it.
   */
  @Override
  public boolean mayLoseRecordsSilently() {
    return true;
  }

  @Override
  public long readRetries() {
    return readRetries.get();
  }

  @Override
  public byte[] get(byte[] key) {
    Objects.requireNonNull(key, "key");
    return read("a key", () -> db.get(key));
  }

  @Override
  public byte[] get(Snapshot snapshot, byte[] key) {
    Objects.requireNonNull(key, "key");
    ReadOptions options = readOptions(snapshot);
    return read("a key at a snapshot", () -> db.get(key, options));
  }

  @Override
  public void write(List<Mutation> mutations, boolean sync) {
    checkOpen();
    try (WriteBatch batch = db.createWriteBatch()) {
      for (Mutation m : mutations) {
        if (m.value() == null) {
          batch.delete(m.key());
        } else {
          batch.put(m.key(), m.value());
        }
      }
      db.write(batch, new WriteOptions().sync(sync));
    } catch (IOException | RuntimeException e) {
      throw new StorageException(
          "write of " + mutations.size() + " mutations to the LevelDB database at " + dir + " failed: " + e, e);
    }
  }

  @Override
  public Snapshot snapshot() {
    checkOpen();
    try {
      return new LevelDbSnapshot(db.getSnapshot());
    } catch (RuntimeException e) {
      throw new StorageException("cannot take a snapshot of the LevelDB database at " + dir + ": " + e, e);
    }
  }

  @Override
  public RowIterator iterate(Snapshot snapshot, byte[] fromInclusive) {
    checkOpen();
    Objects.requireNonNull(fromInclusive, "fromInclusive");
    ReadOptions options = readOptions(snapshot);
    return new RetryingRowIterator(() -> db.iterator(options), fromInclusive.clone(), maxReadAttempts, dir, readRetries);
  }

  /** Closes the database; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      db.close();
    } catch (IOException | RuntimeException e) {
      throw new StorageException("closing the LevelDB database at " + dir + " failed: " + e, e);
    }
  }

  private ReadOptions readOptions(Snapshot snapshot) {
    ReadOptions options = new ReadOptions();
    if (snapshot != null) {
      if (!(snapshot instanceof LevelDbSnapshot s)) {
        throw new IllegalArgumentException("not a snapshot of a LevelDbKvStore: " + snapshot);
      }
      options.snapshot(s.snapshot);
    }
    return options;
  }

  private <T> T read(String what, Supplier<T> op) {
    checkOpen();
    for (int attempt = 1; ; attempt++) {
      try {
        return op.get();
      } catch (RuntimeException e) {
        if (!isMissingTable(e) || attempt >= maxReadAttempts) {
          throw readFailure(what, dir, attempt, e);
        }
        noteRetry(dir, readRetries, attempt, e);
      }
    }
  }

  /** True for the iq80 failure to open a table file that a compaction deleted meanwhile. */
  static boolean isMissingTable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FileNotFoundException
          || t instanceof NoSuchFileException
          || String.valueOf(t.getMessage()).startsWith("Could not open table")) {
        return true;
      }
    }
    return false;
  }

  private static StorageException readFailure(String what, Path dir, int attempts, RuntimeException e) {
    return new StorageException(
        "reading "
            + what
            + " from the LevelDB database at "
            + dir
            + " failed"
            + (attempts > 1 ? " " + attempts + " times in a row" : "")
            + ": "
            + e,
        e);
  }

  private static void noteRetry(Path dir, AtomicLong retries, int attempt, RuntimeException e) {
    retries.incrementAndGet();
    // Expected now and then (iq80 defect, see the class comment): worth a line, not an alarm.
    log.info("read from {} hit a table file deleted by a compaction (attempt {}), retrying: {}", dir, attempt, e.toString());
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the LevelDB database at " + dir + " is closed");
    }
  }

  private static final class LevelDbSnapshot implements Snapshot {
    private final org.iq80.leveldb.Snapshot snapshot;
    private final AtomicBoolean closed = new AtomicBoolean();

    LevelDbSnapshot(org.iq80.leveldb.Snapshot snapshot) {
      this.snapshot = snapshot;
    }

    @Override
    public void close() {
      // iq80 releases a reference count on close, so a second close must not reach it.
      if (closed.compareAndSet(false, true)) {
        try {
          snapshot.close();
        } catch (IOException e) {
          throw new StorageException("releasing a LevelDB snapshot failed: " + e, e);
        }
      }
    }
  }

  /**
   * A row iterator that survives missing-table failures by reopening the underlying iterator (the
   * {@code opener} reads at the same snapshot) and seeking past the last row it returned.
   */
  static final class RetryingRowIterator implements RowIterator {
    private final Supplier<DBIterator> opener;
    private final byte[] from;
    private final int maxAttempts;
    private final Path dir;
    private final AtomicLong retries;
    private DBIterator current;
    private byte[] lastKey;
    private Row next;
    private boolean exhausted;
    private boolean closed;

    RetryingRowIterator(Supplier<DBIterator> opener, byte[] from, int maxAttempts, Path dir, AtomicLong retries) {
      this.opener = opener;
      this.from = from;
      this.maxAttempts = maxAttempts;
      this.dir = dir;
      this.retries = retries;
    }

    @Override
    public boolean hasNext() {
      if (closed) {
        throw new IllegalStateException("iterator over " + dir + " is closed");
      }
      if (next == null && !exhausted) {
        advance();
      }
      return next != null;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Row row = next;
      next = null;
      lastKey = row.key();
      return row;
    }

    private void advance() {
      for (int attempt = 1; ; attempt++) {
        try {
          if (current == null) {
            current = opener.get();
            if (lastKey == null) {
              current.seek(from);
            } else {
              // Resume after the last row handed out: seek lands on it (or past it, if it is gone).
              current.seek(lastKey);
              if (current.hasNext() && java.util.Arrays.equals(current.peekNext().getKey(), lastKey)) {
                current.next();
              }
            }
          }
          if (current.hasNext()) {
            Map.Entry<byte[], byte[]> e = current.next();
            next = new Row(e.getKey(), e.getValue());
          } else {
            exhausted = true;
          }
          return;
        } catch (RuntimeException e) {
          boolean retry = isMissingTable(e) && attempt < maxAttempts;
          DBIterator broken = current;
          current = null;
          if (broken != null) {
            try {
              broken.close();
            } catch (IOException | RuntimeException closeFailure) {
              if (!retry) {
                // The read failure is what the caller needs to see; keep this one attached to it.
                e.addSuppressed(closeFailure);
              } else {
                log.warn("closing a failed iterator over {} failed; reopening anyway", dir, closeFailure);
              }
            }
          }
          if (!retry) {
            throw readFailure("rows", dir, attempt, e);
          }
          noteRetry(dir, retries, attempt, e);
        }
      }
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      DBIterator it = current;
      current = null;
      if (it != null) {
        try {
          it.close();
        } catch (IOException e) {
          throw new StorageException("closing an iterator over " + dir + " failed: " + e, e);
        }
      }
    }
  }
}
