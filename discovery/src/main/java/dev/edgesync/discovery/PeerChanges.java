package dev.edgesync.discovery;

import java.util.List;

/**
 * How one {@link PeerSet} differs from a newer one: which streams the engine must open, close, or
 * reopen at a new address.
 *
 * @param added peers in the newer set whose id the older set does not have
 * @param removed peers of the older set whose id the newer set does not have
 * @param changed peers whose id is in both sets but whose address differs, as they are in the
 *     newer set
 */
public record PeerChanges(List<PeerSpec> added, List<PeerSpec> removed, List<PeerSpec> changed) {

  /** Copies the lists, so a {@code PeerChanges} is immutable. */
  public PeerChanges {
    added = List.copyOf(added);
    removed = List.copyOf(removed);
    changed = List.copyOf(changed);
  }

  /** Returns true if the two sets hold the same peers at the same addresses. */
  public boolean isEmpty() {
    return added.isEmpty() && removed.isEmpty() && changed.isEmpty();
  }

  /** Returns a one-line summary for logs, e.g. {@code added [site-c=h:7400], removed [site-d]}. */
  @Override
  public String toString() {
    if (isEmpty()) {
      return "no changes";
    }
    StringBuilder out = new StringBuilder();
    append(out, "added", added);
    append(out, "removed", removed);
    append(out, "changed", changed);
    return out.toString();
  }

  private static void append(StringBuilder out, String label, List<PeerSpec> peers) {
    if (peers.isEmpty()) {
      return;
    }
    if (out.length() > 0) {
      out.append(", ");
    }
    out.append(label).append(' ').append(peers);
  }
}
