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
 */
public record StoredEntry(byte[] key, byte[] value, boolean tombstone, Version version, long seq) {

  /** Approximate size on the wire and in memory, for batch byte limits. */
  public int approximateBytes() {
    return key.length + value.length + version.origin().length() + 24;
  }
}
