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
 */
public record Change(byte[] key, byte[] value, Version version, long seq, String fromPeer) {

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
