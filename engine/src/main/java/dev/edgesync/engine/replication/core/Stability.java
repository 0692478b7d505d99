package dev.edgesync.engine.replication.core;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.proto.NodeClock;
import dev.edgesync.proto.StabilityReport;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * This node's stable time and tombstone horizon, from what its peers report: GentleRain's global
 * stable time, generalised to any connected topology with relays by keeping one clock per origin.
 * The argument is in {@code docs/ARCHITECTURE.md}, "Deletes that go away"; in short:
 *
 * <ul>
 *   <li><b>Clocks</b> {@code V[x]}: this node holds every version made by node {@code x} with an
 *       HLC below {@code V[x]}. For itself, {@code V[self]} is its {@linkplain
 *       dev.edgesync.engine.storage.VersionedStore#quiescentClock quiescent clock}. For another
 *       node, the highest {@code V_p[x]} a source {@code p} reported in a report this node has
 *       committed through: a publisher reports only at the head of its log, taken before reading
 *       it, so a subscriber that committed through that seq holds everything the publisher held.
 *   <li>The <b>stable time</b> {@code S = min over x of V[x]}, once every configured source has
 *       reported since start: this node holds every version older than {@code S}, of any origin
 *       that can reach it, or a newer version of its key.
 *   <li><b>Members</b> {@code W[y]}: node {@code y}'s stable time, as last heard from any report
 *       (in either direction); for itself, its own {@code S}. The <b>horizon</b> {@code G = min over
 *       y of W[y]}: every node known holds every version older than {@code G} or a newer one of its
 *       key, so no older version of a tombstone's key can reach any node again, and a tombstone
 *       older than {@code G} may go.
 * </ul>
 *
 * <p>{@code S} and {@code G} only grow. Members are remembered (persisted by the store): a node
 * that is down holds {@code G} at its last stable time until it is {@linkplain #forget forgotten}
 * (decommissioned); the forgotten ids travel with every report, so one {@code forget} reaches
 * every node, and a forgotten node may not subscribe again under its id.
 *
 * <p>Thread safety: all methods are synchronized, except the lock-free {@link #announced}.
 */
public final class Stability {
  /** Reports with more nodes than this are ignored (a bound on what a peer can make this node hold). */
  public static final int MAX_NODES = 4096;

  /** What a round computed: to persist, then to announce. */
  public record Round(
      long stableHlc, long horizonHlc, Map<String, Long> members, Set<String> forgotten, StabilityReport report) {}

  private final String nodeId;
  // Per configured source: the clocks of its last report this node committed through (null: none
  // since start).
  private final Map<String, Map<String, Long>> sourceClocks = new HashMap<>();
  private final Map<String, Long> members = new TreeMap<>();
  private final Set<String> forgotten = new TreeSet<>();
  private long stable;
  private long horizon;
  private long round;
  private volatile StabilityReport announced = StabilityReport.getDefaultInstance();

  /**
   * @param persistedStable the stable time the store persisted (this node still holds what it
   *     held then)
   * @param persistedMembers the members the store persisted
   * @param persistedForgotten the forgotten ids the store persisted
   */
  public Stability(
      String nodeId, long persistedStable, Map<String, Long> persistedMembers, Set<String> persistedForgotten) {
    this.nodeId = nodeId;
    this.stable = persistedStable;
    this.forgotten.addAll(persistedForgotten);
    persistedMembers.forEach((id, s) -> {
      if (!id.equals(nodeId) && !forgotten.contains(id)) {
        members.put(id, s);
      }
    });
  }

  /** The configured peers this node pulls from changed. A new source has reported nothing yet. */
  public synchronized void sources(Collection<String> ids) {
    sourceClocks.keySet().retainAll(Set.copyOf(ids));
    for (String id : ids) {
      sourceClocks.putIfAbsent(id, null);
      if (!forgotten.contains(id)) {
        members.putIfAbsent(id, 0L); // a configured peer is a member from the start
      }
    }
  }

  /**
   * Source {@code peer}'s report, which this node has committed through: its clocks now hold
   * here. (Its stable times and forgotten ids were taken when it arrived, by {@link #heard}.)
   */
  public synchronized void fromSource(String peer, StabilityReport report) {
    if (!sourceClocks.containsKey(peer) || report.getNodesCount() > MAX_NODES) {
      return;
    }
    // The report replaces the last one: an origin it no longer names no longer counts through
    // this source. A clock of 0 is a member the source does not pull from: not an origin through it.
    Map<String, Long> last = sourceClocks.get(peer);
    Map<String, Long> next = new HashMap<>();
    for (NodeClock c : report.getNodesList()) {
      String id = c.getNodeId();
      if (!id.equals(nodeId) && (!forgotten.contains(id) || sourceClocks.containsKey(id)) && PeerSpec.isValidId(id)
          && c.getClockHlc() != 0) {
        long before = last == null ? 0 : last.getOrDefault(id, 0L);
        next.put(id, Math.max(before, c.getClockHlc()));
      }
    }
    sourceClocks.put(peer, next);
  }

  /** Any peer's report arrived: takes its stable times and forgotten ids. */
  public synchronized void heard(StabilityReport report) {
    if (report.getNodesCount() > MAX_NODES || report.getForgottenCount() > MAX_NODES) {
      return;
    }
    for (String id : report.getForgottenList()) {
      if (!id.equals(nodeId) && PeerSpec.isValidId(id) && forgotten.size() < MAX_NODES) {
        drop(id);
      }
    }
    for (NodeClock c : report.getNodesList()) {
      String id = c.getNodeId();
      if (!id.equals(nodeId) && !forgotten.contains(id) && PeerSpec.isValidId(id)
          && (members.containsKey(id) || members.size() < MAX_NODES)) {
        members.merge(id, c.getStableHlc(), Math::max);
      }
    }
  }

  /**
   * Decommissions {@code id}: it no longer holds the horizon back, on this node and, once the
   * next reports carry it, on every node. Returns whether it was a member.
   */
  public synchronized boolean forget(String id) {
    boolean known = members.containsKey(id);
    drop(id);
    return known;
  }

  private void drop(String id) {
    forgotten.add(id);
    members.remove(id);
    for (Map.Entry<String, Map<String, Long>> source : sourceClocks.entrySet()) {
      if (source.getValue() != null && !sourceClocks.containsKey(id)) {
        source.getValue().remove(id);
      }
    }
  }

  /**
   * Whether {@code id} has reported a stable time here (directly or relayed): a node counted in the
   * horizon. One that is not may hold data older than what was collected without it.
   */
  public synchronized boolean isCountedMember(String id) {
    return recordedStable(id) > 0;
  }

  /** The highest stable time heard from {@code id}, directly or relayed; 0 when none. */
  public synchronized long recordedStable(String id) {
    Long s = members.get(id);
    return s == null ? 0 : s;
  }

  /** Whether {@code id} was decommissioned. */
  public synchronized boolean isForgotten(String id) {
    return forgotten.contains(id);
  }

  /** The next values to persist, given this node's quiescent clock now. */
  public synchronized Round next(long ownClock) {
    Map<String, Long> clocks = new TreeMap<>();
    clocks.put(nodeId, ownClock);
    // A node that pulls from no one cannot know what the others hold or will send: it never
    // becomes stable (and it holds the horizon of every node that counts it as a member).
    boolean complete = !sourceClocks.isEmpty();
    for (Map.Entry<String, Map<String, Long>> source : sourceClocks.entrySet()) {
      // A configured source counts even if another node forgot it: it leaves this node's count
      // only when it leaves this node's peer list.
      if (source.getValue() == null) {
        complete = false;
        // Told on as the lowest clock there is (1: 0 means "not an origin through me"), so that
        // nodes downstream wait for it too.
        clocks.merge(source.getKey(), 1L, Math::max);
      } else {
        source.getValue().forEach((id, t) -> clocks.merge(id, t, Math::max));
      }
    }
    if (complete) {
      long s = Long.MAX_VALUE;
      for (long t : clocks.values()) {
        s = Math.min(s, t);
      }
      stable = Math.max(stable, s <= 1 ? 0 : s);
    }
    long g = stable;
    for (long s : members.values()) {
      g = Math.min(g, s);
    }
    horizon = Math.max(horizon, g);
    StabilityReport.Builder report = StabilityReport.newBuilder().setRound(++round).addAllForgotten(forgotten);
    Map<String, long[]> rows = new TreeMap<>();
    clocks.forEach((id, t) -> rows.put(id, new long[] {t, 0}));
    members.forEach((id, s) -> rows.computeIfAbsent(id, x -> new long[2])[1] = s);
    rows.computeIfAbsent(nodeId, x -> new long[2])[1] = stable;
    rows.forEach(
        (id, r) -> report.addNodes(NodeClock.newBuilder().setNodeId(id).setClockHlc(r[0]).setStableHlc(r[1])));
    return new Round(stable, horizon, Map.copyOf(members), Set.copyOf(forgotten), report.build());
  }

  /** The store persisted {@code round}: from now on peers are told its report. */
  public void persisted(Round round) {
    announced = round.report();
  }

  /** The report peers may be told (its stable time is persisted); empty before the first round. */
  public StabilityReport announced() {
    return announced;
  }

  /** Configured sources that have reported nothing since this node started: they hold the stable time. */
  public synchronized java.util.List<String> silentSources() {
    return sourceClocks.entrySet().stream()
        .filter(e -> e.getValue() == null)
        .map(Map.Entry::getKey)
        .sorted()
        .toList();
  }

  /** The members with their last stable time. */
  public synchronized Map<String, Long> members() {
    return Map.copyOf(members);
  }

  /** The stable time and horizon as of the last round (persisted or not). */
  public synchronized long[] current() {
    return new long[] {stable, horizon};
  }
}
