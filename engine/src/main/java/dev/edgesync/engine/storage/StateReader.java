package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.EMPTY;
import static dev.edgesync.engine.storage.StoreLayout.stateKey;

import dev.edgesync.engine.storage.kv.KvStore;
import java.util.Arrays;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Reads of the state table: one key, a prefix in key order, and the digest of the whole table.
 * They read the {@link KvStore} directly and never wait for the writer.
 *
 * <p>Thread safety: stateless beyond the store; any thread.
 */
final class StateReader {
  private final KvStore kv;

  StateReader(KvStore kv) {
    this.kv = kv;
  }

  /** See {@link VersionedStore#get}. */
  Optional<StoredEntry> get(byte[] key) {
    Objects.requireNonNull(key, "key");
    byte[] row = kv.get(stateKey(key));
    return row == null ? Optional.empty() : Optional.of(StoreLayout.decodeState(key.clone(), row));
  }

  /**
   * Live entries under {@code prefix} after {@code startAfter} (null: from the prefix on), through
   * one store iterator that holds one row at a time on LevelDB. Tombstone rows are skipped here,
   * not deleted, so no key is ever missing from the iteration.
   */
  VersionedStore.EntryIterator scan(byte[] prefix, byte[] startAfter) {
    byte[] statePrefix = stateKey(prefix == null ? EMPTY : prefix);
    byte[] from = statePrefix;
    if (startAfter != null) {
      // The smallest key strictly after startAfter is startAfter followed by a zero byte.
      byte[] after = Arrays.copyOf(stateKey(startAfter), stateKey(startAfter).length + 1);
      if (Arrays.compareUnsigned(after, statePrefix) > 0) {
        from = after;
      }
    }
    KvStore.RowIterator rows = kv.iterate(null, from);
    return new VersionedStore.EntryIterator() {
      private StoredEntry next;
      private boolean done;

      @Override
      public boolean hasNext() {
        while (next == null && !done) {
          if (!rows.hasNext()) {
            done = true;
            break;
          }
          KvStore.Row row = rows.next();
          if (!StoreLayout.hasPrefix(row.key(), statePrefix)) {
            done = true;
            break;
          }
          StoredEntry entry = StoreLayout.decodeState(StoreLayout.userKey(row.key()), row.value());
          if (!entry.tombstone()) {
            next = entry;
          }
        }
        return next != null;
      }

      @Override
      public StoredEntry next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        StoredEntry entry = next;
        next = null;
        return entry;
      }

      @Override
      public void close() {
        done = true;
        rows.close();
      }
    };
  }

  /** Sums the digest of the whole state table at one snapshot. */
  StateDigest recomputeDigest() {
    return digestOf(kv, key -> {});
  }

  /**
   * Sums the digest of the whole state table at one snapshot; {@code eachKey} sees every user key
   * on the way (the open fills the key filter with it, so the state is scanned once, not twice).
   */
  static StateDigest digestOf(KvStore kv, Consumer<byte[]> eachKey) {
    StateDigest[] sum = {StateDigest.EMPTY};
    scanState(
        kv,
        (key, row) -> {
          sum[0] = sum[0].plus(StateDigest.contribution(StoreLayout.decodeState(key, row)));
          eachKey.accept(key);
        });
    return sum[0];
  }

  /** Calls {@code visitor} with the user key and the row of every state row, in key order. */
  /** Every state row, tombstones included, in key order, from one snapshot. */
  void scanState(Consumer<StoredEntry> visitor) {
    scanState(kv, (key, row) -> visitor.accept(StoreLayout.decodeState(key, row)));
  }

  static void scanState(KvStore kv, BiConsumer<byte[], byte[]> visitor) {
    byte[] prefix = {StoreLayout.STATE};
    try (KvStore.Snapshot snapshot = kv.snapshot();
        KvStore.RowIterator rows = kv.iterate(snapshot, prefix)) {
      while (rows.hasNext()) {
        KvStore.Row row = rows.next();
        if (!StoreLayout.hasPrefix(row.key(), prefix)) {
          break;
        }
        visitor.accept(StoreLayout.userKey(row.key()), row.value());
      }
    }
  }
}
