package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;
import java.util.Objects;

/**
 * What a conditional local write requires of the key's current version on this node, checked on
 * the writer thread in the same group commit that makes the write, so no other write to the key
 * on this node can come between the check and the write.
 *
 * <p>The check is local: another site may hold a newer version that has not arrived here yet, and
 * when it arrives it wins by last-writer-wins as usual. A conditional write is compare-and-set on
 * one node, not a cluster-wide lock.
 */
public sealed interface Precondition {
  /**
   * True when a key whose current version here is {@code current} ({@code null}: never written)
   * meets this; {@code currentIsTombstone}: the current version is a delete or an expired value.
   */
  boolean holds(Version current, boolean currentIsTombstone);

  /** The key must be absent here: never written, deleted or expired (its tombstone counts as absent). */
  static Precondition absent() {
    return Absent.INSTANCE;
  }

  /** The key must be live (not deleted, not expired) here with exactly {@code version}. */
  static Precondition version(Version version) {
    return new Exact(Objects.requireNonNull(version, "version"));
  }

  /** See {@link #absent()}. */
  enum Absent implements Precondition {
    INSTANCE;

    @Override
    public boolean holds(Version current, boolean currentIsTombstone) {
      return current == null || currentIsTombstone;
    }

    @Override
    public String toString() {
      return "absent";
    }
  }

  /** See {@link #version(Version)}. */
  record Exact(Version version) implements Precondition {
    @Override
    public boolean holds(Version current, boolean currentIsTombstone) {
      return !currentIsTombstone && version.equals(current);
    }

    @Override
    public String toString() {
      return "version " + version;
    }
  }
}
