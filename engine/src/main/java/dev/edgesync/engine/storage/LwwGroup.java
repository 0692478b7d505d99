package dev.edgesync.engine.storage;

import static dev.edgesync.engine.storage.StoreLayout.EMPTY;
import static dev.edgesync.engine.storage.StoreLayout.META_DIGEST;
import static dev.edgesync.engine.storage.StoreLayout.META_HEAD_SEQ;
import static dev.edgesync.engine.storage.StoreLayout.META_HLC;
import static dev.edgesync.engine.storage.StoreLayout.metaKey;
import static dev.edgesync.engine.storage.StoreLayout.printable;
import static dev.edgesync.engine.storage.StoreLayout.seqKey;
import static dev.edgesync.engine.storage.StoreLayout.stateKey;

import dev.edgesync.conflict.ClockSkewException;
import dev.edgesync.conflict.HybridLogicalClock;
import dev.edgesync.conflict.LwwResolver;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.VersionLookup.KeyBytes;
import dev.edgesync.engine.storage.VersionLookup.StoredVersion;
import dev.edgesync.engine.storage.WriteCommand.LocalWrite;
import dev.edgesync.engine.storage.WriteCommand.RemoteBatch;
import dev.edgesync.engine.storage.kv.KvStore.Mutation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One group commit, resolved: LWW of every entry of a group of commands against the committed
 * versions and an overlay of the group's own winners (so several writes to one key in one group
 * resolve correctly), dense seqs for the winners, and the mutations that store them, ready for one
 * atomic {@code KvStore.write}.
 *
 * <p>Resolving reads committed versions through a {@link VersionLookup} and writes nothing; its
 * only effects are those a resolution must have: the HLC advances (a local write takes {@code
 * now()}, a remote batch updates it past its timestamps), new keys are noted in the key filter,
 * and a remote batch refused for clock skew fails at once (nothing of it is resolved; the other
 * commands of the group go on).
 *
 * <p>Thread safety: built and read on the writer thread only.
 */
final class LwwGroup {
  /** What a remote batch did, for its {@link ApplyResult}. */
  record Counts(int applied, int duplicates, int conflicts) {}

  /** An incoming version that lost LWW, for the conflict listener. */
  record Conflict(byte[] key, Version winner, Version loser, String fromPeer) {}

  // Per command: WriteResult, PreconditionFailedException (a refused conditional write), Counts,
  // or null (a remote batch already failed).
  final List<Object> results = new ArrayList<>();
  final List<List<StoredEntry>> stored = new ArrayList<>(); // per command, in seq order
  // Per command, aligned with stored: the version each stored entry replaced here (null: none).
  final List<List<Version>> replaced = new ArrayList<>();
  final List<Conflict> losers = new ArrayList<>();
  final List<Long> replacedSeqs = new ArrayList<>(); // seqs whose by-seq row this commit deletes
  // The group's winners by key; after the commit, the committed version of each key written.
  final Map<KeyBytes, StoredVersion> overlay = new HashMap<>();
  // Empty when the group stores nothing (only duplicates and losers): nothing is written then.
  final List<Mutation> mutations = new ArrayList<>();
  int localWrites;
  long headSeq;
  StateDigest digest;
  // Tombstone rows and expiring values after this group, and the lowest HLC ever stored (see GcState).
  long tombstones;
  long expiring;
  long oldestHlc;
  // State rows this group adds (keys this node did not hold).
  long newRows;
  // Remote versions not applied because they are older than the purge horizon for a key this node
  // does not hold: a purged tombstone superseded them.
  int staleDropped;

  private final VersionLookup versions;
  private final long purgeHorizon;
  private java.util.function.LongSupplier readTime;

  private LwwGroup(long headSeq, StateDigest digest, VersionLookup versions, GcState gc) {
    this.headSeq = headSeq;
    this.digest = digest;
    this.versions = versions;
    this.tombstones = gc.tombstones();
    this.expiring = gc.expiring();
    this.oldestHlc = gc.oldestHlc();
    this.purgeHorizon = gc.purgeHorizon();
  }

