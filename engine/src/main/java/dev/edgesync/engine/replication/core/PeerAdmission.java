package dev.edgesync.engine.replication.core;

import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.security.SecuritySettings;
import dev.edgesync.proto.Refusal;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a subscriber that sent a valid {@code Hello} may subscribe: its node id must be one its
 * certificate names (when the transport authenticated it by certificate), and must be on the
 * allowlist (when there is one). Pure: no I/O, no state.
 */
public final class PeerAdmission {
  /** Admits every subscriber the transport let through. */
  static final PeerAdmission OPEN = new PeerAdmission(Set.of());

  private final Set<String> allowedPeers;

  /** @param allowedPeers the ids that may subscribe; empty admits any authenticated subscriber */
  PeerAdmission(Set<String> allowedPeers) {
    this.allowedPeers = Set.copyOf(allowedPeers);
  }

  public static PeerAdmission of(SecuritySettings security) {
    return security.allowedPeers().isEmpty() ? OPEN : new PeerAdmission(security.allowedPeers());
  }

  /**
   * Returns why {@code subscriberId} may not subscribe to {@code nodeId}, or null when it may.
   *
   * @param certificateNames the names of the subscriber's client certificate, or empty when the
   *     transport does not authenticate by certificate (then only the allowlist is checked)
   */
  Failure check(String nodeId, String subscriberId, Optional<Set<String>> certificateNames) {
    if (certificateNames.isPresent() && !certificateNames.get().contains(subscriberId)) {
      Set<String> names = certificateNames.get();
      return new Failure(
          "identity_mismatch",
          Refusal.Code.NOT_ALLOWED,
          StreamStatus.Code.PERMISSION_DENIED,
          "a subscriber calling itself node '" + subscriberId + "' presented a client certificate "
              + (names.isEmpty() ? "that names no node (no SAN DNS name, no CN)" : "for " + names)
              + ": node '" + nodeId + "' refuses it; a node's certificate must name its node id"
              + " (SAN DNS name, or CN when there is no SAN)");
    }
    if (!allowedPeers.isEmpty() && !allowedPeers.contains(subscriberId)) {
      return new Failure(
          "not_allowed",
          Refusal.Code.NOT_ALLOWED,
          StreamStatus.Code.PERMISSION_DENIED,
          "node '" + subscriberId + "' is not in security.allowedPeers of node '" + nodeId
              + "': add it there to let it subscribe");
    }
    return null;
  }
}
