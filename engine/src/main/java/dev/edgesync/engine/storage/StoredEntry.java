package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;

/**
 * One stored version of one key: what the state table holds and what replication ships.
 *
 * @param key the key bytes
 * @param value the value bytes; empty (never null) for a tombstone
 * @param tombstone true for a delete
 * @param version the write's version
 * @param seq the local seq this node gave the version when it stored it (0 for an entry that has
 *     not been stored here yet, e.g. one received from a peer)
 * @param expiresHlc 0 for a value that does not expire; else the HLC at which the value expires:
 *     every node hides it once its clock reaches this time, without a new write, and collects it
 *     like a tombstone. Part of the version: it travels and is checksummed with it. Always 0 for a
 *     tombstone, else after the version's HLC (the collection argument relies on it).
 */
public record StoredEntry(byte[] key, byte[] value, boolean tombstone, Version version, long seq, long expiresHlc) {

  /** Validates the expiry. */
  public StoredEntry {
    if (expiresHlc < 0 || (expiresHlc != 0 && (tombstone || expiresHlc <= version.hlc()))) {
      throw new IllegalArgumentException(
          "expiresHlc must be 0 or an HLC after the version's, of a value; got " + expiresHlc + " for version "
              + version + (tombstone ? " on a tombstone" : ""));
    }
  }

  /** An entry that does not expire. */
  public StoredEntry(byte[] key, byte[] value, boolean tombstone, Version version, long seq) {
    this(key, value, tombstone, version, seq, 0);
  }

  /** The expiry of a value written at {@code versionHlc} with a time to live of {@code ttlMillis} (0: none). */
  public static long expiryOf(long versionHlc, long ttlMillis) {
    return ttlMillis == 0
        ? 0
        : dev.edgesync.conflict.Hlc.of(
            dev.edgesync.conflict.Hlc.physicalMillis(versionHlc) + ttlMillis, dev.edgesync.conflict.Hlc.logical(versionHlc));
  }

  /** True when the value carries an expiry. */
  public boolean expires() {
    return expiresHlc != 0;
  }

  /** True when the value has expired at HLC time {@code now} (a tombstone never "expires"). */
  public boolean expiredAt(long now) {
    return expiresHlc != 0 && expiresHlc <= now;
  }

  /** The same entry with another local seq. */
  public StoredEntry withSeq(long newSeq) {
    return new StoredEntry(key, value, tombstone, version, newSeq, expiresHlc);
  }

  /** Approximate size on the wire and in memory, for batch byte limits. */
  public int approximateBytes() {
    return key.length + value.length + version.origin().length() + (expiresHlc != 0 ? 32 : 24);
  }
}
