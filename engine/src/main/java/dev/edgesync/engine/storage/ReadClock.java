package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.HybridLogicalClock;
import dev.edgesync.engine.storage.kv.KvStore;
import java.util.List;

/**
 * The time reads judge expiry at, which never goes back, across restarts too: a value once read
 * as expired must never read as live again, even when the wall clock is set back while the node
 * is down.
 *
 * <p>A read time is the clock's {@link HybridLogicalClock#peek()}, covered by a lease persisted in
 * meta ({@code readLease}): before a read may use a time beyond the lease, the lease moves to that
 * time plus {@link #LEASE_MILLIS} with one synced write of one meta row. Only reads of values that
 * expire, conditional writes over them and expiry announcements that have something due take a
 * read time, so a node writes the lease at most every two seconds while such reads go on, and
 * never when nothing with a ttl is read or due. On open, the clock's reads start at the persisted
 * lease, above every read time used before. The cost: after a restart, expiry is judged up to
 * {@link #LEASE_MILLIS} early. When the lease cannot be written, reads use the lease's time.
 *
 * <p>Thread safety: all methods may be called from any thread. The meta row is written only here.
 */
final class ReadClock {
  /** How far ahead of the latest read time the persisted lease reaches. */
  static final long LEASE_MILLIS = 2_000;

  private final KvStore kv;
  private final HybridLogicalClock clock;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReadClock.class);

  private volatile long lease; // written under this
  private boolean leaseFailing; // guarded by this

  ReadClock(KvStore kv, HybridLogicalClock clock) {
    this.kv = kv;
    this.clock = clock;
    byte[] persisted = kv.get(StoreLayout.metaKey(StoreLayout.META_READ_LEASE));
    this.lease = persisted == null ? 0 : StoreLayout.decodeLong(StoreLayout.META_READ_LEASE, persisted);
    clock.raisePeekFloor(lease);
  }

  /** The HLC time a read happens at now: at or after every earlier one, before and after a restart. */
  long now() {
    long t = clock.peek();
    if (t <= lease) {
      return t;
    }
    synchronized (this) {
      if (t > lease) {
        long next = Hlc.of(Hlc.physicalMillis(t) + LEASE_MILLIS, 0);
        try {
          kv.write(
              List.of(KvStore.Mutation.put(StoreLayout.metaKey(StoreLayout.META_READ_LEASE), StoreLayout.encodeLong(next))),
              true);
        } catch (RuntimeException e) {
          // Reads go on at the lease's time (values expire late, never early or twice); the
          // writer meets the same disk with its next commit and fails the store if it is broken.
          if (!leaseFailing) {
            log.warn("cannot extend the read lease of the store ({}): expiry is judged at {} until it can", e.toString(), Hlc.format(lease));
          }
          leaseFailing = true;
          return lease;
        }
        leaseFailing = false;
        lease = next;
      }
    }
    return t;
  }
}
