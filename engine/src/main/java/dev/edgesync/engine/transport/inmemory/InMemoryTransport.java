package dev.edgesync.engine.transport.inmemory;

import com.google.common.util.concurrent.MoreExecutors;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.SubscriberMessage;
import java.io.IOException;
import java.net.BindException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A {@link Transport} between engines in one JVM, without sockets: for tests, and the base of the
 * deterministic simulation. Engines share a {@link Network}, which maps {@code host:port}
 * addresses to servers and holds the fault switches: isolate a node, partition two nodes, black-
 * hole a node's messages, drop one direction of a link, delay one direction of a link, reset
 * connections.
 *
 * <p>It keeps the semantics the engine relies on from gRPC: messages to a subscriber are
 * delivered only as it requests them; the publisher's end is ready while less than {@value
 * #READY_THRESHOLD_BYTES} bytes wait for the subscriber (gRPC's default threshold) and is told
 * {@code onReady} when that drains; a message larger than the receiver's {@code
 * maxInboundMessageBytes} fails the stream with {@code RESOURCE_EXHAUSTED}; a publisher's close
 * reaches the subscriber after the messages sent before it; messages of one direction of one
 * stream arrive in the order they were sent, also when delayed (a delay holds back everything
 * behind it, as TCP would); callbacks of one stream run in order on the receiving transport's
 * executor, never inside the caller's call. Compression is ignored (nothing is encoded).
 *
 * <p>Determinism: the network keeps its streams in the order they were opened, so a fault
 * fails them in a reproducible order, and each transport can be given its executor (the
 * simulation runs every callback on one harness-driven queue).
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
public final class InMemoryTransport implements Transport {
  /** Bytes queued towards a subscriber above which the publisher's end is not ready. */
  public static final int READY_THRESHOLD_BYTES = 32 * 1024;

  private final Network network;
  private final String name;
  private final ExecutorService pool;

  // Guarded by this.
  private boolean closed;
  private ServerImpl server;

  private InMemoryTransport(Network network, String name, ExecutorService pool) {
    this.network = network;
    this.name = name;
    this.pool = pool;
  }

