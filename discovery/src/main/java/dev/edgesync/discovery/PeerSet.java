package dev.edgesync.discovery;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable set of peers, at most one per id, in the order they were given.
 *
 * <p>Two sets are equal when they hold the same specs, whatever their order. {@link
 * #diff(PeerSet)} tells the engine which replication streams to open, close or reopen when the
 * configuration changes at run time.
 */
public final class PeerSet implements Iterable<PeerSpec> {

  private static final PeerSet EMPTY = new PeerSet(Map.of());

  private final Map<String, PeerSpec> byId;

  private PeerSet(Map<String, PeerSpec> byId) {
    this.byId = byId;
  }

  /** Returns the set without peers. */
  public static PeerSet empty() {
    return EMPTY;
  }

  /**
   * Returns a set of the given peers, as given through the embedding API.
   *
   * @throws ConfigException with source {@code "API"} if two peers have the same id
   */
  public static PeerSet of(PeerSpec... peers) {
    return of(List.of(peers), "API");
  }

  /**
   * Returns a set of the given peers.
   *
   * @param peers the peers, in order
   * @param source where the peers came from, for the error message
   * @throws ConfigException naming {@code peers[i].id} if two peers have the same id
   */
  public static PeerSet of(Collection<PeerSpec> peers, String source) {
    Objects.requireNonNull(source, "source");
    Map<String, PeerSpec> byId = new LinkedHashMap<>();
    Map<String, Integer> firstIndex = new HashMap<>();
    int index = 0;
    for (PeerSpec peer : peers) {
      Objects.requireNonNull(peer, "peer");
      Integer previous = firstIndex.putIfAbsent(peer.id(), index);
      if (previous != null) {
        throw new ConfigException(
            source,
            "peers[" + index + "].id",
            peer.id(),
            "duplicate peer id, already used by peers[" + previous + "]",
            "each peer id at most once");
      }
      byId.put(peer.id(), peer);
      index++;
    }
    return byId.isEmpty() ? EMPTY : new PeerSet(Collections.unmodifiableMap(byId));
  }

  /** Returns the peer with this id, if the set has one. */
  public Optional<PeerSpec> get(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** Returns true if the set has a peer with this id. */
  public boolean contains(String id) {
    return byId.containsKey(id);
  }

  /** Returns the ids of the peers, in order. */
  public Set<String> ids() {
    return byId.keySet();
  }

  /** Returns the peers, in order. */
  public List<PeerSpec> peers() {
    return List.copyOf(byId.values());
  }

  /** Returns the number of peers. */
  public int size() {
    return byId.size();
  }

  /** Returns true if the set has no peers. */
  public boolean isEmpty() {
    return byId.isEmpty();
  }

  @Override
  public Iterator<PeerSpec> iterator() {
    return byId.values().iterator();
  }

  /**
   * Returns what changes from this set to {@code newer}: peers added, peers removed, and peers
   * whose address changed (as they are in {@code newer}). Each list keeps the order of the set
   * its peers come from.
   */
  public PeerChanges diff(PeerSet newer) {
    Objects.requireNonNull(newer, "newer");
    List<PeerSpec> added = new ArrayList<>();
    List<PeerSpec> changed = new ArrayList<>();
    for (PeerSpec peer : newer.byId.values()) {
      PeerSpec old = byId.get(peer.id());
      if (old == null) {
        added.add(peer);
      } else if (!old.equals(peer)) {
        changed.add(peer);
      }
    }
    List<PeerSpec> removed = new ArrayList<>();
    for (PeerSpec peer : byId.values()) {
      if (!newer.byId.containsKey(peer.id())) {
        removed.add(peer);
      }
    }
    return new PeerChanges(added, removed, changed);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PeerSet that && byId.equals(that.byId);
  }

  @Override
  public int hashCode() {
    return byId.hashCode();
  }

  /** Returns the peers in the form the peer list parser reads: {@code [a=h:1, b=h:2]}. */
  @Override
  public String toString() {
    return byId.values().toString();
  }
}
