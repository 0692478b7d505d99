package dev.edgesync.bench.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.iq80.leveldb.CompressionType;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.Options;
import org.iq80.leveldb.WriteBatch;
import org.iq80.leveldb.WriteOptions;
import org.iq80.leveldb.impl.Iq80DBFactory;

/**
 * The yardstick: how fast raw iq80 LevelDB takes the same keys and values in batches, in this
 * JVM, on this disk, in this run. Same database options as the engine's {@code LevelDbKvStore}
 * (no compression, paranoid checks, 4 MiB memtable, 8 MiB cache); one {@code WriteBatch} per
 * {@link #BATCH} entries, with {@code sync} on every batch for fsync durability. One put per entry,
 * where the engine writes a state row, a by-seq row (and deletes the old one) plus three meta rows
 * per group commit: a ratio of 0.5 leaves the engine room for that extra work.
 */
final class Baseline {
  /** Entries per write batch: the engine's replication batch size. */
  static final int BATCH = 1000;

  private Baseline() {}

  /** Result: entries written, seconds, entries per second. */
  record Result(long entries, double seconds, double entriesPerSecond, int batch, boolean sync) {}

  static Result run(Path dir, long entries, Workload workload, boolean sync) {
    Options options =
        new Options()
            .createIfMissing(true)
            .paranoidChecks(true)
            .verifyChecksums(true)
            .compressionType(CompressionType.NONE)
            .writeBufferSize(4 << 20)
            .cacheSize(8L << 20);
    long start;
    long end;
    try (DB db = Iq80DBFactory.factory.open(dir.toFile(), options)) {
      WriteOptions write = new WriteOptions().sync(sync);
      start = System.nanoTime();
      for (long from = 0; from < entries; from += BATCH) {
        long to = Math.min(entries, from + BATCH);
        try (WriteBatch batch = db.createWriteBatch()) {
          for (long i = from; i < to; i++) {
            batch.put(Workload.key("k", i), workload.value(i));
          }
          db.write(batch, write);
        }
      }
      end = System.nanoTime();
    } catch (IOException e) {
      throw new UncheckedIOException("baseline LevelDB at " + dir + " failed", e);
    }
    double seconds = (end - start) / 1e9;
    return new Result(entries, seconds, entries / seconds, BATCH, sync);
  }
}