  private static ExecutorService defaultPool(String name) {
    AtomicInteger threads = new AtomicInteger();
    return Executors.newCachedThreadPool(
        r -> {
          Thread t = new Thread(r, "edgesync-inmem-" + name + "-" + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /** The name of this transport's node on the network (used by the fault switches). */
  public String name() {
    return name;
  }

  @Override
  public Server serve(String host, int port, StreamOptions options, Acceptor acceptor) throws IOException {
    synchronized (this) {
      checkOpen();
      if (server != null) {
        throw new IllegalStateException("transport '" + name + "' already serves on " + server.address);
      }
      server = network.bind(this, host, port, options, acceptor);
      return server;
    }
  }

  @Override
  public Connection connect(PeerSpec peer, StreamOptions options) {
    synchronized (this) {
      checkOpen();
    }
    String address = peer.host() + ":" + peer.port();
    // The engine opens one stream at a time per connection; only the latest can still be open.
    AtomicReference<Pipe> latest = new AtomicReference<>();
    return new Connection() {
      @Override
      public ClientStream open(ClientListener listener) {
        Pipe pipe = network.open(InMemoryTransport.this, address, options, listener);
        latest.set(pipe);
        return pipe.clientEnd;
      }

      @Override
      public void close() {
        Pipe p = latest.getAndSet(null);
        if (p != null) {
          p.clientEnd.cancel("connection to " + address + " closed", null);
        }
      }
    };
  }

  @Override
  public void close() {
    ServerImpl s;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      s = server;
    }
    if (s != null) {
      s.close();
    }
    network.failAll(
        p -> p.client == this || p.server == this,
        StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "transport of node '" + name + "' closed"));
    pool.shutdown();
  }

  private synchronized void checkOpen() {
    if (closed) {
      throw new IllegalStateException("in-memory transport '" + name + "' is closed");
    }
  }

  private synchronized boolean isClosed() {
    return closed;
  }

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
   */
  public static final class Network {
    private final ScheduledExecutorService timer;
    private final Map<String, ServerImpl> servers = new HashMap<>();
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
      return new InMemoryTransport(this, name, defaultPool(name));
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

    private synchronized ServerImpl bind(
        InMemoryTransport owner, String host, int port, StreamOptions options, Acceptor acceptor)
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
      ServerImpl s = new ServerImpl(owner, address, actual, options, acceptor);
      servers.put(address, s);
      return s;
    }

    private synchronized void unbind(ServerImpl s) {
      servers.remove(s.address, s);
    }

    private Pipe open(InMemoryTransport client, String address, StreamOptions options, ClientListener listener) {
      ServerImpl target;
      synchronized (this) {
        target = servers.get(address);
        if (target != null
            && (isolated.contains(client.name)
                || isolated.contains(target.owner.name)
                || partitioned.contains(Link.between(client.name, target.owner.name))
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
      ServerImpl s = target;
      pipe.toServer(
          ignored -> {
            pipe.serverListener = s.acceptor.accept(pipe.serverEnd);
          },
          true);
      return pipe;
    }

    private void removePipe(Pipe p) {
      synchronized (pipes) {
        pipes.remove(p);
      }
    }

    private void failAll(Predicate<Pipe> which, StreamStatus status) {
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
    private boolean dropsToClient(Pipe p) {
      if (!p.brokenToClient && lossy(p.server.name, p.client.name)) {
        p.brokenToClient = true;
        if (blackholed.contains(p.client.name) || blackholed.contains(p.server.name)) {
          p.brokenToServer = true; // a black hole kills the whole connection
        }
      }
      return p.brokenToClient;
    }

    /** Under the pipe's lock: whether the message now sent towards the publisher is lost. */
    private boolean dropsToServer(Pipe p) {
      if (!p.brokenToServer && lossy(p.client.name, p.server.name)) {
        p.brokenToServer = true;
        if (blackholed.contains(p.client.name) || blackholed.contains(p.server.name)) {
          p.brokenToClient = true;
        }
      }
      return p.brokenToServer;
    }

    private boolean lossy(String from, String to) {
      return blackholed.contains(from) || blackholed.contains(to) || dropping.contains(new Link(from, to));
    }

    /** The delay of messages from {@code from} to {@code to}, in nanoseconds (0: none). */
    private long delayNanos(String from, String to) {
      Long d = delaysNanos.get(new Link(from, to));
      return d == null ? 0 : d;
    }

    private void later(long delayNanos, Runnable task) {
      try {
        // Not kept: nothing waits for a delayed message or cancels it.
        var unused = timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // The timer stopped: the whole network is being torn down.
      }
    }
  }

  /** A directed link between two nodes (or, made by {@link #between}, an undirected one). */
  private record Link(String from, String to) {
    static Link between(String a, String b) {
      return a.compareTo(b) <= 0 ? new Link(a, b) : new Link(b, a);
    }
  }

  /** A listening address. */
  private static final class ServerImpl implements Server {
    final InMemoryTransport owner;
    final String address;
    final int port;
    final StreamOptions options;
    final Acceptor acceptor;

    ServerImpl(InMemoryTransport owner, String address, int port, StreamOptions options, Acceptor acceptor) {
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
      owner.network.unbind(this);
      owner.network.failAll(
          p -> p.target == this,
          StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "server at " + address + " shut down"));
    }
  }

  /**
   * A message waiting for the subscriber's demand, or the publisher's closing status; {@code
   * released} turns true when its delay (if any) is over.
   */
  private static final class Queued {
    final PublisherMessage message;
    final int size;
    final StreamStatus close;
    boolean released;

    Queued(PublisherMessage message, int size, StreamStatus close, boolean released) {
      this.message = message;
      this.size = size;
      this.close = close;
      this.released = released;
    }
  }

  /** A message on its way to the publisher; {@code released} as for {@link Queued}. */
  private static final class Upstream {
    final SubscriberMessage message;
    boolean released;

    Upstream(SubscriberMessage message, boolean released) {
      this.message = message;
      this.released = released;
    }
  }

  /** One stream: both ends and the queues between them. */
  private static final class Pipe {
    final Network network;
    final InMemoryTransport client;
    final InMemoryTransport server;
    final ServerImpl target;
    final StreamOptions clientOptions;
    final Executor clientExec;
    final Executor serverExec;
    final ClientListener clientListener;
    volatile ServerListener serverListener;
    // Set when the publisher closed its end: its listener is not called after that.
    volatile boolean serverSilenced;

    // Guarded by this.
    final ArrayDeque<Queued> toClient = new ArrayDeque<>();
    final ArrayDeque<Upstream> toServerQueue = new ArrayDeque<>();
    long queuedBytes;
    int demand;
    boolean clientDone;
    boolean serverDone;
    boolean serverWaitsForReady;
    boolean brokenToClient;
    boolean brokenToServer;

    final ClientStream clientEnd = new ClientEnd();
    final ServerStream serverEnd = new ServerEnd();

    Pipe(Network network, InMemoryTransport client, ServerImpl target, StreamOptions clientOptions,
        ClientListener clientListener) {
      this.network = network;
      this.client = client;
      this.target = target;
      this.server = target == null ? null : target.owner;
      this.clientOptions = clientOptions;
      this.clientListener = clientListener;
      this.clientExec = MoreExecutors.newSequentialExecutor(client.pool);
      this.serverExec = server == null ? clientExec : MoreExecutors.newSequentialExecutor(server.pool);
    }

    boolean involves(String name) {
      return client.name.equals(name) || (server != null && server.name.equals(name));
    }

    boolean between(String a, String b) {
      return server != null
          && ((client.name.equals(a) && server.name.equals(b)) || (client.name.equals(b) && server.name.equals(a)));
    }

    /** Under the lock: moves requested messages to the subscriber, then the close if reached. */
    private void pump() {
      while (!toClient.isEmpty()) {
        Queued head = toClient.peekFirst();
        if (!head.released) {
          break;
        }
        if (head.close != null) {
          toClient.clear();
          queuedBytes = 0;
          clientDone = true;
          StreamStatus status = head.close;
          toClient(l -> l.onClosed(status));
          break;
        }
        if (demand == 0) {
          break;
        }
        toClient.pollFirst();
        demand--;
        queuedBytes -= head.size;
        PublisherMessage m = head.message;
        toClient(l -> l.onMessage(m));
      }
      if (serverWaitsForReady && !serverDone && queuedBytes < READY_THRESHOLD_BYTES) {
        serverWaitsForReady = false;
        toServer(ServerListener::onReady, false);
      }
      endIfDone();
    }

    /** Under the lock: hands released messages to the publisher, in order. */
    private void pumpUpstream() {
      while (!toServerQueue.isEmpty() && toServerQueue.peekFirst().released) {
        SubscriberMessage m = toServerQueue.pollFirst().message;
        toServer(l -> l.onMessage(m), false);
      }
    }

    /** Under the lock: queues a message or close towards the subscriber, after the link's delay. */
    private void enqueueToClient(Queued q) {
      long delay = network.delayNanos(server.name, client.name);
      q.released = delay == 0;
      toClient.addLast(q);
      queuedBytes += q.size;
      if (delay > 0) {
        network.later(
            delay,
            () -> {
              synchronized (Pipe.this) {
                q.released = true;
                pump();
              }
            });
      }
      pump();
    }

    private void endIfDone() {
      if (clientDone && serverDone) {
        network.removePipe(this);
      }
    }

    /** Fails both ends (partition, reset, shutdown). */
    synchronized void fail(StreamStatus status) {
      toServerQueue.clear();
      if (!clientDone) {
        clientDone = true;
        toClient.clear();
        queuedBytes = 0;
        toClient(l -> l.onClosed(status));
      }
      if (!serverDone) {
        serverDone = true;
        toServer(l -> l.onClosed(status), false);
      }
      endIfDone();
    }

    private void toClient(Consumer<ClientListener> event) {
      try {
        clientExec.execute(() -> event.accept(clientListener));
      } catch (RejectedExecutionException e) {
        // The subscriber's transport is closed: its engine no longer listens.
      }
    }

    /** Runs {@code event} on the publisher's side; {@code always} also after it closed its end. */
    private void toServer(Consumer<ServerListener> event, boolean always) {
      try {
        serverExec.execute(
            () -> {
              if (always || (!serverSilenced && serverListener != null)) {
                event.accept(serverListener);
              }
            });
      } catch (RejectedExecutionException e) {
        // The publisher's transport is closed: its engine no longer listens.
      }
    }

    private final class ClientEnd implements ClientStream {
      @Override
      public void send(SubscriberMessage message) {
        synchronized (Pipe.this) {
          if (clientDone || serverDone || network.dropsToServer(Pipe.this)) {
            return;
          }
          int size = message.getSerializedSize();
          if (size > target.options.maxInboundMessageBytes()) {
            fail(
                StreamStatus.of(
                    StreamStatus.Code.RESOURCE_EXHAUSTED,
                    "message of " + size + " bytes exceeds the publisher's maximum of "
                        + target.options.maxInboundMessageBytes()));
            return;
          }
          long delay = network.delayNanos(client.name, server.name);
          Upstream u = new Upstream(message, delay == 0);
          toServerQueue.addLast(u);
          if (delay > 0) {
            network.later(
                delay,
                () -> {
                  synchronized (Pipe.this) {
                    u.released = true;
                    if (!serverDone) {
                      pumpUpstream();
                    }
                  }
                });
          }
          pumpUpstream();
        }
      }

      @Override
      public boolean isReady() {
        synchronized (Pipe.this) {
          return !clientDone && !serverDone;
        }
      }

      @Override
      public void request(int n) {
        synchronized (Pipe.this) {
          if (clientDone) {
            return;
          }
          demand += n;
          pump();
        }
      }

      @Override
      public void cancel(String description, Throwable cause) {
        synchronized (Pipe.this) {
          if (clientDone) {
            return;
          }
          clientDone = true;
          toClient.clear();
          toServerQueue.clear();
          queuedBytes = 0;
          StreamStatus status = new StreamStatus(StreamStatus.Code.CANCELLED, description, cause);
          toClient(l -> l.onClosed(status));
          if (!serverDone) {
            serverDone = true;
            toServer(
                l -> l.onClosed(StreamStatus.of(StreamStatus.Code.CANCELLED, "the subscriber cancelled: " + description)),
                false);
          }
          endIfDone();
        }
      }
    }

    private final class ServerEnd implements ServerStream {
      @Override
      public void send(PublisherMessage message) {
        synchronized (Pipe.this) {
          if (serverDone || clientDone || network.dropsToClient(Pipe.this)) {
            return;
          }
          int size = message.getSerializedSize();
          if (size > clientOptions.maxInboundMessageBytes()) {
            fail(
                StreamStatus.of(
                    StreamStatus.Code.RESOURCE_EXHAUSTED,
                    "message of " + size + " bytes exceeds the subscriber's maximum of "
                        + clientOptions.maxInboundMessageBytes()));
            return;
          }
          enqueueToClient(new Queued(message, size, null, true));
        }
      }

      @Override
      public boolean isReady() {
        synchronized (Pipe.this) {
          if (serverDone || clientDone) {
            return false;
          }
          boolean ready = queuedBytes < READY_THRESHOLD_BYTES;
          if (!ready) {
            serverWaitsForReady = true;
          }
          return ready;
        }
      }

      @Override
      public void close(StreamStatus status) {
        synchronized (Pipe.this) {
          if (serverDone) {
            return;
          }
          serverDone = true;
          serverSilenced = true;
          toServerQueue.clear();
          if (!clientDone && !network.dropsToClient(Pipe.this)) {
            enqueueToClient(new Queued(null, 0, status, true));
          }
          endIfDone();
        }
      }

      @Override
      public String remoteAddress() {
        return "in-memory node '" + client.name + "'";
      }
    }
  }
}
