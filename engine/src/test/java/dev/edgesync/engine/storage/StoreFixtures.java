package dev.edgesync.engine.storage;

import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Shared helpers of the storage tests: backends, a hand-moved wall clock, options. */
public final class StoreFixtures {
  /** 2026-11-22T00:00:00Z: a wall clock well inside the HLC's 48-bit range. */
  public static final long BASE_MILLIS = 1_795_305_600_000L;

  private StoreFixtures() {}

  /** The two {@link KvStore} implementations the store runs on. */
  public enum Backend {
    MEMORY,
    LEVELDB;

    public KvStore open(Path dir) {
      return this == MEMORY ? new MemoryKvStore() : LevelDbKvStore.open(dir.resolve("db"));
    }
  }

  /** A wall clock moved by hand. */
  public static final class ManualClock implements InstantSource {
    private final AtomicLong millis;

    public ManualClock(long millis) {
      this.millis = new AtomicLong(millis);
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
      return millis.get();
    }

    public void set(long value) {
      millis.set(value);
    }

    public void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }
  }

  /** The HLC of wall-clock time {@code millis}, logical 0. */
  static long hlcAt(long millis) {
    return dev.edgesync.conflict.Hlc.of(millis, 0);
  }

  /** A store of node "a" on LevelDB in {@code dir}/db, reading {@code clock}; reopens what is there. */
  static GroupCommitStore openLevelDb(java.nio.file.Path dir, InstantSource clock) {
    java.nio.file.Path db = dir.resolve("db");
    return GroupCommitStore.open(
        dev.edgesync.engine.storage.kv.LevelDbKvStore.open(db), db.toString(), options("a", clock),
        dev.edgesync.engine.metrics.EngineMetrics.noRegistry());
  }

  static StoreOptions options(String nodeId, InstantSource clock) {
    return StoreOptions.defaults(nodeId, clock);
  }

  static StoreOptions options(
      String nodeId, InstantSource clock, boolean sync, int queueDepth, int groupMax, ConflictListener conflicts) {
    StoreOptions d = StoreOptions.defaults(nodeId, clock);
    return new StoreOptions(
        nodeId,
        sync,
        d.maxKeyBytes(),
        d.maxValueBytes(),
        queueDepth,
        groupMax,
        d.cacheMaxEntries(),
        clock,
        d.maxClockSkew(),
        conflicts);
  }

  public static GroupCommitStore open(KvStore kv, StoreOptions options) {
    return GroupCommitStore.open(kv, "test-db", options, EngineMetrics.noRegistry());
  }

  public static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static String string(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** Rows of {@code kv} whose key starts with {@code prefix}. */
  static List<KvStore.Row> rows(KvStore kv, byte prefix) {
    List<KvStore.Row> out = new ArrayList<>();
    try (KvStore.RowIterator it = kv.iterate(null, new byte[] {prefix})) {
      while (it.hasNext()) {
        KvStore.Row row = it.next();
        if (row.key()[0] != prefix) {
          break;
        }
        out.add(row);
      }
    }
    return out;
  }

  /** Every entry of the change log from 0 to the head, in seq order. */
  static List<StoredEntry> allChanges(VersionedStore store) {
    List<StoredEntry> out = new ArrayList<>();
    long after = 0;
    while (true) {
      ChangeBatch batch = store.readChanges(after, 1000, 1 << 20);
      out.addAll(batch.entries());
      if (batch.lastSeq() >= batch.headSeq() || batch.lastSeq() == after) {
        return out;
      }
      after = batch.lastSeq();
    }
  }
}
