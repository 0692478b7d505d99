package dev.edgesync.conflict;

import java.util.Objects;

/**
 * The version of one write: a hybrid logical clock timestamp and the id of the node that made
 * it.
 *
 * <p>Versions are totally ordered: by {@code hlc}, then by {@code origin} (as Java strings;
 * node ids are restricted to ASCII, so this equals byte order). Every node orders every pair of
 * versions the same way, which is what makes last-writer-wins converge.
 */
public record Version(long hlc, String origin) implements Comparable<Version> {

  /** Validates the fields. */
  public Version {
    Objects.requireNonNull(origin, "origin");
    if (hlc < 0) {
      throw new IllegalArgumentException("hlc must be >= 0, got " + hlc);
    }
    if (origin.isEmpty()) {
      throw new IllegalArgumentException("origin must not be empty");
    }
  }

  @Override
  public int compareTo(Version other) {
    int byClock = Long.compare(hlc, other.hlc);
    return byClock != 0 ? byClock : origin.compareTo(other.origin);
  }

  /** True when this version is ordered after {@code other}. */
  public boolean isAfter(Version other) {
    return compareTo(other) > 0;
  }

  @Override
  public String toString() {
    return Hlc.format(hlc) + "@" + origin;
  }
}