  /**
   * Resolves {@code group} on top of the committed {@code headSeq} and {@code digest}. When it
   * stores anything, the mutations end with the meta rows head seq, HLC mark and digest.
   *
   * @throws IllegalStateException when a local write's new version is not after the stored one
   *     (a broken clock invariant)
   */
  static LwwGroup resolve(
      List<WriteCommand> group,
      long headSeq,
      StateDigest digest,
      HybridLogicalClock clock,
      java.util.function.LongSupplier readTime,
      String nodeId,
      VersionLookup versions,
      GcState gc) {
    LwwGroup g = new LwwGroup(headSeq, digest, versions, gc);
    g.readTime = readTime;
    for (WriteCommand command : group) {
      List<StoredEntry> stored = new ArrayList<>();
      g.stored.add(stored);
      g.replaced.add(new ArrayList<>());
      if (command instanceof LocalWrite w) {
        g.resolveLocal(w, stored, clock, nodeId);
      } else if (command instanceof RemoteBatch b) {
        g.resolveRemote(b, stored, clock);
      } else {
        throw new IllegalStateException("unexpected command " + command);
      }
    }
    if (!g.mutations.isEmpty()) {
      g.mutations.add(Mutation.put(metaKey(META_HEAD_SEQ), StoreLayout.encodeLong(g.headSeq)));
      g.mutations.add(Mutation.put(metaKey(META_HLC), StoreLayout.encodeLong(clock.current())));
      g.mutations.add(Mutation.put(metaKey(META_DIGEST), StoreLayout.encodeDigest(g.digest)));
      if (g.tombstones != gc.tombstones()) {
        g.mutations.add(Mutation.put(metaKey(StoreLayout.META_TOMBSTONES), StoreLayout.encodeLong(g.tombstones)));
      }
      if (g.expiring != gc.expiring()) {
        g.mutations.add(Mutation.put(metaKey(StoreLayout.META_EXPIRING), StoreLayout.encodeLong(g.expiring)));
      }
      if (g.oldestHlc != gc.oldestHlc()) {
        g.mutations.add(Mutation.put(metaKey(StoreLayout.META_OLDEST_HLC), StoreLayout.encodeLong(g.oldestHlc)));
      }
    }
    // A group of duplicates and losers only writes nothing: they are already covered by stored
    // versions, whose timestamps the persisted HLC mark already exceeds.
    return g;
  }

  private void resolveLocal(LocalWrite w, List<StoredEntry> stored, HybridLogicalClock clock, String nodeId) {
    KeyBytes key = new KeyBytes(w.key());
    StoredVersion old = lookup(key);
    // Judged at the new version's timestamp, or the read time if later (which the read lease covers:
    // an expiry a refusal was based on stays passed after a restart): a value a read saw expired
    // counts as absent, as it would for a read now.
    Version version = new Version(clock.now(), nodeId);
    boolean absent =
        old != null
            && (old.tombstone()
                || (old.expiresHlc() != 0 && old.absentAt(Math.max(version.hlc(), readTime.getAsLong()))));
    if (w.precondition() != null && !w.precondition().holds(old == null ? null : old.version(), absent)) {
      // Checked against the committed version and the group's own earlier writes: nothing
      // between this check and the commit can write the key on this node. The refusal is the
      // command's result, delivered after the commit like every outcome of the group (a failed
      // commit fails it with the storage error instead).
      results.add(
              new PreconditionFailedException(
                  "conditional write of key " + printable(w.key()) + " not made: it required " + w.precondition()
                      + ", the current version here is "
                      + (old == null
                          ? "none (never written)"
                          : old.version() + (old.tombstone() ? " (deleted)" : absent ? " (expired)" : "")),
                  old == null ? null : old.version(),
                  absent));
      return;
    }
    if (old != null && !version.isAfter(old.version())) {
      // now() exceeds every timestamp stored or seen (the clock restarts above the persisted
      // mark and is updated with every remote entry), so this is a broken invariant.
      throw new IllegalStateException(
          "local write got version " + version + " which is not after the stored " + old.version() + " of key "
              + printable(w.key()));
    }
    boolean tombstone = w.value() == null;
    long expiresHlc = StoredEntry.expiryOf(version.hlc(), w.ttlMillis());
    StoredEntry entry = new StoredEntry(w.key(), tombstone ? EMPTY : w.value(), tombstone, version, ++headSeq, expiresHlc);
    store(entry, key, old);
    stored.add(entry);
    replaced.get(replaced.size() - 1).add(old == null ? null : old.version());
    results.add(new WriteResult(version, headSeq));
    localWrites++;
  }

