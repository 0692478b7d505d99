package dev.edgesync.engine.replication;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.LocalLogGuard;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.engine.storage.GcState;
import dev.edgesync.engine.replication.core.Stability;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.watermark.WatermarkStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replication of one node: one publisher endpoint that streams this node's change log to every
 * subscriber, and one subscription per configured peer that pulls the peer's log into the store
 * and keeps a watermark of it on disk. See DESIGN.md, "Replication" and "Watermarks".
 *
 * <p><b>Lifecycle.</b> {@link #start()} binds the server first (so peers that connect right away
 * find it), then opens one subscription per peer added so far. Peers may be added, removed or
 * replaced at any time, before or after start. {@link #close()} ends everything: see there.
 *
 * <p><b>Threading.</b> All public methods may be called from any thread. Timers run on the
 * injected scheduler and never block it; store reads for subscribers and watermark writes run on
 * an internal cached pool whose size is bounded by one task per stream and per peer; batches are
 * handed to the store on the transport's callback threads, which block while the store's write
 * queue is full (backpressure).
 *
 * <p><b>Ownership.</b> The engine owns the transport and the I/O executor and closes them; it does
 * not close the store, the watermark store or the scheduler, which belong to its creator and must
 * outlive it.
 *
 * <p><b>Stopping without {@link #close()}.</b> Everything the engine does runs on what it was given:
 * the transport's callbacks, the scheduler and the I/O executor. A creator that closes the transport
 * and shuts both executors down ({@code shutdownNow}) stops it dead, as a killed process would: no
 * batch is waited for, no watermark is flushed, no subscriber is told; what was persisted stays as
 * it is, and commits still reported by the store only reach a closed stream (acks, requests and
 * cancels on it do nothing). The engine must then be dropped, not used. This is how the simulation
 * crashes a node.
 */
public final class ReplicationEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReplicationEngine.class);

  /** How long {@link #close()} and {@link #removePeer} wait for batches handed to the store. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private enum State {
    NEW,
    RUNNING,
    CLOSED
  }

  private final Shared shared;
  private final Transport transport;
  private final long randomSeed;
  private final AckWaiters acks;
  private final SubscriberRegistry subscribers;
  private final LocalLogGuard localLog;
  private final Transport.StreamOptions streamOptions;
  private final Stability stability;
  private final TombstoneGc tombstoneGc;

  private final Object lock = new Object();
  // Guarded by lock.
  private State state = State.NEW;
  private final Map<String, PeerSpec> peers = new LinkedHashMap<>();
  private final Map<String, PeerLink> links = new LinkedHashMap<>();
  private Transport.Server server;

  /**
   * Makes an engine; nothing runs until {@link #start()}.
   *
   * @param store this node's store
   * @param watermarks where per-peer watermarks are persisted
   * @param settings validated settings
   * @param transport the network; owned by the engine from now on
   * @param metrics where meters go
   * @param clock wall clock for watermarks, heartbeats and lag
   * @param scheduler runs timers; must not be shut down before {@link #close()}
   * @param randomSeed seeds the reconnect jitter (a fixed seed replays it: tests, simulation)
   * @param io runs the blocking work (store reads for subscribers, watermark writes); owned by the
   *     engine from now on, shut down by {@link #close()}. {@link #ioPool} makes the usual one.
   */
  public ReplicationEngine(
      VersionedStore store,
      WatermarkStore watermarks,
      ReplicationSettings settings,
      Transport transport,
      EngineMetrics metrics,
      InstantSource clock,
      ScheduledExecutorService scheduler,
      long randomSeed,
      ExecutorService io) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(watermarks, "watermarks");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(scheduler, "scheduler");
    Objects.requireNonNull(io, "io");
    this.transport = Objects.requireNonNull(transport, "transport");
    if (!store.nodeId().equals(settings.nodeId())) {
      throw new IllegalArgumentException(
          "the store belongs to node '" + store.nodeId() + "' but replication is configured for node '"
              + settings.nodeId() + "'");
    }
    GcState gc = store.gcState();
    this.stability = new Stability(settings.nodeId(), gc.stableHlc(), gc.members(), gc.forgotten());
    this.shared =
        new Shared(settings, store, watermarks, metrics, clock, scheduler, io, this::appliedFrom, stability);
    this.tombstoneGc = new TombstoneGc(shared);
    this.randomSeed = randomSeed;
    this.streamOptions = new Transport.StreamOptions(settings.maxInboundMessageBytes(), settings.compression());
    this.acks = new AckWaiters(scheduler);
    this.subscribers = new SubscriberRegistry(shared, acks);
    this.localLog = new LocalLogGuard(store, watermarks, clock);
  }

  /** What this node has committed of {@code peerId}'s log; NONE when it does not pull from it. */
  private AppliedPosition appliedFrom(String peerId) {
    PeerLink link;
    synchronized (lock) {
      link = links.get(peerId);
    }
    return link == null ? AppliedPosition.NONE : link.appliedPosition();
  }

  /**
   * The I/O executor an engine of node {@code nodeId} usually gets: a cached pool of daemon
   * threads, bounded in practice by one task per stream and per peer.
   */
  public static ExecutorService ioPool(String nodeId) {
    AtomicInteger threads = new AtomicInteger();
    return Executors.newCachedThreadPool(
        r -> {
          Thread t = new Thread(r, "edgesync-repl-" + nodeId + "-" + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * Binds the server on {@code listenHost:listenPort}, then subscribes to every peer added so
   * far.
   *
   * @throws UncheckedIOException when the address cannot be bound
   * @throws IllegalStateException when already started or closed
   */
  public void start() {
    synchronized (lock) {
      if (state != State.NEW) {
        throw new IllegalStateException("replication of node '" + nodeId() + "' is already " + state);
      }
      ReplicationSettings s = shared.settings();
      localLog.checkAtStart();
      try {
        server = transport.serve(s.listenHost(), s.listenPort(), streamOptions, this::accept);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "node '" + nodeId() + "' cannot listen for replication on " + s.listenHost() + ":" + s.listenPort()
                + " (" + e.getMessage() + "): free the port, or choose another with listen (flag --listen, variable EDGESYNC_LISTEN)",
            e);
      }
      state = State.RUNNING;
      tombstoneGc.start();
      log.info(
          "node {}: replication listening on {}:{} (cluster '{}', {} peers, compression {})",
          nodeId(), s.listenHost(), server.port(), s.cluster(), peers.size(), s.compression() ? "gzip" : "off");
      for (PeerSpec peer : peers.values()) {
        startLink(peer);
      }
    }
  }

  /** The port the server bound, or -1 before {@link #start()}. */
  public int boundPort() {
    synchronized (lock) {
      return server == null ? -1 : server.port();
    }
  }

  /**
   * Subscribes to {@code peer} (at start, or now when running). A peer with the same id and
   * another address replaces the old one; the same spec again changes nothing.
   *
   * @throws IllegalArgumentException when the peer is this node
   * @throws java.io.UncheckedIOException when its watermark cannot be read
   */
  public void addPeer(PeerSpec peer) {
    Objects.requireNonNull(peer, "peer");
    if (peer.id().equals(nodeId())) {
      throw new IllegalArgumentException(
          "node '" + nodeId() + "' cannot be its own peer (" + peer + "): remove it from its peer list");
    }
    synchronized (lock) {
      checkNotClosed();
      PeerSpec old = peers.get(peer.id());
      if (peer.equals(old)) {
        return;
      }
      if (old != null) {
        stopLink(peer.id());
      }
      peers.put(peer.id(), peer);
      stability.sources(peers.keySet());
      if (state == State.RUNNING) {
        startLink(peer);
      }
    }
  }

  /**
   * Ends the subscription to {@code peerId}: cancels its stream, waits (up to 10 s) for its
   * batches in the store and persists its newest watermark. The watermark file stays, so adding
   * the peer again resumes where it stopped. Unknown ids are ignored.
   */
  public void removePeer(String peerId) {
    synchronized (lock) {
      checkNotClosed();
      if (peers.remove(peerId) != null) {
        stability.sources(peers.keySet());
        stopLink(peerId);
      }
    }
  }

  /** Makes the peer set equal to {@code wanted}: removes, replaces and adds as needed. */
  public void setPeers(Collection<PeerSpec> wanted) {
    Map<String, PeerSpec> byId = new LinkedHashMap<>();
    for (PeerSpec p : wanted) {
      if (byId.put(p.id(), p) != null) {
        throw new IllegalArgumentException("peer id '" + p.id() + "' appears twice in " + wanted);
      }
    }
    synchronized (lock) {
      checkNotClosed();
      for (String id : List.copyOf(peers.keySet())) {
        if (!byId.containsKey(id)) {
          removePeer(id);
        }
      }
      for (PeerSpec p : byId.values()) {
        addPeer(p);
      }
    }
  }

  /**
   * Decommissions {@code nodeId}: it no longer holds the tombstone horizon back, here and, once
   * the next reports carry the news, on every node; it may not sync again under its id. Returns
   * whether it was a member (a node this one knew of).
   *
   * @throws IllegalArgumentException when {@code nodeId} is in this node's peer list: a configured
   *     peer holds the horizon until it is removed from the list
   */
  public boolean forget(String nodeId) {
    synchronized (lock) {
      if (peers.containsKey(nodeId)) {
        throw new IllegalArgumentException(
            "node '" + nodeId + "' is in the peer list of node '" + nodeId() + "': remove it from the peer list (config"
                + " file, EDGESYNC_PEERS) first; a configured peer holds the tombstone horizon back until then");
      }
    }
    return stability.forget(nodeId);
  }

  /** Tombstone collection as it stands: what the store persisted and what holds the horizon back. */
  public GcStatus gcStatus() {
    GcState gc = shared.store().gcState();
    long[] current = stability.current();
    return new GcStatus(gc, current[0], current[1], stability.silentSources(), stability.members(), tombstoneGc.lastFailure());
  }

  /** One status per configured peer, in the order they were added. */
  public List<PeerStatus> peerStatuses() {
    List<PeerLink> snapshot;
    List<PeerSpec> notStarted = new ArrayList<>();
    synchronized (lock) {
      snapshot = new ArrayList<>(links.values());
      for (PeerSpec p : peers.values()) {
        if (!links.containsKey(p.id())) {
          notStarted.add(p);
        }
      }
    }
    List<PeerStatus> out = new ArrayList<>();
    for (PeerLink link : snapshot) {
      String id = link.peer().id();
      out.add(link.status(subscribers.entriesSent(id), acks.acked(id)));
    }
    for (PeerSpec p : notStarted) {
      out.add(
          new PeerStatus(
              p.id(), p.address(), false, "", 0, 0, 0, 0, 0, 0, 0, 0, acks.acked(p.id()), 0, null, null, false, null, 0, 0,
              null, 0, null));
    }
    return out;
  }

  /** The nodes that pulled from this one since start, listed in its peers or not. */
  public List<SubscriberStatus> subscribers() {
    return subscribers.statuses();
  }

  /**
   * Completes when {@code peers} distinct subscribers have acknowledged a seq {@code >= seq} of
   * this node's log (each acknowledges after committing durably); completes at once for 0 peers.
   * Fails with {@link AckTimeoutException} after {@code timeout}; the write stays committed
   * locally either way. Fails with {@link IllegalStateException} if the engine closes first.
   *
   * @throws dev.edgesync.engine.storage.LimitExceededException when too many waits are pending
   */
  public CompletableFuture<Void> awaitAcks(long seq, int peers, Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (peers < 0) {
      throw new IllegalArgumentException("peers must be >= 0, got " + peers);
    }
    if (peers == 0) {
      return CompletableFuture.completedFuture(null);
    }
    synchronized (lock) {
      if (state == State.CLOSED) {
        return CompletableFuture.failedFuture(closedError(seq, peers));
      }
    }
    return acks.await(seq, peers, timeout);
  }

  /**
   * Stops replication, in this order: cancels every subscription, waits (up to 10 s each) for
   * batches already handed to the store and persists each peer's newest committed watermark;
   * ends every subscriber's stream with {@code Refusal.SHUTTING_DOWN}; records the store's head seq
   * (see {@link LocalLogGuard}); stops the server; fails
   * pending {@link #awaitAcks} futures; closes the transport and the internal threads. Idempotent.
   * The store is not closed (its owner closes it after this).
   *
   * @throws IllegalStateException after everything was stopped, if a watermark could not be
   *     persisted or batches were still pending (peers then re-send them: safe)
   */
  @Override
  public void close() {
    List<PeerLink> toClose;
    synchronized (lock) {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      tombstoneGc.close();
      toClose = new ArrayList<>(links.values());
      links.clear();
    }
    List<RuntimeException> failures = new ArrayList<>();
    for (PeerLink link : toClose) {
      RuntimeException f = link.close(CLOSE_WAIT);
      if (f != null) {
        failures.add(f);
      }
      shared.metrics().removePeerGauges(link.peer().id());
    }
    for (PublisherFeed feed : subscribers.openFeeds()) {
      feed.shutdown("node '" + nodeId() + "' is shutting down");
    }
    try {
      localLog.recordHead();
    } catch (RuntimeException e) {
      failures.add(e);
    }
    Transport.Server s;
    synchronized (lock) {
      s = server;
    }
    if (s != null) {
      s.close();
    }
    acks.failAll(this::closedError);
    transport.close();
    shared.io().shutdown();
    try {
      if (!shared.io().awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        failures.add(new IllegalStateException("replication threads of node '" + nodeId() + "' did not stop in time"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info("node {}: replication closed", nodeId());
    if (!failures.isEmpty()) {
      IllegalStateException e =
          new IllegalStateException("closing replication of node '" + nodeId() + "': " + failures.get(0).getMessage(), failures.get(0));
      failures.subList(1, failures.size()).forEach(e::addSuppressed);
      throw e;
    }
  }

  // ------------------------------------------------------------------ internals

  private String nodeId() {
    return shared.nodeId();
  }

  private void checkNotClosed() {
    if (state == State.CLOSED) {
      throw new IllegalStateException("replication of node '" + nodeId() + "' is closed");
    }
  }

  private IllegalStateException closedError(long seq, int peers) {
    return new IllegalStateException(
        "replication of node '" + nodeId() + "' closed before " + peers + " peers confirmed seq " + seq
            + "; the write is committed locally and replicates once the node runs again");
  }

  /** Under lock. */
  private void startLink(PeerSpec peer) {
    Transport.Connection connection = transport.connect(peer, streamOptions);
    PeerLink link;
    try {
      link = new PeerLink(shared, peer, connection, new SplittableRandom(randomSeed ^ peer.id().hashCode()));
    } catch (RuntimeException e) {
      connection.close();
      throw e;
    }
    links.put(peer.id(), link);
    shared
        .metrics()
        .peerGauges(
            peer.id(), link, PeerLink::lagEntries, PeerLink::lagSeconds, PeerLink::connectedGauge, PeerLink::stalledGauge);
    link.start();
  }

  /** Under lock. */
  private void stopLink(String peerId) {
    PeerLink link = links.remove(peerId);
    if (link == null) {
      return;
    }
    shared.metrics().removePeerGauges(peerId);
    RuntimeException failure = link.close(CLOSE_WAIT);
    if (failure != null) {
      throw failure;
    }
  }

  private Transport.ServerListener accept(Transport.ServerStream stream) {
    PublisherFeed feed = new PublisherFeed(shared, subscribers, stream);
    subscribers.opened(feed);
    boolean closing;
    synchronized (lock) {
      closing = state == State.CLOSED;
    }
    if (closing) {
      feed.shutdown("node '" + nodeId() + "' is shutting down");
    }
    return feed;
  }
}
