package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;

/**
 * The audit hook for LWW conflicts: told about every incoming version that lost against the
 * stored one. Called on the writer thread after the commit; must return quickly.
 */
@FunctionalInterface
public interface ConflictListener {
  /**
   * Called once per incoming version that lost.
   *
   * @param key the key
   * @param winner the version that stays stored
   * @param loser the version that was dropped
   * @param fromPeer the peer the losing version came from
   */
  void onConflict(byte[] key, Version winner, Version loser, String fromPeer);
}
