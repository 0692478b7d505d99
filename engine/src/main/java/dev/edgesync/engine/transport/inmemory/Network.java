package dev.edgesync.engine.transport.inmemory;

import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.transport.Transport;
import java.io.IOException;
import java.net.BindException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The shared medium of in-memory transports: addresses, open streams, fault switches.
 *
 * <p>Faults between two nodes name them by their transport names:
 *
 * <ul>
 *   <li>{@link #isolate}/{@link #heal}: a node is cut off from everyone; its streams fail.
 *   <li>{@link #partition}/{@link #unpartition}: two nodes cannot reach each other; their
 *       streams fail and new ones fail to open.
 *   <li>{@link #blackhole}: every message to and from a node is silently lost; streams stay open.
 *   <li>{@link #dropOneWay}: messages from one node to another are silently lost, the other
 *       direction still works (an asymmetric failure only heartbeats notice).
 *   <li>{@link #delay}: messages from one node to another arrive after a delay measured on the
 *       network's timer; with different delays on different links, messages arrive in another
 *       order than they were sent across links (never within one stream).
 *   <li>{@link #reset}: the node's open streams fail at once, as after a TCP reset; new ones may
 *       open right away.
 * </ul>
 *
 * <p>A stream that lost a message in one direction loses every later message in that direction
 * too, as a dead TCP connection would: delivering a later message after a dropped one (say, a
 * heartbeat after a lost Hello) is something no real network does. Healing the fault does not
 * revive such a stream; the engines' heartbeat timeouts replace it.
 *
 * <p>Thread safety: every method may be called from any thread. Addresses, isolations and
 * partitions are guarded by this network; the open streams by their set's own lock; black holes,
 * one-way drops and delays are concurrent sets that pipes read under their own locks. A pipe's
 * lock may be held while the stream set's is taken, never the other way round.
 */
public final class Network {
  private final ScheduledExecutorService timer;
  private final Map<String, Binding> servers = new HashMap<>();
  private final Set<String> isolated = new HashSet<>();
  private final Set<Link> partitioned = new HashSet<>();
  private final Set<String> blackholed = ConcurrentHashMap.newKeySet();
  private final Set<Link> dropping = ConcurrentHashMap.newKeySet();
  private final Map<Link, Long> delaysNanos = new ConcurrentHashMap<>();
  // Insertion-ordered so that a fault fails streams in a reproducible order. Guarded by itself.
  private final Set<Pipe> pipes = new LinkedHashSet<>();
  private int nextPort = 20_000;

  /** A network without a timer: every fault but {@link #delay} is available. */
  public Network() {
    this(null);
  }

  /**
   * A network whose {@link #delay delays} run on {@code timer} (the simulation passes its
   * simulated-time scheduler).
   */
  public Network(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  /** A transport for the node {@code name}, running its callbacks on its own threads. */
  public InMemoryTransport transport(String name) {
    return new InMemoryTransport(this, name, InMemoryTransport.defaultPool(name));
  }

  /**
   * A transport for the node {@code name} that runs its callbacks on {@code executor}; the
   * transport shuts the executor down when it closes.
   */
  public InMemoryTransport transport(String name, ExecutorService executor) {
    return new InMemoryTransport(this, name, Objects.requireNonNull(executor, "executor"));
  }

  /**
   * Cuts {@code name} off: its open streams fail with {@code UNAVAILABLE} and new ones to or
   * from it fail until {@link #heal}.
   */
  public void isolate(String name) {
    synchronized (this) {
      isolated.add(name);
    }
    failAll(
        p -> p.involves(name),
        StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "network partition: node '" + name + "' is isolated"));
  }

  /** Undoes {@link #isolate}. */
  public synchronized void heal(String name) {
    isolated.remove(name);
  }

  /**
   * Cuts the link between {@code a} and {@code b} in both directions: their open streams fail
   * with {@code UNAVAILABLE} and new ones fail to open until {@link #unpartition}.
   */
  public void partition(String a, String b) {
    synchronized (this) {
      partitioned.add(Link.between(a, b));
    }
    failAll(
        p -> p.between(a, b),
        StreamStatus.of(
            StreamStatus.Code.UNAVAILABLE, "network partition between nodes '" + a + "' and '" + b + "'"));
  }

  /** Undoes {@link #partition}. */
  public synchronized void unpartition(String a, String b) {
    partitioned.remove(Link.between(a, b));
  }

  /**
   * Silently drops every message to and from {@code name} while on, leaving streams open: only
   * heartbeat timeouts notice it.
   */
  public void blackhole(String name, boolean on) {
    if (on) {
      blackholed.add(name);
    } else {
      blackholed.remove(name);
    }
  }

  /**
   * Silently drops messages from {@code from} to {@code to} while on; the other direction keeps
   * working. Streams stay open and new ones open (their messages in that direction are lost).
   */
  public void dropOneWay(String from, String to, boolean on) {
    if (on) {
      dropping.add(new Link(from, to));
    } else {
      dropping.remove(new Link(from, to));
    }
  }

  /**
   * Delays messages sent from {@code from} to {@code to} by {@code delay} (zero: no delay),
   * keeping their order within each stream.
   *
   * @throws IllegalStateException when the network has no timer
   */
  public void delay(String from, String to, Duration delay) {
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
    if (delay.isZero()) {
      delaysNanos.remove(new Link(from, to));
      return;
    }
    if (timer == null) {
      throw new IllegalStateException("this in-memory network has no timer: create it with Network(timer) to delay");
    }
    delaysNanos.put(new Link(from, to), delay.toNanos());
  }

  /**
   * Fails every open stream of {@code name} with {@code UNAVAILABLE}, as a TCP reset would; new
   * streams open normally.
   */
  public void reset(String name) {
    failAll(
        p -> p.involves(name),
        StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "connection reset: streams of node '" + name + "' reset"));
  }

  /** Removes every fault: isolations, partitions, black holes, one-way drops and delays. */
  public void healAll() {
    synchronized (this) {
      isolated.clear();
      partitioned.clear();
    }
    blackholed.clear();
    dropping.clear();
    delaysNanos.clear();
  }

  /** Streams currently open, for tests. */
  public int openStreams() {
    synchronized (pipes) {
      return pipes.size();
    }
  }

  synchronized Binding bind(
      InMemoryTransport owner, String host, int port, Transport.StreamOptions options, Transport.Acceptor acceptor)
      throws IOException {
    int actual = port;
    if (actual == 0) {
      do {
        actual = nextPort++;
      } while (servers.containsKey(host + ":" + actual));
    }
    String address = host + ":" + actual;
    if (servers.containsKey(address)) {
      throw new BindException("in-memory address " + address + " is already in use");
    }
    Binding s = new Binding(owner, address, actual, options, acceptor);
    servers.put(address, s);
    return s;
  }

  synchronized void unbind(Binding s) {
    servers.remove(s.address, s);
  }

  Pipe open(InMemoryTransport client, String address, Transport.StreamOptions options, Transport.ClientListener listener) {
    Binding target;
    synchronized (this) {
      target = servers.get(address);
      if (target != null
          && (isolated.contains(client.name())
              || isolated.contains(target.owner.name())
              || partitioned.contains(Link.between(client.name(), target.owner.name()))
              || target.owner.isClosed())) {
        target = null;
      }
    }
    Pipe pipe = new Pipe(this, client, target, options, listener);
    if (target == null) {
      pipe.fail(StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "no in-memory server reachable at " + address));
      return pipe;
    }
    synchronized (pipes) {
      pipes.add(pipe);
    }
    Binding s = target;
    pipe.toServer(
        ignored -> {
          pipe.serverListener = s.acceptor.accept(pipe.serverEnd);
        },
        true);
    return pipe;
  }

  void removePipe(Pipe p) {
    synchronized (pipes) {
      pipes.remove(p);
    }
  }

  void failAll(Predicate<Pipe> which, StreamStatus status) {
    List<Pipe> snapshot;
    synchronized (pipes) {
      snapshot = List.copyOf(pipes);
    }
    for (Pipe p : snapshot) {
      if (which.test(p)) {
        p.fail(status);
      }
    }
  }

  /** Under the pipe's lock: whether the message now sent towards the subscriber is lost. */
  boolean dropsToClient(Pipe p) {
    if (!p.brokenToClient && lossy(p.server.name(), p.client.name())) {
      p.brokenToClient = true;
      if (blackholed.contains(p.client.name()) || blackholed.contains(p.server.name())) {
        p.brokenToServer = true; // a black hole kills the whole connection
      }
    }
    return p.brokenToClient;
  }

  /** Under the pipe's lock: whether the message now sent towards the publisher is lost. */
  boolean dropsToServer(Pipe p) {
    if (!p.brokenToServer && lossy(p.client.name(), p.server.name())) {
      p.brokenToServer = true;
      if (blackholed.contains(p.client.name()) || blackholed.contains(p.server.name())) {
        p.brokenToClient = true;
      }
    }
    return p.brokenToServer;
  }

  private boolean lossy(String from, String to) {
    return blackholed.contains(from) || blackholed.contains(to) || dropping.contains(new Link(from, to));
  }

  /** The delay of messages from {@code from} to {@code to}, in nanoseconds (0: none). */
  long delayNanos(String from, String to) {
    Long d = delaysNanos.get(new Link(from, to));
    return d == null ? 0 : d;
  }

  void later(long delayNanos, Runnable task) {
    try {
      // Not kept: nothing waits for a delayed message or cancels it.
      var unused = timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The timer stopped: the whole network is being torn down.
    }
  }

  /** A directed link between two nodes (or, made by {@link #between}, an undirected one). */
  private record Link(String from, String to) {
    static Link between(String a, String b) {
      return a.compareTo(b) <= 0 ? new Link(a, b) : new Link(b, a);
    }
  }

  /** A listening address: a transport's server, bound until it or its transport closes. */
  final class Binding implements Transport.Server {
    final InMemoryTransport owner;
    final String address;
    final int port;
    final Transport.StreamOptions options;
    final Transport.Acceptor acceptor;

    Binding(InMemoryTransport owner, String address, int port, Transport.StreamOptions options, Transport.Acceptor acceptor) {
      this.owner = owner;
      this.address = address;
      this.port = port;
      this.options = options;
      this.acceptor = acceptor;
    }

    @Override
    public int port() {
      return port;
    }

    @Override
    public void close() {
      unbind(this);
      failAll(
          p -> p.target == this,
          StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "server at " + address + " shut down"));
    }
  }
}
