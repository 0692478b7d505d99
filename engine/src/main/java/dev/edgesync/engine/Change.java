package dev.edgesync.engine;

import dev.edgesync.conflict.Version;
import java.nio.charset.StandardCharsets;

/**
 * A committed change of one key, as told to {@link ChangeListener}s.
 *
 * @param key the key
 * @param value the new value, or null for a delete
 * @param version the version that is now stored
 * @param seq the local seq of the change
 * @param fromPeer null for a local write, else the id of the peer it was received from
 * @param replaced the version this change replaced on this node, or null when the key had none
 *     here. A remote change that replaced a version this node wrote ({@link
 *     #supersedesWriteOf(String)}) tells the app that its local write was overtaken by another
 *     site's by last-writer-wins: a later write, or a concurrent one that won.
 */
public record Change(byte[] key, byte[] value, Version version, long seq, String fromPeer, Version replaced) {

  /** A change without the replaced version. */
  public Change(byte[] key, byte[] value, Version version, long seq, String fromPeer) {
    this(key, value, version, seq, fromPeer, null);
  }

  /**
   * True when this change came from a peer and replaced a version written by node {@code nodeId}
   * (pass this node's id: "a write made here was overtaken by another site's").
   */
  public boolean supersedesWriteOf(String nodeId) {
    return fromPeer != null && replaced != null && replaced.origin().equals(nodeId);
  }

  /** True for a delete. */
  public boolean isDelete() {
    return value == null;
  }

  /** True when the change arrived by replication. */
  public boolean isRemote() {
    return fromPeer != null;
  }

  /** The key as UTF-8. */
  public String keyUtf8() {
    return new String(key, StandardCharsets.UTF_8);
  }

  /** The value as UTF-8, or null for a delete. */
  public String valueUtf8() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }
}
