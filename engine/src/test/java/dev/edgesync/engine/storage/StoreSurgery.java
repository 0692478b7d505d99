package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.KvStore.Mutation;
import java.util.List;

/**
 * Plants a divergence below the replication layer, for anti-entropy tests: it edits a closed
 * store's tables directly, keeping the recorded state digest consistent with the rows, as a loss
 * that nothing local can notice (a damaged database repaired by hand, a bug that dropped a write)
 * would leave them. Only a comparison with a peer can find what it did.
 *
 * <p>Call it on a {@link KvStore} that no store has open.
 */
public final class StoreSurgery {
  private StoreSurgery() {}

  /**
   * Removes {@code key}'s state row and its change-log row, as if the node had never stored it.
   *
   * @return the entry that was removed
   * @throws IllegalStateException when the store holds no row for {@code key}
   */
  public static StoredEntry removeKey(KvStore kv, byte[] key) {
    StoredEntry old = stored(kv, key);
    StateDigest digest = recordedDigest(kv).minus(StateDigest.contribution(old));
    kv.write(
        List.of(
            Mutation.delete(StoreLayout.stateKey(key)),
            Mutation.delete(StoreLayout.seqKey(old.seq())),
            Mutation.put(StoreLayout.metaKey(StoreLayout.META_DIGEST), StoreLayout.encodeDigest(digest))),
        true);
    return old;
  }

  /**
   * Replaces {@code key}'s stored version by {@code version} with {@code value}, keeping its seq:
   * the node then holds a version its peers overwrote long ago, and its change log does not offer
   * the newer one again.
   *
   * @return the entry that was replaced
   */
  public static StoredEntry replaceVersion(KvStore kv, byte[] key, byte[] value, Version version) {
    StoredEntry old = stored(kv, key);
    StoredEntry planted = new StoredEntry(key, value, false, version, old.seq());
    StateDigest digest =
        recordedDigest(kv).minus(StateDigest.contribution(old)).plus(StateDigest.contribution(planted));
    kv.write(
        List.of(
            Mutation.put(StoreLayout.stateKey(key), StoreLayout.encodeState(planted)),
            Mutation.put(StoreLayout.metaKey(StoreLayout.META_DIGEST), StoreLayout.encodeDigest(digest))),
        true);
    return old;
  }

  private static StoredEntry stored(KvStore kv, byte[] key) {
    byte[] row = kv.get(StoreLayout.stateKey(key));
    if (row == null) {
      throw new IllegalStateException("no state row for key " + StoreLayout.printable(key));
    }
    return StoreLayout.decodeState(key, row);
  }

  private static StateDigest recordedDigest(KvStore kv) {
    return StoreLayout.decodeDigest(kv.get(StoreLayout.metaKey(StoreLayout.META_DIGEST)));
  }
}
