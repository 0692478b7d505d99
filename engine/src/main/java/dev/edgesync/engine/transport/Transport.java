package dev.edgesync.engine.transport;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.SubscriberMessage;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;

/**
 * The seam between the replication engine and the network: it carries the two message types of
 * the {@code Replication.Subscribe} stream and nothing else. {@link GrpcTransport} runs it over
 * gRPC/HTTP2; {@link InMemoryTransport} runs it between engines in one JVM for tests.
 *
 * <p>A node has one transport. The engine {@linkplain #serve serves} one publisher endpoint and
 * holds one {@link Connection} per peer, on which it opens one stream at a time.
 *
 * <p><b>Flow control.</b> The subscriber side ({@link ClientStream}) receives only what it
 * {@linkplain ClientStream#request requested}: the engine requests one message after handing the
 * previous one to the store, so a slow store slows the publisher down instead of filling memory.
 * The publisher side ({@link ServerStream}) sends while {@link ServerStream#isReady()} and is
 * told by {@link ServerListener#onReady()} when to resume. Messages a subscriber sends (acks,
 * heartbeats) are small and delivered to the publisher as they arrive.
 *
 * <p><b>Threading.</b> Methods of {@link ClientStream} and {@link ServerStream} may be called
 * from any thread; the transport serialises them. Listener callbacks of one stream are never
 * concurrent and arrive in order; a callback may block, which stops delivery on that stream
 * only (this is how the store's bounded queue pushes back). A listener's {@code onClosed} is
 * called at most once and is the last callback of its stream.
 *
 * <p><b>Lifecycle.</b> {@link #close()} stops the server, fails every open stream with {@link
 * StreamStatus.Code#UNAVAILABLE} and releases threads and sockets; later calls throw {@link
 * IllegalStateException}.
 */
public interface Transport extends AutoCloseable {

  /**
   * Starts the publisher endpoint on {@code host:port} (port 0: any free port). At most one per
   * transport.
   *
   * @param acceptor told about every new inbound stream
   * @throws IOException if the address cannot be bound
   */
  Server serve(String host, int port, StreamOptions options, Acceptor acceptor) throws IOException;

  /**
   * Prepares streams to {@code peer} (for gRPC: one channel). Does no I/O; connecting happens
   * when a stream is opened, and a failure to connect arrives as that stream's {@code onClosed}.
   */
  Connection connect(PeerSpec peer, StreamOptions options);

  /** Stops the server and every stream; see the class description. */
  @Override
  void close();

  /**
   * Per-stream options, the same for both ends.
   *
   * @param maxInboundMessageBytes a larger received message fails the stream with {@link
   *     StreamStatus.Code#RESOURCE_EXHAUSTED}
   * @param compression compress what this end sends (gzip); the receiver decompresses whatever
   *     arrives
   */
  record StreamOptions(int maxInboundMessageBytes, boolean compression) {
    public StreamOptions {
      if (maxInboundMessageBytes <= 0) {
        throw new IllegalArgumentException("maxInboundMessageBytes must be positive, got " + maxInboundMessageBytes);
      }
    }
  }

  /** A running publisher endpoint. */
  interface Server extends AutoCloseable {
    /** The port actually bound. */
    int port();

    /**
     * Stops accepting streams and fails the open ones with {@link StreamStatus.Code#UNAVAILABLE};
     * returns once the endpoint is released.
     */
    @Override
    void close();
  }

  /** Called by the transport for every inbound stream, before any of its messages. */
  @FunctionalInterface
  interface Acceptor {
    /** Returns the listener of {@code stream}'s inbound messages. */
    ServerListener accept(ServerStream stream);
  }

  /** The publisher's end of one stream. */
  interface ServerStream {
    /** Queues a message; does not block. Ignored after the stream ended. */
    void send(PublisherMessage message);

    /** True when the transport can take another message without buffering it. */
    boolean isReady();

    /** Ends the stream with {@code status}; the listener is not called after this. */
    void close(StreamStatus status);

    /** The subscriber's address, for logs. */
    String remoteAddress();

    /**
     * The names of the certificate the subscriber authenticated with (SAN DNS names, or the CN
     * when there are none), or empty when this transport does not authenticate subscribers by
     * certificate. When present, the engine admits only a {@code Hello} whose node id is one of
     * them; a present but empty set admits nobody.
     */
    default Optional<Set<String>> certificateNames() {
      return Optional.empty();
    }
  }

  /** Inbound events of one stream on the publisher side. */
  interface ServerListener {
    void onMessage(SubscriberMessage message);

    /** The stream can take messages again after {@link ServerStream#isReady()} was false. */
    void onReady();

    /** The subscriber ended the stream, or the transport failed it. */
    void onClosed(StreamStatus status);
  }

  /** Streams to one peer. */
  interface Connection extends AutoCloseable {
    /** Opens a stream; failures (unreachable peer, ...) arrive as {@code listener.onClosed}. */
    ClientStream open(ClientListener listener);

    /** Releases the connection; open streams are cancelled. */
    @Override
    void close();
  }

  /** The subscriber's end of one stream. */
  interface ClientStream {
    /** Queues a message; does not block. Ignored after the stream ended. */
    void send(SubscriberMessage message);

    /** True when the transport can take another message without buffering it. */
    boolean isReady();

    /** Asks for {@code n} more inbound messages. */
    void request(int n);

    /**
     * Ends the stream from this side; the listener then gets {@code onClosed} with {@link
     * StreamStatus.Code#CANCELLED} and this description.
     */
    void cancel(String description, Throwable cause);
  }

  /** Inbound events of one stream on the subscriber side. */
  interface ClientListener {
    void onMessage(PublisherMessage message);

    /** The stream can take messages again. */
    void onReady();

    /** The stream ended: closed by the publisher, cancelled here, or failed. */
    void onClosed(StreamStatus status);
  }
}
