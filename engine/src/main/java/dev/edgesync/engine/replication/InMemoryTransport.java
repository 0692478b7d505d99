package dev.edgesync.engine.replication;

import com.google.common.util.concurrent.MoreExecutors;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.SubscriberMessage;
import java.io.IOException;
import java.net.BindException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A {@link Transport} between engines in one JVM, without sockets: for tests, and the base of a
 * deterministic simulation. Engines share a {@link Network}, which maps {@code host:port}
 * addresses to servers and holds fault switches (isolate a node, black-hole its messages).
 *
 * <p>It keeps the semantics the engine relies on from gRPC: messages to a subscriber are
 * delivered only as it requests them; the publisher's end is ready while less than {@value
 * #READY_THRESHOLD_BYTES} bytes wait for the subscriber (gRPC's default threshold) and is told
 * {@code onReady} when that drains; a message larger than the receiver's {@code
 * maxInboundMessageBytes} fails the stream with {@code RESOURCE_EXHAUSTED}; a publisher's close
 * reaches the subscriber after the messages sent before it; callbacks of one stream run in order
 * on one of the receiving transport's threads, never inside the caller's call. Compression is
 * ignored (nothing is encoded).
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
public final class InMemoryTransport implements Transport {
  /** Bytes queued towards a subscriber above which the publisher's end is not ready. */
  public static final int READY_THRESHOLD_BYTES = 32 * 1024;

  private final Network network;
  private final String name;
  private final ExecutorService pool;
  private final AtomicInteger threads = new AtomicInteger();

  // Guarded by this.
  private boolean closed;
  private ServerImpl server;

  private InMemoryTransport(Network network, String name) {
    this.network = network;
    this.name = name;
    this.pool =
        Executors.newCachedThreadPool(
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

  /** The shared medium of in-memory transports: addresses, open streams, fault switches. */
  public static final class Network {
    private final Map<String, ServerImpl> servers = new HashMap<>();
    private final Set<String> isolated = new HashSet<>();
    private final Set<String> blackholed = ConcurrentHashMap.newKeySet();
    private final Set<Pipe> pipes = ConcurrentHashMap.newKeySet();
    private int nextPort = 20_000;

    /** A transport for the node {@code name}. */
    public InMemoryTransport transport(String name) {
      return new InMemoryTransport(this, name);
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

    /** Streams currently open, for tests. */
    public int openStreams() {
      return pipes.size();
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
            && (isolated.contains(client.name) || isolated.contains(target.owner.name) || target.owner.isClosed())) {
          target = null;
        }
      }
      Pipe pipe = new Pipe(this, client, target, address, options, listener);
      if (target == null) {
        pipe.fail(StreamStatus.of(StreamStatus.Code.UNAVAILABLE, "no in-memory server reachable at " + address));
        return pipe;
      }
      pipes.add(pipe);
      ServerImpl s = target;
      pipe.toServer(
          ignored -> {
            pipe.serverListener = s.acceptor.accept(pipe.serverEnd);
          },
          true);
      return pipe;
    }

    private void failAll(java.util.function.Predicate<Pipe> which, StreamStatus status) {
      for (Pipe p : List.copyOf(pipes)) {
        if (which.test(p)) {
          p.fail(status);
        }
      }
    }

    /**
     * Under the pipe's lock. A stream that lost one message to a black hole loses every later one
     * too, as a dead TCP connection would: delivering a later message after a dropped one (say,
     * a heartbeat after a lost Hello) is something no real network does.
     */
    private boolean blackholed(Pipe p) {
      if (!p.broken
          && (blackholed.contains(p.client.name) || (p.server != null && blackholed.contains(p.server.name)))) {
        p.broken = true;
      }
      return p.broken;
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

  /** A message waiting for the subscriber's demand, or the publisher's closing status. */
  private record Queued(PublisherMessage message, int size, StreamStatus close) {}

  /** One stream: both ends and the queue between them. */
  private static final class Pipe {
    final Network network;
    final InMemoryTransport client;
    final InMemoryTransport server;
    final ServerImpl target;
    final String address;
    final StreamOptions clientOptions;
    final Executor clientExec;
    final Executor serverExec;
    final ClientListener clientListener;
    volatile ServerListener serverListener;
    // Set when the publisher closed its end: its listener is not called after that.
    volatile boolean serverSilenced;

    // Guarded by this.
    final ArrayDeque<Queued> toClient = new ArrayDeque<>();
    long queuedBytes;
    int demand;
    boolean clientDone;
    boolean serverDone;
    boolean serverWaitsForReady;
    boolean broken;

    final ClientStream clientEnd = new ClientEnd();
    final ServerStream serverEnd = new ServerEnd();

    Pipe(Network network, InMemoryTransport client, ServerImpl target, String address, StreamOptions clientOptions,
        ClientListener clientListener) {
      this.network = network;
      this.client = client;
      this.target = target;
      this.server = target == null ? null : target.owner;
      this.address = address;
      this.clientOptions = clientOptions;
      this.clientListener = clientListener;
      this.clientExec = MoreExecutors.newSequentialExecutor(client.pool);
      this.serverExec = server == null ? clientExec : MoreExecutors.newSequentialExecutor(server.pool);
    }

    boolean involves(String name) {
      return client.name.equals(name) || (server != null && server.name.equals(name));
    }

    /** Under the lock: moves requested messages to the subscriber, then the close if reached. */
    private void pump() {
      while (!toClient.isEmpty()) {
        Queued head = toClient.peekFirst();
        if (head.close() != null) {
          toClient.clear();
          queuedBytes = 0;
          clientDone = true;
          StreamStatus status = head.close();
          toClient(l -> l.onClosed(status));
          break;
        }
        if (demand == 0) {
          break;
        }
        toClient.pollFirst();
        demand--;
        queuedBytes -= head.size();
        PublisherMessage m = head.message();
        toClient(l -> l.onMessage(m));
      }
      if (serverWaitsForReady && !serverDone && queuedBytes < READY_THRESHOLD_BYTES) {
        serverWaitsForReady = false;
        toServer(ServerListener::onReady, false);
      }
      endIfDone();
    }

    private void endIfDone() {
      if (clientDone && serverDone) {
        network.pipes.remove(this);
      }
    }

    /** Fails both ends (partition, shutdown). */
    synchronized void fail(StreamStatus status) {
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
          if (clientDone || serverDone || network.blackholed(Pipe.this)) {
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
          toServer(l -> l.onMessage(message), false);
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
          if (serverDone || clientDone || network.blackholed(Pipe.this)) {
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
          toClient.addLast(new Queued(message, size, null));
          queuedBytes += size;
          pump();
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
          if (!clientDone && !network.blackholed(Pipe.this)) {
            toClient.addLast(new Queued(null, 0, status));
            pump();
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
