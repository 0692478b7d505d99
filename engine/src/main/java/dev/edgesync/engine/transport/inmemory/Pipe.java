package dev.edgesync.engine.transport.inmemory;

import com.google.common.util.concurrent.MoreExecutors;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.transport.Transport.ClientListener;
import dev.edgesync.engine.transport.Transport.ClientStream;
import dev.edgesync.engine.transport.Transport.ServerListener;
import dev.edgesync.engine.transport.Transport.ServerStream;
import dev.edgesync.engine.transport.Transport.StreamOptions;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.SubscriberMessage;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One in-memory stream: both ends, the queues between them, and gRPC's flow control emulated on
 * them. Messages to the subscriber wait in {@code toClient} until it requests them; the
 * publisher's end is ready while fewer than {@link InMemoryTransport#READY_THRESHOLD_BYTES} bytes
 * wait there, and is told {@code onReady} when they drain below it. Messages to the publisher
 * are delivered as they arrive (acks and heartbeats are small). A delayed message holds back
 * everything behind it in its direction, as TCP would.
 *
 * <p>Invariants: each end's listener hears {@code onClosed} at most once and nothing after it;
 * the pipe leaves the network's list once both ends are done. Threading: both ends may be called
 * from any thread; state is guarded by the pipe's lock, and listener callbacks are handed to the
 * receiving transport's sequential executor, never run inside the caller's call or the lock.
 */
final class Pipe {
  final Network network;
  final InMemoryTransport client;
  final InMemoryTransport server;
  final Network.Binding target;
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

  Pipe(Network network, InMemoryTransport client, Network.Binding target, StreamOptions clientOptions,
      ClientListener clientListener) {
    this.network = network;
    this.client = client;
    this.target = target;
    this.server = target == null ? null : target.owner;
    this.clientOptions = clientOptions;
    this.clientListener = clientListener;
    this.clientExec = MoreExecutors.newSequentialExecutor(client.pool());
    this.serverExec = server == null ? clientExec : MoreExecutors.newSequentialExecutor(server.pool());
  }

  boolean involves(String name) {
    return client.name().equals(name) || (server != null && server.name().equals(name));
  }

  boolean between(String a, String b) {
    return server != null
        && ((client.name().equals(a) && server.name().equals(b)) || (client.name().equals(b) && server.name().equals(a)));
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
    if (serverWaitsForReady && !serverDone && queuedBytes < InMemoryTransport.READY_THRESHOLD_BYTES) {
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
    long delay = network.delayNanos(server.name(), client.name());
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
  void toServer(Consumer<ServerListener> event, boolean always) {
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
        long delay = network.delayNanos(client.name(), server.name());
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
        boolean ready = queuedBytes < InMemoryTransport.READY_THRESHOLD_BYTES;
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
      return "in-memory node '" + client.name() + "'";
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
}