  private void resolveRemote(RemoteBatch b, List<StoredEntry> stored, HybridLogicalClock clock) {
    try {
      for (StoredEntry e : b.entries()) {
        clock.check(e.version().hlc());
      }
      for (StoredEntry e : b.entries()) {
        clock.update(e.version().hlc());
      }
    } catch (ClockSkewException skew) {
      // Nothing of the batch was resolved or written; the clock moved at most to timestamps
      // that passed the check. The other commands of the group go on.
      b.future().completeExceptionally(skew);
      results.add(null);
      return;
    }
    int applied = 0;
    int duplicates = 0;
    int conflicts = 0;
    for (StoredEntry e : b.entries()) {
      KeyBytes key = new KeyBytes(e.key());
      StoredVersion old = lookup(key);
      if (old == null
          && e.version().hlc() < purgeHorizon
          && (e.tombstone() || !b.repair() || (e.expires() && e.expiresHlc() < purgeHorizon))) {
        // This node holds every version older than the horizon, or a newer one of its key (it is
        // stable past it): holding nothing means a newer tombstone was here and was purged. A
        // repair does not bring back a value that expired before the horizon: it was collected.
        staleDropped++;
        duplicates++;
        continue;
      }
      switch (LwwResolver.resolve(old == null ? null : old.version(), e.version())) {
        case APPLY -> {
          StoredEntry entry = e.withSeq(++headSeq);
          store(entry, key, old);
          stored.add(entry);
          replaced.get(replaced.size() - 1).add(old == null ? null : old.version());
          applied++;
        }
        case DUPLICATE -> duplicates++;
        case LOSE -> {
          losers.add(new Conflict(e.key(), old.version(), e.version(), b.peerId()));
          conflicts++;
        }
      }
    }
    results.add(new Counts(applied, duplicates, conflicts));
  }

  /** Adds the mutations storing {@code entry} over {@code old} and updates the digest. */
  private void store(StoredEntry entry, KeyBytes key, StoredVersion old) {
    mutations.add(Mutation.put(stateKey(entry.key()), StoreLayout.encodeState(entry)));
    if (old != null && old.tombstone()) {
      mutations.add(Mutation.delete(StoreLayout.tombstoneKey(old.version().hlc(), entry.key())));
      tombstones--;
    }
    if (entry.tombstone()) {
      mutations.add(Mutation.put(StoreLayout.tombstoneKey(entry.version().hlc(), entry.key()), EMPTY));
      tombstones++;
    }
    if (old != null && old.expiresHlc() != 0) {
      mutations.add(Mutation.delete(StoreLayout.expiryKey(old.expiresHlc(), entry.key())));
      expiring--;
    }
    if (entry.expires()) {
      mutations.add(Mutation.put(StoreLayout.expiryKey(entry.expiresHlc(), entry.key()), EMPTY));
      expiring++;
    }
    oldestHlc = Math.min(oldestHlc, entry.version().hlc());
    if (old == null) {
      newRows++;
    }
    if (old != null) {
      // Deleting a row put earlier in this same batch is fine: mutations apply in order.
      mutations.add(Mutation.delete(seqKey(old.seq())));
      replacedSeqs.add(old.seq());
      digest = digest.minus(old.contribution());
    } else {
      versions.addingKey(entry.key());
    }
    mutations.add(Mutation.put(seqKey(entry.seq()), entry.key()));
    StateDigest contribution = StateDigest.contribution(entry);
    overlay.put(
        key, new StoredVersion(entry.version(), entry.seq(), contribution, entry.tombstone(), entry.expiresHlc()));
    digest = digest.plus(contribution);
  }

  /** The committed (or, within the group, pending) version of a key; null when never written. */
  private StoredVersion lookup(KeyBytes key) {
    StoredVersion v = overlay.get(key);
    return v != null ? v : versions.committed(key);
  }
}
