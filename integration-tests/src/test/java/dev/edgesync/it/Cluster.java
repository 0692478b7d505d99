package dev.edgesync.it;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A set of node processes and the peer links between them, each link optionally through its own
 * {@link FaultProxy}. Build the links first, then {@link #startAll()}.
 *
 * <p>"A links to B" means A subscribes to B: B is in A's {@code --peers}. Sites that sync both
 * ways have both links ({@link #connect}).
 */
final class Cluster implements AutoCloseable {
  /** Generous bound for convergence; a correct run needs a fraction of it. */
  static final Duration CONVERGENCE = Duration.ofSeconds(90);

  private final Path dir;
  private final boolean viaProxies;
  private final Map<String, NodeProcess> nodes = new LinkedHashMap<>();
  private final Map<String, FaultProxy> proxies = new LinkedHashMap<>();

  Cluster(Path dir, boolean viaProxies) {
    this.dir = dir;
    this.viaProxies = viaProxies;
  }

  /** The cluster's working directory (node dirs, logs). */
  Path dir() {
    return dir;
  }

  // ---- building ----

  /** Declares a node (not started); {@code customize} may change its spec. */
  NodeProcess add(String id, Consumer<NodeSpec> customize) {
    if (nodes.containsKey(id)) {
      throw new IllegalArgumentException("node " + id + " declared twice");
    }
    NodeSpec spec = new NodeSpec(id, dir.resolve(id));
    customize.accept(spec);
    NodeProcess node = new NodeProcess(spec);
    nodes.put(id, node);
    return node;
  }

  NodeProcess add(String id) {
    return add(id, s -> {});
  }

  /** {@code from} subscribes to {@code to}, directly or through a proxy named {@code from->to}. */
  Cluster link(String from, String to) {
    NodeProcess target = node(to);
    String address = target.grpcAddress();
    if (viaProxies) {
      FaultProxy proxy = new FaultProxy(from + "-" + to, address, FaultProxy.Mode.PASS);
      proxies.put(from + "->" + to, proxy);
      address = proxy.address();
    }
    node(from).spec.peer(to, address);
    return this;
  }

  /** Links both ways. */
  Cluster connect(String a, String b) {
    return link(a, b).link(b, a);
  }

  Cluster fullMesh() {
    List<String> ids = ids();
    for (int i = 0; i < ids.size(); i++) {
      for (int j = i + 1; j < ids.size(); j++) {
        connect(ids.get(i), ids.get(j));
      }
    }
    return this;
  }

  /** Each node with the next in declaration order: A-B-C, A and C not peers. */
  Cluster chain() {
    List<String> ids = ids();
    for (int i = 0; i + 1 < ids.size(); i++) {
      connect(ids.get(i), ids.get(i + 1));
    }
    return this;
  }

  /** The first declared node is the hub; every other node is a spoke peered with the hub only. */
  Cluster hubAndSpoke() {
    List<String> ids = ids();
    for (int i = 1; i < ids.size(); i++) {
      connect(ids.get(0), ids.get(i));
    }
    return this;
  }

  // ---- running ----

  /** Starts every node that is not running: all processes first, then waits for each to be healthy. */
  Cluster startAll() {
    List<NodeProcess> started = new ArrayList<>();
    for (NodeProcess n : nodes.values()) {
      if (!n.isAlive()) {
        n.startProcess();
        started.add(n);
      }
    }
    started.forEach(NodeProcess::awaitHealthy);
    return this;
  }

  NodeProcess node(String id) {
    return Objects.requireNonNull(nodes.get(id), () -> "no node " + id + " in " + nodes.keySet());
  }

  List<NodeProcess> nodes() {
    return List.copyOf(nodes.values());
  }

  List<String> ids() {
    return List.copyOf(nodes.keySet());
  }

  FaultProxy proxy(String from, String to) {
    return Objects.requireNonNull(proxies.get(from + "->" + to), () -> "no proxy " + from + "->" + to + "; links via proxies: " + proxies.keySet());
  }

  boolean hasProxy(String from, String to) {
    return proxies.containsKey(from + "->" + to);
  }

  /** Both proxies between two nodes to {@code mode}. */
  void setLink(String a, String b, FaultProxy.Mode mode) {
    proxy(a, b).setMode(mode);
    proxy(b, a).setMode(mode);
  }

  // ---- waiting ----

  /**
   * Waits until every running node reports the same digest and lists exactly the same keys with
   * the same values and versions, and returns that state (key to listing item without seq).
   */
  Map<String, JsonNode> awaitConverged() {
    return awaitConverged(CONVERGENCE);
  }

  Map<String, JsonNode> awaitConverged(Duration max) {
    return awaitConverged(max, nodes.values().stream().filter(NodeProcess::isAlive).map(NodeProcess::id).toList());
  }

  /** {@link #awaitConverged()} over some of the nodes only. */
  Map<String, JsonNode> awaitConverged(Duration max, List<String> ids) {
    List<NodeProcess> live = ids.stream().map(this::node).toList();
    AtomicReference<String> why = new AtomicReference<>("not polled yet");
    AtomicReference<Map<String, JsonNode>> state = new AtomicReference<>();
    try {
      await("cluster converged: " + ids)
          .atMost(max)
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                List<Status> statuses = live.stream().map(n -> n.http().status()).toList();
                if (statuses.stream().map(Status::digest).distinct().count() != 1) {
                  why.set("digests differ: " + describe(statuses));
                  return false;
                }
                Map<String, JsonNode> first = live.get(0).http().scanAll();
                for (NodeProcess n : live.subList(1, live.size())) {
                  Map<String, JsonNode> other = n.http().scanAll();
                  if (!first.equals(other)) {
                    why.set("digests equal (" + statuses.get(0).digest() + ") but keys differ between " + live.get(0).id() + " and " + n.id() + ": " + diff(first, other));
                    return false;
                  }
                }
                state.set(first);
                return true;
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("not converged within " + max + ": " + why.get() + "\nlogs:\n" + logs(), e);
    }
    return state.get();
  }

  /** Waits until {@code condition} holds for {@code node}'s status; fails with the last status seen. */
  Status awaitStatus(String node, String what, Duration max, Predicate<Status> condition) {
    AtomicReference<Status> last = new AtomicReference<>();
    try {
      await(node + ": " + what)
          .atMost(max)
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                last.set(node(node).http().status());
                return condition.test(last.get());
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(node + ": not " + what + " within " + max + "; last /status: " + (last.get() == null ? "none" : last.get().json()) + "\nlogs:\n" + logs(), e);
    }
    return last.get();
  }

  /** Waits until {@code subscriber}'s watermark on {@code publisher} equals the publisher's head. */
  void awaitWatermarkAtHead(String subscriber, String publisher) {
    long head = node(publisher).http().status().headSeq();
    awaitStatus(subscriber, "watermark on " + publisher + " at its head " + head, CONVERGENCE, s -> s.peer(publisher).watermark() >= head);
  }

  /**
   * Waits until {@code subscriber}'s watermark file for {@code publisher} holds the publisher's
   * head: the watermark a restart resumes from. (The watermark in {@code /status} is the committed
   * one; its file is written just after, asynchronously.)
   */
  void awaitPersistedWatermarkAtHead(String subscriber, String publisher) {
    long head = node(publisher).http().status().headSeq();
    Path file = node(subscriber).spec.dataDir.resolve(".watermarks").resolve(publisher + ".json");
    AtomicReference<Long> last = new AtomicReference<>();
    try {
      await(subscriber + ": watermark file for " + publisher + " at its head " + head)
          .atMost(CONVERGENCE)
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> {
            last.set(persistedWatermark(subscriber, publisher));
            return last.get() >= head;
          });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(file + " holds seq " + last.get() + ", not " + publisher + "'s head " + head + "\nlogs:\n" + logs(), e);
    }
  }

  /** The seq in {@code subscriber}'s watermark file for {@code publisher}, or -1 if there is none. */
  long persistedWatermark(String subscriber, String publisher) {
    Path file = node(subscriber).spec.dataDir.resolve(".watermarks").resolve(publisher + ".json");
    try {
      if (!java.nio.file.Files.exists(file)) {
        return -1;
      }
      // Written as temp file + rename, so a read sees a whole file.
      return NodeClient.JSON.readTree(file.toFile()).path("seq").asLong(-1);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + file, e);
    }
  }

  String logs() {
    return nodes.values().stream().map(n -> "  " + n).collect(Collectors.joining("\n"));
  }

  private static String describe(List<Status> statuses) {
    return statuses.stream()
        .map(s -> s.nodeId() + "{head " + s.headSeq() + ", digest " + s.digest() + ", peers " + s.peers().stream().map(p -> p.id() + (p.connected() ? "+" : "-") + " wm " + p.watermark() + "/" + p.peerHeadSeq() + (p.lastError() == null ? "" : " err " + p.lastError())).toList() + "}")
        .collect(Collectors.joining(", "));
  }

  static String diff(Map<String, JsonNode> a, Map<String, JsonNode> b) {
    TreeSet<String> onlyA = new TreeSet<>(a.keySet());
    onlyA.removeAll(b.keySet());
    TreeSet<String> onlyB = new TreeSet<>(b.keySet());
    onlyB.removeAll(a.keySet());
    List<String> differ = a.keySet().stream().filter(k -> b.containsKey(k) && !a.get(k).equals(b.get(k))).sorted().limit(5).toList();
    return a.size() + " vs " + b.size() + " keys; only in first " + onlyA.size() + " " + onlyA.stream().limit(5).toList()
        + "; only in second " + onlyB.size() + " " + onlyB.stream().limit(5).toList()
        + "; different " + differ.stream().map(k -> k + ": " + a.get(k) + " vs " + b.get(k)).toList();
  }

  @Override
  public void close() {
    nodes.values().forEach(NodeProcess::close);
    proxies.values().forEach(FaultProxy::close);
  }
}
