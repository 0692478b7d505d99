package dev.edgesync.engine.transport.inmemory;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.transport.Transport;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Transport} between engines in one JVM, without sockets: for tests, and the base of the
 * deterministic simulation. Engines share a {@link Network}, which maps {@code host:port}
 * addresses to servers and holds the fault switches: isolate a node, partition two nodes, black-
 * hole a node's messages, drop one direction of a link, delay one direction of a link, reset
 * connections. Transports are made by {@link Network#transport}.
 *
 * <p>It keeps the semantics the engine relies on from gRPC: messages to a subscriber are
 * delivered only as it requests them; the publisher's end is ready while less than {@value
 * #READY_THRESHOLD_BYTES} bytes wait for the subscriber (gRPC's default threshold) and is told
 * {@code onReady} when that drains; a message larger than the receiver's {@code
 * maxInboundMessageBytes} fails the stream with {@code RESOURCE_EXHAUSTED}; a publisher's close
 * reaches the subscriber after the messages sent before it; messages of one direction of one
 * stream arrive in the order they were sent, also when delayed (a delay holds back everything
 * behind it, as TCP would); callbacks of one stream run in order on the receiving transport's
 * executor, never inside the caller's call. Compression is ignored (nothing is encoded). Each
 * stream is a {@link Pipe}, which emulates that flow control.
 *
 * <p>Determinism: the network keeps its streams in the order they were opened, so a fault
 * fails them in a reproducible order, and each transport can be given its executor (the
 * simulation runs every callback on one harness-driven queue).
 *
 * <p>Lifecycle: {@link #close()} unbinds the server, fails every stream of this transport with
 * {@code UNAVAILABLE} and shuts its executor down; later {@code serve} and {@code connect} calls
 * throw {@link IllegalStateException}.
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
  private Network.Binding server;

  InMemoryTransport(Network network, String name, ExecutorService pool) {
    this.network = network;
    this.name = name;
    this.pool = pool;
  }

  static ExecutorService defaultPool(String name) {
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

  /** The executor this transport's callbacks run on; each stream serialises its own. */
  ExecutorService pool() {
    return pool;
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
    Network.Binding s;
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

  synchronized boolean isClosed() {
    return closed;
  }
}
