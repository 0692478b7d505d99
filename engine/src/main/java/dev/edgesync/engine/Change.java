package dev.edgesync.engine;

import dev.edgesync.conflict.Version;
import java.nio.charset.StandardCharsets;

/**
 * A committed change of one key, or the expiry of its value, as told to {@link ChangeListener}s.
 *
 * @param key the key
 * @param value the new value, or null for a delete or an expiry
 * @param version the version that is now stored (for an expiry: the version that expired)
 * @param seq the local seq of the change (for an expiry: the seq of the expired version)
 * @param fromPeer null for a local write or an expiry, else the id of the peer it was received from
 * @param replaced the version this change replaced on this node, or null when the key had none
 *     here. A remote change that replaced a version this node wrote ({@link
 *     #supersedesWriteOf(String)}) tells the app that its local write was overtaken by another
 *     site's by last-writer-wins: a later write, or a concurrent one that won.
 * @param expiresHlc 0, or the HLC at which this put's value expires (see {@link
 *     dev.edgesync.conflict.Hlc#physicalMillis(long)} for the wall time)
 * @param expired true when this is not a write but the expiry of the value of version {@code
 *     version}: the key reads as absent from now on. Told once per expiring version while the node
 *     runs, about a second after the node's clock passed the expiry at most, or right after a
 *     version arrives that had expired already; an expiry that passed while the node was down is
 *     not told.
 */
public record Change(
    byte[] key, byte[] value, Version version, long seq, String fromPeer, Version replaced, long expiresHlc, boolean expired) {

  /** A change without the replaced version. */
  public Change(byte[] key, byte[] value, Version version, long seq, String fromPeer) {
    this(key, value, version, seq, fromPeer, null);
  }

  /** A write that does not expire. */
  public Change(byte[] key, byte[] value, Version version, long seq, String fromPeer, Version replaced) {
    this(key, value, version, seq, fromPeer, replaced, 0, false);
  }

  /**
   * True when this change came from a peer and replaced a version written by node {@code nodeId}
   * (pass this node's id: "a write made here was overtaken by another site's").
   */
  public boolean supersedesWriteOf(String nodeId) {
    return fromPeer != null && replaced != null && replaced.origin().equals(nodeId);
  }

  /** True for a delete (not for an expiry: see {@link #isExpiry()}). */
  public boolean isDelete() {
    return value == null && !expired;
  }

  /** True when the key's value expired: it reads as absent from now on. */
  public boolean isExpiry() {
    return expired;
  }

  /** True when the change arrived by replication. */
  public boolean isRemote() {
    return fromPeer != null;
  }

  /** The key as UTF-8. */
  public String keyUtf8() {
    return new String(key, StandardCharsets.UTF_8);
  }

  /** The value as UTF-8, or null for a delete or an expiry. */
  public String valueUtf8() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }
}
