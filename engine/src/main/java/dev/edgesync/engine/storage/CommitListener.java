package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;
import java.util.List;

/**
 * Told about every commit of the single writer, after the batch is durable (as durable as the
 * configured durability makes it).
 *
 * <p>Called on the writer thread, in commit order: implementations must return quickly and hand
 * real work to another thread, since the next group commit waits for them.
 */
@FunctionalInterface
public interface CommitListener {
  /**
   * Called with what one group commit stored from one origin, once per run of such entries.
   *
   * @param stored the entries stored by the commit (winners only), in seq order
   * @param origin {@code null} for local writes, else the id of the peer the batch came from
   * @param headSeq the head seq after the commit
   */
  void onCommit(List<StoredEntry> stored, String origin, long headSeq);

  /**
   * The same, with the version each stored entry replaced on this node (null where the key had
   * none); the default drops it.
   *
   * @param replaced aligned with {@code stored}
   */
  default void onCommit(List<StoredEntry> stored, List<Version> replaced, String origin, long headSeq) {
    onCommit(stored, origin, headSeq);
  }

  /**
   * Called when values this node holds expire: once per stored version, in expiry order, when the
   * node's clock passes the expiry while it runs (checked about every second), or right after the
   * commit that stored a version which had expired by then. The default ignores it.
   *
   * @param expired the expired versions, as stored
   */
  default void onExpired(List<StoredEntry> expired) {}
}
