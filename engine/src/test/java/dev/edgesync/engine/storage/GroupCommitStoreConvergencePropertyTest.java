package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreFixtures.BASE_MILLIS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.StoreFixtures.Backend;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import dev.edgesync.engine.storage.kv.KvStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Convergence of LWW apply against a naive reference: random histories of puts and deletes from
 * several origins, delivered to three replicas in different orders, batch splits and with
 * duplicates, must leave every replica with the reference state (per key, the greatest version)
 * and equal digests.
 *
 * <p>Replay a failure with {@code -Dedgesync.seed=<seed>}.
 */
class GroupCommitStoreConvergencePropertyTest {
  private static final List<String> ORIGINS = List.of("site-a", "site-b", "site-c", "site-d");

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}: {1} histories")
  @CsvSource({"MEMORY, 200", "LEVELDB, 20"})
  void replicasConvergeToTheReferenceWhateverTheDeliveryOrder(Backend backend, int histories) {
    long seed = Long.getLong("edgesync.seed", System.nanoTime());
    System.out.println("GroupCommitStoreConvergencePropertyTest seed=" + seed + " backend=" + backend);
    SplittableRandom random = new SplittableRandom(seed);
    for (int h = 0; h < histories; h++) {
      runOneHistory(backend, random.split(), "seed=" + seed + " history=" + h + " backend=" + backend, h);
    }
  }

  private void runOneHistory(Backend backend, SplittableRandom random, String context, int historyIndex) {
    List<StoredEntry> history = randomHistory(random);
    Map<ByteBuffer, StoredEntry> reference = reference(history);
    ManualClock clock = new ManualClock(BASE_MILLIS + Duration.ofDays(1).toMillis());
    List<GroupCommitStore> replicas = new ArrayList<>();
    try {
      for (int r = 0; r < 3; r++) {
        String node = "replica-" + r;
        KvStore kv = backend.open(dir.resolve("h" + historyIndex + "-" + node));
        GroupCommitStore replica =
            StoreFixtures.open(kv, StoreFixtures.options(node, clock, false, 10_000, 1 + random.nextInt(64), null));
        replicas.add(replica);
        kvs.put(replica, kv);
      }
      for (GroupCommitStore replica : replicas) {
        deliver(replica, history, random, context + " replica=" + replica.nodeId());
      }
      StateDigest expectedDigest = StateDigest.EMPTY;
      for (StoredEntry e : reference.values()) {
        expectedDigest = expectedDigest.plus(StateDigest.contribution(e));
      }
      for (GroupCommitStore replica : replicas) {
        String where = context + " replica=" + replica.nodeId();
        for (StoredEntry expected : reference.values()) {
          Optional<StoredEntry> actual = replica.get(expected.key());
          assertTrue(actual.isPresent(), where + ": key missing");
          assertEquals(expected.version(), actual.get().version(), where);
          assertEquals(expected.tombstone(), actual.get().tombstone(), where);
          assertArrayEquals(expected.value(), actual.get().value(), where);
        }
        List<StoredEntry> log = StoreFixtures.allChanges(replica);
        assertEquals(reference.size(), log.size(), where + ": one by-seq row per key");
        assertEquals(expectedDigest, replica.digest(), where + ": digest against the reference");
        assertEquals(replica.digest(), replica.recomputeDigest(), where + ": incremental digest against a rescan");
        assertEquals(reference.size(), StoreFixtures.rows(kvOf(replica), StoreLayout.STATE).size(), where);
      }
    } finally {
      replicas.forEach(GroupCommitStore::close);
    }
  }

  /** Each replica's key-value store, to count its rows. */
  private final Map<GroupCommitStore, KvStore> kvs = new HashMap<>();

  private KvStore kvOf(GroupCommitStore store) {
    return kvs.get(store);
  }

  /**
   * Versions are unique per (hlc, origin) and carry fixed content, as real writes do; timestamps
   * collide across origins often, so the origin tie-break is exercised.
   */
  private static List<StoredEntry> randomHistory(SplittableRandom random) {
    int keys = 1 + random.nextInt(30);
    int writes = 1 + random.nextInt(300);
    Map<String, StoredEntry> byVersion = new HashMap<>();
    List<StoredEntry> history = new ArrayList<>();
    for (int i = 0; i < writes; i++) {
      String origin = ORIGINS.get(random.nextInt(ORIGINS.size()));
      long hlc = Hlc.of(BASE_MILLIS + random.nextInt(50), random.nextInt(4));
      String id = hlc + "@" + origin;
      if (byVersion.containsKey(id)) {
        continue;
      }
      byte[] key = ("key-" + random.nextInt(keys)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      boolean tombstone = random.nextInt(5) == 0;
      byte[] value = tombstone ? new byte[0] : randomBytes(random, random.nextInt(40));
      StoredEntry entry = new StoredEntry(key, value, tombstone, new Version(hlc, origin), 0);
      byVersion.put(id, entry);
      history.add(entry);
    }
    return history;
  }

  private static byte[] randomBytes(SplittableRandom random, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) random.nextInt(256);
    }
    return b;
  }

  /** Per key, the greatest version: the naive model of LWW. */
  private static Map<ByteBuffer, StoredEntry> reference(List<StoredEntry> history) {
    Map<ByteBuffer, StoredEntry> out = new TreeMap<>();
    for (StoredEntry e : history) {
      out.merge(ByteBuffer.wrap(e.key()), e, (a, b) -> a.version().compareTo(b.version()) >= 0 ? a : b);
    }
    return out;
  }

  /** Shuffles the history with some duplicates, splits it in random batches, submits them all. */
  private void deliver(GroupCommitStore replica, List<StoredEntry> history, SplittableRandom random, String where) {
    List<StoredEntry> order = new ArrayList<>(history);
    int duplicates = random.nextInt(history.size() + 1);
    for (int i = 0; i < duplicates; i++) {
      order.add(history.get(random.nextInt(history.size())));
    }
    shuffle(order, random);
    List<CompletableFuture<ApplyResult>> pending = new ArrayList<>();
    int applied = 0;
    int i = 0;
    while (i < order.size()) {
      int size = 1 + random.nextInt(Math.min(50, order.size() - i));
      String peer = ORIGINS.get(random.nextInt(ORIGINS.size()));
      pending.add(replica.submitRemote(peer, List.copyOf(order.subList(i, i + size))));
      i += size;
      // Sometimes wait, so that groups of different shapes form.
      if (random.nextInt(4) == 0) {
        for (CompletableFuture<ApplyResult> f : pending) {
          applied += f.join().applied();
        }
        pending.clear();
      }
    }
    for (CompletableFuture<ApplyResult> f : pending) {
      applied += f.join().applied();
    }
    assertEquals(applied, replica.headSeq(), where + ": every applied entry got exactly one seq");
    // The queue is FIFO and there is one writer, so entries are resolved in submission order:
    // replaying that order against the naive model says how many had to win, tie or lose.
    Map<ByteBuffer, Version> model = new HashMap<>();
    int expectedApplied = 0;
    for (StoredEntry e : order) {
      Version stored = model.get(ByteBuffer.wrap(e.key()));
      if (stored == null || e.version().isAfter(stored)) {
        model.put(ByteBuffer.wrap(e.key()), e.version());
        expectedApplied++;
      }
    }
    assertEquals(expectedApplied, applied, where + ": winners in delivery order (duplicates and losers get no seq)");
  }

  private static <T> void shuffle(List<T> list, SplittableRandom random) {
    for (int i = list.size() - 1; i > 0; i--) {
      Collections.swap(list, i, random.nextInt(i + 1));
    }
  }
}
