package dev.edgesync.engine.replication;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.ReplicationGrpc;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The {@link Transport} over gRPC/HTTP2 (grpc-netty-shaded, plaintext): one server per node and
 * one {@link ManagedChannel} per peer. Streams are raw {@link ClientCall}s and {@link
 * ServerCall}s, so flow control is explicit: the subscriber requests each message, the publisher
 * checks {@code isReady} and is woken by {@code onReady}. gzip is set per call when the options
 * ask for it. Message size limits apply to the server and to every channel.
 *
 * <p>Thread safety: all methods may be called from any thread; the stream handles serialise
 * their calls because gRPC's call objects are not thread-safe.
 */
public final class GrpcTransport implements Transport {
  private static final String GZIP = "gzip";
  private static final long SHUTDOWN_GRACE_MILLIS = 2000;

  private final Set<ManagedChannel> channels = ConcurrentHashMap.newKeySet();
  private io.grpc.Server server;
  private boolean closed;

  /** Makes a transport; nothing is bound or connected yet. */
  public GrpcTransport() {}

  @Override
  public synchronized Server serve(String host, int port, StreamOptions options, Acceptor acceptor)
      throws IOException {
    checkOpen();
    if (server != null) {
      throw new IllegalStateException("this transport already serves on port " + server.getPort());
    }
    ServerCallHandler<SubscriberMessage, PublisherMessage> handler =
        (call, headers) -> startServerCall(call, options, acceptor);
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(ReplicationGrpc.SERVICE_NAME)
            .addMethod(ReplicationGrpc.getSubscribeMethod(), handler)
            .build();
    io.grpc.Server s =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
            .maxInboundMessageSize(options.maxInboundMessageBytes())
            .addService(service)
            .build()
            .start();
    server = s;
    return new Server() {
      @Override
      public int port() {
        return s.getPort();
      }

      @Override
      public void close() {
        stopServer(s);
      }
    };
  }

