package dev.edgesync.conflict;

import java.util.Objects;

/**
 * Last-writer-wins resolution on {@link Version} order.
 *
 * <p>The decision depends only on the two versions, never on arrival order or on which node
 * decides, so replicas that hold the same set of writes hold the same winner for every key; and
 * applying the same write twice yields {@link Resolution#DUPLICATE}, which changes nothing.
 */
public final class LwwResolver {
  private LwwResolver() {}

  /**
   * Decides what to do with {@code incoming}.
   *
   * @param stored the version currently stored for the key, or {@code null} if none
   * @param incoming the version that arrived
   */
  public static Resolution resolve(Version stored, Version incoming) {
    Objects.requireNonNull(incoming, "incoming");
    if (stored == null) {
      return Resolution.APPLY;
    }
    int order = incoming.compareTo(stored);
    if (order > 0) {
      return Resolution.APPLY;
    }
    return order == 0 ? Resolution.DUPLICATE : Resolution.LOSE;
  }
}
