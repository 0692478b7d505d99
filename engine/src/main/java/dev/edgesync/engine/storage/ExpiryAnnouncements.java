package dev.edgesync.engine.storage;

import dev.edgesync.conflict.HybridLogicalClock;
import dev.edgesync.engine.storage.kv.KvStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tells the commit listeners when stored values expire ({@link CommitListener#onExpired}), on the
 * writer thread, between two commits, so that an expiry is told after the put it expires and once
 * per version. Announcements are live: the cursor (the expiry index row last announced) starts at
 * the read time at open, which the read lease keeps above every earlier one, so nothing is told
 * twice across a restart; an expiry that passed while the node was down is not told.
 *
 * <p>Thread safety: the writer thread only.
 */
final class ExpiryAnnouncements {
  private final KvStore kv;
  private final HybridLogicalClock clock;
  private final ReadClock readClock;
  private final List<CommitListener> listeners;
  private byte[] cursor;

  ExpiryAnnouncements(KvStore kv, HybridLogicalClock clock, ReadClock readClock, List<CommitListener> listeners) {
    this.kv = kv;
    this.clock = clock;
    this.readClock = readClock;
    this.listeners = listeners;
    // peek() starts at the persisted read lease: no expiry announced before a restart is again.
    this.cursor = StoreLayout.expiryKey(clock.peek(), StoreLayout.EMPTY);
  }

  /**
   * Tells the listeners about the values that expired after the last announcement, up to the read
   * time, at most {@code maxRows}. The read time (which may write the read lease) is taken only
   * when the next index row is due by the clock, so a store whose values all expire later writes
   * nothing. The cursor moves only once the listeners were told: a failure leaves the rows for the
   * next call.
   *
   * @return true when more expired values are left
   */
  boolean announce(int maxRows) {
    List<StoredEntry> expired = new ArrayList<>();
    boolean more = false;
    byte[] next = cursor;
    long upTo = 0;
    try (KvStore.RowIterator rows = kv.iterate(null, cursor)) {
      while (rows.hasNext()) {
        KvStore.Row row = rows.next();
        if (Arrays.equals(row.key(), cursor)) {
          continue; // the seek lands on the last row announced
        }
        if (!StoreLayout.isExpiryKey(row.key())) {
          break;
        }
        long at = StoreLayout.indexHlc(row.key());
        if (upTo == 0) {
          if (at > clock.peek()) {
            break; // nothing due: no read time, no lease write
          }
          upTo = readClock.now();
        }
        if (at > upTo) {
          break;
        }
        if (expired.size() >= maxRows) {
          more = true;
          break;
        }
        next = row.key();
        byte[] key = StoreLayout.indexUserKey(row.key());
        byte[] state = kv.get(StoreLayout.stateKey(key));
        StoredEntry entry = state == null ? null : StoreLayout.decodeState(key, state);
        if (entry != null && entry.expiresHlc() == at) {
          expired.add(withoutValue(entry)); // listeners need the key and the version, not the value
        }
      }
    }
    if (!expired.isEmpty()) {
      tell(expired);
    }
    cursor = next;
    return more;
  }

  /**
   * After a commit: values it stored that had expired before the last announcement are announced
   * at once, only a key's final version in the group (a later write in the same group replaced the
   * others).
   */
  void afterCommit(LwwGroup commit) {
    List<StoredEntry> expired = null;
    for (List<StoredEntry> stored : commit.stored) {
      for (StoredEntry e : stored) {
        if (e.expires()
            && Arrays.compareUnsigned(StoreLayout.expiryKey(e.expiresHlc(), e.key()), cursor) <= 0
            && commit.overlay.get(new VersionLookup.KeyBytes(e.key())).seq() == e.seq()) {
          if (expired == null) {
            expired = new ArrayList<>();
          }
          expired.add(withoutValue(e));
        }
      }
    }
    if (expired != null) {
      tell(expired);
    }
  }

  private static StoredEntry withoutValue(StoredEntry e) {
    return new StoredEntry(e.key(), StoreLayout.EMPTY, false, e.version(), e.seq(), e.expiresHlc());
  }

  private void tell(List<StoredEntry> expired) {
    List<StoredEntry> view = List.copyOf(expired);
    for (CommitListener listener : listeners) {
      listener.onExpired(view);
    }
  }
}