  @Override
  public Connection connect(PeerSpec peer, StreamOptions options) {
    synchronized (this) {
      checkOpen();
    }
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(peer.host(), peer.port())
            .usePlaintext()
            .maxInboundMessageSize(options.maxInboundMessageBytes())
            .build();
    channels.add(channel);
    return new Connection() {
      @Override
      public ClientStream open(ClientListener listener) {
        // The channel has its own connect backoff (up to 2 minutes) and fails calls at once while
        // it waits; the engine's backoff decides when to retry, so let each attempt connect.
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
          channel.resetConnectBackoff();
        }
        CallOptions callOptions = CallOptions.DEFAULT;
        if (options.compression()) {
          callOptions = callOptions.withCompression(GZIP);
        }
        ClientCall<SubscriberMessage, PublisherMessage> call =
            channel.newCall(ReplicationGrpc.getSubscribeMethod(), callOptions);
        ClientSide side = new ClientSide(call);
        call.start(
            new ClientCall.Listener<>() {
              @Override
              public void onMessage(PublisherMessage message) {
                listener.onMessage(message);
              }

              @Override
              public void onReady() {
                listener.onReady();
              }

              @Override
              public void onClose(Status status, Metadata trailers) {
                side.markDone();
                listener.onClosed(fromGrpc(status));
              }
            },
            new Metadata());
        return side;
      }

      @Override
      public void close() {
        channels.remove(channel);
        channel.shutdownNow();
      }
    };
  }

  @Override
  public void close() {
    io.grpc.Server s;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      s = server;
    }
    for (ManagedChannel channel : channels) {
      channel.shutdownNow();
    }
    channels.clear();
    if (s != null) {
      stopServer(s);
    }
  }

  private ServerCall.Listener<SubscriberMessage> startServerCall(
      ServerCall<SubscriberMessage, PublisherMessage> call, StreamOptions options, Acceptor acceptor) {
    if (options.compression()) {
      call.setCompression(GZIP);
    }
    call.sendHeaders(new Metadata());
    ServerSide side = new ServerSide(call);
    ServerListener listener = acceptor.accept(side);
    side.request();
    return new ServerCall.Listener<>() {
      @Override
      public void onMessage(SubscriberMessage message) {
        listener.onMessage(message);
        side.request();
      }

      @Override
      public void onHalfClose() {
        if (side.endedByRemote()) {
          listener.onClosed(StreamStatus.of(StreamStatus.Code.OK, "the subscriber ended the stream"));
        }
        side.finish(Status.OK);
      }

      @Override
      public void onCancel() {
        if (side.endedByRemote()) {
          listener.onClosed(
              StreamStatus.of(
                  StreamStatus.Code.CANCELLED, "the subscriber cancelled the stream or the connection was lost"));
        }
      }

      @Override
      public void onReady() {
        listener.onReady();
      }
    };
  }

  private static void stopServer(io.grpc.Server s) {
    s.shutdown();
    try {
      if (!s.awaitTermination(SHUTDOWN_GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
        s.shutdownNow();
        s.awaitTermination(SHUTDOWN_GRACE_MILLIS, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      s.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the gRPC transport is closed");
    }
  }

  static Status toGrpc(StreamStatus status) {
    return Status.fromCode(Status.Code.valueOf(status.code().name()))
        .withDescription(status.description())
        .withCause(status.cause());
  }

  static StreamStatus fromGrpc(Status status) {
    String description = status.getDescription() == null ? "" : status.getDescription();
    if (status.getCause() != null) {
      description = description + (description.isEmpty() ? "" : " ") + "(" + status.getCause() + ")";
    }
    return new StreamStatus(StreamStatus.Code.valueOf(status.getCode().name()), description, status.getCause());
  }

  /** The publisher's end of a gRPC call. */
  private static final class ServerSide implements ServerStream {
    private final ServerCall<SubscriberMessage, PublisherMessage> call;
    // ended: no more sends or listener calls; callClosed: call.close was called (exactly once).
    private boolean ended;
    private boolean callClosed;

    ServerSide(ServerCall<SubscriberMessage, PublisherMessage> call) {
      this.call = call;
    }

    @Override
    public synchronized void send(PublisherMessage message) {
      if (!ended) {
        call.sendMessage(message);
      }
    }

    @Override
    public synchronized boolean isReady() {
      return !ended && call.isReady();
    }

    @Override
    public synchronized void close(StreamStatus status) {
      finish(toGrpc(status));
    }

    @Override
    public String remoteAddress() {
      SocketAddress address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      return address == null ? "unknown address" : address.toString();
    }

    synchronized void request() {
      if (!ended) {
        call.request(1);
      }
    }

    /** Returns true if the stream had not ended yet (so the listener must be told). */
    synchronized boolean endedByRemote() {
      boolean wasOpen = !ended;
      ended = true;
      return wasOpen;
    }

    synchronized void finish(Status status) {
      ended = true;
      if (callClosed) {
        return;
      }
      callClosed = true;
      if (!call.isCancelled()) {
        call.close(status, new Metadata());
      }
    }
  }

  /** The subscriber's end of a gRPC call. */
  private static final class ClientSide implements ClientStream {
    private final ClientCall<SubscriberMessage, PublisherMessage> call;
    private boolean done;

    ClientSide(ClientCall<SubscriberMessage, PublisherMessage> call) {
      this.call = call;
    }

    @Override
    public synchronized void send(SubscriberMessage message) {
      if (!done) {
        call.sendMessage(message);
      }
    }

    @Override
    public synchronized boolean isReady() {
      return !done && call.isReady();
    }

    @Override
    public synchronized void request(int n) {
      if (!done) {
        call.request(n);
      }
    }

    @Override
    public synchronized void cancel(String description, Throwable cause) {
      if (!done) {
        done = true;
        call.cancel(description, cause);
      }
    }

    synchronized void markDone() {
      done = true;
    }
  }
}
