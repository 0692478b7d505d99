package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.stateKey;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.kv.KvStore;
import java.util.Arrays;
import java.util.Map;

/**
 * The committed version of a key, as the LWW check needs it, found through the key filter, then a
 * Caffeine cache, then the state row.
 *
 * <p>Neither aid is ever the source of truth. The {@link KeyFilter} says "certainly absent" for
 * most keys the store never held, sparing a read that would find nothing (and, in iq80, search
 * every level under the database lock). The cache maps recent keys to their committed version,
 * seq and digest contribution; it holds committed state only: a miss reads the state row. A key
 * enters the cache when a lookup reads its row; a commit {@linkplain #refresh refreshes} the keys
 * the cache holds and does not add keys that are new to the store.
 *
 * <p>Thread safety: writer thread only (the filter is not thread-safe), except {@link
 * #invalidateAll}, called by {@code close()} after the writer has stopped.
 */
final class VersionLookup {
  private final KvStore kv;
  private final KeyFilter keyFilter;
  private final Cache<KeyBytes, StoredVersion> cache;

  VersionLookup(KvStore kv, KeyFilter keyFilter, int cacheMaxEntries) {
    this.kv = kv;
    this.keyFilter = keyFilter;
    // Maintenance runs on the calling thread (the writer): no pool threads, deterministic tests.
    this.cache = Caffeine.newBuilder().maximumSize(cacheMaxEntries).executor(Runnable::run).build();
  }

  /** The committed version of {@code key}; null when never written. */
  StoredVersion committed(KeyBytes key) {
    if (!keyFilter.mightContain(key.bytes)) {
      return null; // never stored: no read needed
    }
    StoredVersion v = cache.getIfPresent(key);
    if (v != null) {
      return v;
    }
    byte[] row = kv.get(stateKey(key.bytes));
    if (row == null) {
      return null;
    }
    StoredEntry entry = StoreLayout.decodeState(key.bytes, row);
    v = StoredVersion.of(entry);
    cache.put(key, v);
    return v;
  }

  /**
   * Notes a key about to be stored for the first time. Called before the write: a failed commit
   * leaves a key the filter may hold, which costs a read, never a wrong answer.
   */
  void addingKey(byte[] key) {
    keyFilter.add(key);
  }

  /**
   * After a durable commit: refreshes only keys the cache holds (found by this group's lookups or
   * earlier). A key that is new to the store is not cached by its first write, so a catch-up of
   * millions of new keys does not churn the cache, and the first update of such a key reads its
   * row once.
   */
  void refresh(Map<KeyBytes, StoredVersion> committed) {
    committed.forEach(cache.asMap()::replace);
  }

  /** After a commit that removed {@code key}'s row (a purged tombstone): the next lookup reads. */
  void forget(byte[] key) {
    cache.invalidate(new KeyBytes(key));
  }

  void invalidateAll() {
    cache.invalidateAll();
  }

  /**
   * A committed version as the LWW check, the digest and the indexes need it.
   *
   * @param expiresHlc the value's expiry, 0: none
   */
  record StoredVersion(Version version, long seq, StateDigest contribution, boolean tombstone, long expiresHlc) {
    static StoredVersion of(StoredEntry entry) {
      return new StoredVersion(
          entry.version(), entry.seq(), StateDigest.contribution(entry), entry.tombstone(), entry.expiresHlc());
    }

    /** True when a read at HLC time {@code now} sees no value (a tombstone or an expired value). */
    boolean absentAt(long now) {
      return tombstone || (expiresHlc != 0 && expiresHlc <= now);
    }
  }

  /** Byte-array key with value equality, for the group's overlay and the cache. */
  static final class KeyBytes {
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
