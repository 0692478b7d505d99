package dev.edgesync.engine.transport.grpc;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.logging.RateLimitedLog;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.security.CertificateNames;
import dev.edgesync.engine.security.ClusterToken;
import dev.edgesync.engine.security.SecuritySettings;
import dev.edgesync.engine.security.TlsMaterial;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.ReplicationGrpc;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.Attributes;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Transport} over gRPC/HTTP2 (grpc-netty-shaded): one server per node and one {@link
 * ManagedChannel} per peer. Streams are raw {@link ClientCall}s and {@link ServerCall}s, so flow
 * control is explicit: the subscriber requests each message, the publisher checks {@code isReady}
 * and is woken by {@code onReady}. gzip is set per call when the options ask for it. Message size
 * limits apply to the server and to every channel.
 *
 * <p><b>Security</b> ({@link SecuritySettings}). With TLS, the server and every channel use this
 * node's certificate; the server asks for a client certificate and refuses a stream without one,
 * and a channel accepts only a server certificate that names the peer's id. With a token, every
 * call carries it and the server checks it in constant time. What the transport learns about a
 * subscriber (its certificate's names) reaches the engine through {@link
 * Transport.ServerStream#certificateNames()}, where the {@code Hello}'s node id is checked
 * against it. Every refusal ends the stream with a gRPC status whose description says why (and
 * never holds a token), counts {@code edgesync.replication.refused{reason}} and is logged; a flood
 * of the same refusal is logged once per {@value RateLimitedLog#INTERVAL_SECONDS} s with a count.
 *
 * <p><b>Hostile input.</b> The server bounds streams in total and per subscriber id, closes a
 * stream that sends no {@code Hello} within {@code handshakeTimeout} and a connection that does
 * not finish its handshake in that time, refuses oversize messages (gRPC's inbound size limit),
 * and ends a stream whose message is not a valid {@code SubscriberMessage}. Connections that fail
 * before they are ready and streams by final status are counted.
 *
 * <p>Thread safety: all methods may be called from any thread; the stream handles serialise
 * their calls because gRPC's call objects are not thread-safe.
 */
public final class GrpcTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);
  private static final String GZIP = "gzip";
  private static final long SHUTDOWN_GRACE_MILLIS = 2000;

  /** The header that carries the cluster token. */
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String BEARER = "bearer ";

  /** HTTP/2 streams one connection may hold at once; a subscriber needs one (two in a reconnect). */
  static final int MAX_STREAMS_PER_CONNECTION = 8;

  /** A connection without streams for this long is closed. */
  static final Duration MAX_CONNECTION_IDLE = Duration.ofMinutes(5);

  /** Largest header block accepted; the token is at most 4 KiB. */
  static final int MAX_METADATA_BYTES = 16 * 1024;

  private static final Attributes.Key<Boolean> READY = Attributes.Key.create("edgesync.ready");

  /**
   * What the request marshaller returns for bytes that are not a {@code SubscriberMessage}
   * (compared by reference): the stream's listener then ends the stream. Throwing from the
   * marshaller instead would make gRPC log a stack trace per malformed message.
   */
  private static final SubscriberMessage MALFORMED =
      SubscriberMessage.newBuilder()
          .setRefusal(dev.edgesync.proto.Refusal.newBuilder().setMessage("(not a valid SubscriberMessage)"))
          .build();

  /** True for {@link #MALFORMED} itself, not for a message equal to it. */
  // Reference equality on purpose: a peer may send a message equal in value to the sentinel.
  @SuppressWarnings("ReferenceEquality")
  private static boolean isMalformed(SubscriberMessage message) {
    return message == MALFORMED;
  }

  private final String nodeId;
  private final SecuritySettings security;
  private final EngineMetrics metrics;
  private final String inProcessName;
  private final TlsMaterial tls;
  private final TokenKeeper tokens;
  private final StreamLimits limits;
  private final ScheduledExecutorService timers;
  private final RateLimitedLog refusalLog = new RateLimitedLog(log);
  private final MethodDescriptor<SubscriberMessage, PublisherMessage> method;

  private final Set<ManagedChannel> channels = ConcurrentHashMap.newKeySet();
  private io.grpc.Server server;
  private boolean closed;

  /** A plaintext transport without authentication; nothing is bound or connected yet. */
  public GrpcTransport() {
    this("unnamed", SecuritySettings.none(), EngineMetrics.noRegistry());
  }

  /**
   * A transport with the given security; reads the TLS and token files now, and starts checking
   * them for changes every {@link SecuritySettings#reloadInterval()}.
   *
   * @param nodeId this node's id, for messages and for checking its own certificate
   * @throws ConfigException naming the setting and file when a TLS or token file cannot be used
   */
  public GrpcTransport(String nodeId, SecuritySettings security, EngineMetrics metrics) {
    this(nodeId, security, metrics, null);
  }

  /**
   * A transport over gRPC's in-process transport, for tests of everything but TLS: {@link
   * #serve} ignores host and port and serves under {@code name}; {@link #connect} connects to
   * the in-process server named by the peer's host.
   */
  static GrpcTransport inProcess(String name, String nodeId, SecuritySettings security, EngineMetrics metrics) {
    if (security.tls() != null) {
      throw new IllegalArgumentException("the in-process transport has no TLS");
    }
    return new GrpcTransport(nodeId, security, metrics, Objects.requireNonNull(name, "name"));
  }

  private GrpcTransport(String nodeId, SecuritySettings security, EngineMetrics metrics, String inProcessName) {
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.security = Objects.requireNonNull(security, "security");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.inProcessName = inProcessName;
    this.limits = new StreamLimits(security.maxInboundStreams(), security.maxStreamsPerPeer());
    this.method =
        ReplicationGrpc.getSubscribeMethod().toBuilder(
                new CheckedRequestMarshaller(ReplicationGrpc.getSubscribeMethod().getRequestMarshaller()),
                ReplicationGrpc.getSubscribeMethod().getResponseMarshaller())
            .build();
    TokenKeeper tk = null;
    if (security.token() != null) {
      try {
        tk = new TokenKeeper(security.token());
      } catch (IOException e) {
        throw new ConfigException(
            "security settings",
            security.token().file() != null ? "security.tokenFile" : "security.token",
            security.token().file() != null ? security.token().file().toString() : null,
            e.getMessage(),
            "a readable file with one token per line");
      }
    }
    this.tokens = tk;
    this.tls =
        security.tls() == null
            ? null
            : new TlsMaterial(nodeId, security.tls(), security.peerTls(), metrics, this::tlsRejected);
    this.timers =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edgesync-grpc-guard-" + nodeId);
              t.setDaemon(true);
              return t;
            });
    if (tls != null || (tokens != null && security.token().file() != null)) {
      long every = security.reloadInterval().toMillis();
      // Not kept: reloadFiles logs its own failures, and close() stops the timer with the task.
      var unused = timers.scheduleWithFixedDelay(this::reloadFiles, every, every, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public synchronized Server serve(String host, int port, StreamOptions options, Acceptor acceptor)
      throws IOException {
    checkOpen();
    if (server != null) {
      throw new IllegalStateException("this transport already serves on port " + server.getPort());
    }
    ServerCallHandler<SubscriberMessage, PublisherMessage> handler =
        (call, headers) -> onNewCall(call, headers, options, acceptor);
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(ReplicationGrpc.SERVICE_NAME).addMethod(method, handler).build();
    ServerBuilder<?> builder;
    if (inProcessName != null) {
      builder = InProcessServerBuilder.forName(inProcessName);
    } else {
      NettyServerBuilder netty =
          NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
              .maxConcurrentCallsPerConnection(MAX_STREAMS_PER_CONNECTION)
              .maxConnectionIdle(MAX_CONNECTION_IDLE.toMillis(), TimeUnit.MILLISECONDS)
              .maxInboundMetadataSize(MAX_METADATA_BYTES);
      if (tls != null) {
        netty.sslContext(serverSslContext());
      }
      builder = netty;
    }
    io.grpc.Server s =
        builder
            .maxInboundMessageSize(options.maxInboundMessageBytes())
            .handshakeTimeout(security.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .addTransportFilter(new ConnectionFilter())
            .addStreamTracerFactory(new ClosedStreams())
            .addService(service)
            .build()
            .start();
    server = s;
    if (!security.authenticates() && inProcessName == null && !isLoopback(host)) {
      log.warn(
          "node {}: replication on {}:{} is open to anyone who can reach it (no security.tls, no"
              + " security.token): they can read every key; see docs/SECURITY.md",
          nodeId, host, s.getPort());
    } else if (tls == null && tokens != null) {
      log.warn(
          "node {}: the cluster token travels in plaintext (no security.tls): anyone on the path can"
              + " read it and the data; use TLS between sites",
          nodeId);
    }
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
    ManagedChannelBuilder<?> builder;
    if (inProcessName != null) {
      builder = InProcessChannelBuilder.forName(peer.host());
    } else {
      NettyChannelBuilder netty = NettyChannelBuilder.forAddress(peer.host(), peer.port());
      if (tls != null) {
        netty.sslContext(clientSslContext(peer.id()));
      } else {
        netty.usePlaintext();
      }
      builder = netty;
    }
    ManagedChannel channel = builder.maxInboundMessageSize(options.maxInboundMessageBytes()).build();
    channels.add(channel);
    CallCredentials credentials = tokens == null ? null : new TokenCredentials(tokens);
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
        if (credentials != null) {
          callOptions = callOptions.withCallCredentials(credentials);
        }
        ClientCall<SubscriberMessage, PublisherMessage> call = channel.newCall(method, callOptions);
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
    timers.shutdownNow();
  }

  /** Streams the server holds now (for tests). */
  int openInboundStreams() {
    return limits.open();
  }

  // ------------------------------------------------------------------ TLS

  private SslContext serverSslContext() {
    try {
      // OPTIONAL rather than REQUIRE: a client without a certificate completes the handshake and
      // is then refused with UNAUTHENTICATED and a message it can act on, and the refusal is
      // counted; REQUIRE would leave both sides with a bare handshake alert. A certificate that
      // is presented is always checked against the trusted CAs during the handshake.
      return GrpcSslContexts.configure(SslContextBuilder.forServer(tls.keyManager()), SslProvider.JDK)
          .trustManager(tls.serverTrust())
          .clientAuth(ClientAuth.OPTIONAL)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("node '" + nodeId + "' cannot set up TLS for its server: " + e.getMessage(), e);
    }
  }

  private SslContext clientSslContext(String peerId) {
    try {
      return GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
          .keyManager(tls.keyManager())
          .trustManager(tls.clientTrust(peerId))
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("node '" + nodeId + "' cannot set up TLS to peer '" + peerId + "': " + e.getMessage(), e);
    }
  }

  private void tlsRejected(String peerId, String reason, String message) {
    if (peerId == null) {
      refused(reason, "node '" + nodeId + "' refused a connection: " + message);
    } else {
      // The subscription's own stream failure carries the same message to the log and /status.
      metrics.errors(peerId, reason).increment();
    }
  }

  private void reloadFiles() {
    try {
      if (tls != null) {
        tls.reload();
      }
      if (tokens != null) {
        tokens.reload();
      }
    } catch (RuntimeException e) {
      // A bug here must not stop later polls (a scheduled task that throws is never run again).
      log.error("node {}: checking the TLS and token files for changes failed", nodeId, e);
    }
  }

  // ------------------------------------------------------------------ server side

  private ServerCall.Listener<SubscriberMessage> onNewCall(
      ServerCall<SubscriberMessage, PublisherMessage> call,
      Metadata headers,
      StreamOptions options,
      Acceptor acceptor) {
    String remote = remoteAddress(call);
    StreamLimits.Slot slot = limits.tryOpen();
    if (slot == null) {
      return refuse(
          call,
          Status.RESOURCE_EXHAUSTED,
          "too_many_streams",
          "node '" + nodeId + "' already serves " + limits.maxTotal()
              + " replication streams (limits.maxInboundStreams); refused a stream from " + remote + ", try again later");
    }
    boolean started = false;
    try {
      Optional<Set<String>> names = Optional.empty();
      if (tls != null) {
        X509Certificate certificate = clientCertificate(call);
        if (certificate == null) {
          return refuse(
              call,
              Status.UNAUTHENTICATED,
              "no_client_certificate",
              "node '" + nodeId + "' requires a client certificate signed by its trusted CA (security.tls.ca);"
                  + " the connection from " + remote + " presented none");
        }
        names = Optional.of(CertificateNames.of(certificate));
        remote = remote + " (" + CertificateNames.describe(certificate) + ")";
      }
      if (tokens != null) {
        String problem = tokens.check(headers.get(AUTHORIZATION));
        if (problem != null) {
          return refuse(
              call,
              Status.UNAUTHENTICATED,
              problem,
              "node '" + nodeId + "' refused a stream from " + remote + ": the cluster token is "
                  + (problem.equals("missing_token") ? "missing" : "wrong")
                  + "; every node needs the same security.token, security.tokenFile or EDGESYNC_TOKEN");
        }
      }
      ServerCall.Listener<SubscriberMessage> listener = startServerCall(call, options, acceptor, slot, names, remote);
      started = true;
      return listener;
    } finally {
      if (!started) {
        slot.release();
      }
    }
  }

  private ServerCall.Listener<SubscriberMessage> refuse(
      ServerCall<SubscriberMessage, PublisherMessage> call, Status status, String reason, String message) {
    refused(reason, message);
    call.close(status.withDescription(message), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** Logs, then counts: whoever sees the count can find the line. */
  private void refused(String reason, String message) {
    refusalLog.warn(reason, message);
    metrics.refused(reason).increment();
  }

  private ServerCall.Listener<SubscriberMessage> startServerCall(
      ServerCall<SubscriberMessage, PublisherMessage> call,
      StreamOptions options,
      Acceptor acceptor,
      StreamLimits.Slot slot,
      Optional<Set<String>> names,
      String remote) {
    if (options.compression()) {
      call.setCompression(GZIP);
    }
    call.sendHeaders(new Metadata());
    ServerSide side = new ServerSide(call, slot, names, remote);
    ServerListener listener = acceptor.accept(side);
    try {
      side.helloDeadline(
          timers.schedule(
              () -> {
                if (side.timeOutHello()) {
                  String message =
                      "node '" + nodeId + "' closed a stream from " + remote + " that sent no Hello within "
                          + security.handshakeTimeout().toMillis() + " ms (limits.handshakeTimeout)";
                  refused("hello_timeout", message);
                  abort(side, listener, Status.DEADLINE_EXCEEDED.withDescription(message));
                }
              },
              security.handshakeTimeout().toMillis(),
              TimeUnit.MILLISECONDS));
    } catch (RejectedExecutionException e) {
      // The transport is closing; the server stops every call.
    }
    side.request();
    return new ServerCall.Listener<>() {
      @Override
      public void onMessage(SubscriberMessage message) {
        ServerSide.Inbound in = side.inbound();
        if (in == ServerSide.Inbound.LATE) {
          return;
        }
        if (isMalformed(message)) {
          String text =
              "node '" + nodeId + "' received a replication message from " + remote
                  + " that is not a valid SubscriberMessage; closing its stream";
          refused("malformed_message", text);
          abort(side, listener, Status.INVALID_ARGUMENT.withDescription(text));
          return;
        }
        if (in == ServerSide.Inbound.FIRST && message.hasHello()) {
          String id = message.getHello().getNodeId();
          // Only ids the engine may accept take a per-peer slot (a valid id its certificate, if
          // any, names): a certificate holder cannot use up the slots of another node's id.
          boolean mayBeAccepted = PeerSpec.isValidId(id) && names.map(n -> n.contains(id)).orElse(true);
          if (mayBeAccepted && !slot.bind(id)) {
            String text =
                "node '" + nodeId + "' already serves " + limits.maxPerPeer() + " streams to subscriber '" + id
                    + "' (limits.maxStreamsPerPeer); refused another from " + remote;
            refused("too_many_streams_per_peer", text);
            abort(side, listener, Status.RESOURCE_EXHAUSTED.withDescription(text));
            return;
          }
        }
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
        side.released();
      }

      @Override
      public void onComplete() {
        // Reached after this side closed the call; the listener was told then.
        if (side.endedByRemote()) {
          listener.onClosed(StreamStatus.of(StreamStatus.Code.OK, "the stream ended"));
        }
        side.released();
      }

      @Override
      public void onReady() {
        listener.onReady();
      }
    };
  }

  /** Ends {@code side} with {@code status} from this end and tells its listener, once. */
  private static void abort(ServerSide side, ServerListener listener, Status status) {
    if (side.endedByRemote()) {
      side.finish(status);
      listener.onClosed(fromGrpc(status));
    }
  }

  private static X509Certificate clientCertificate(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  private static String remoteAddress(ServerCall<?, ?> call) {
    SocketAddress address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    return address == null ? "an unknown address" : address.toString();
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
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

  // ------------------------------------------------------------------ hooks into the gRPC server

  /**
   * Parses subscriber messages; what is not a valid {@code SubscriberMessage} becomes {@link
   * #MALFORMED}, which ends its stream with {@code INVALID_ARGUMENT}, counted and logged.
   */
  private final class CheckedRequestMarshaller implements MethodDescriptor.Marshaller<SubscriberMessage> {
    private final MethodDescriptor.Marshaller<SubscriberMessage> delegate;

    CheckedRequestMarshaller(MethodDescriptor.Marshaller<SubscriberMessage> delegate) {
      this.delegate = delegate;
    }

    @Override
    public InputStream stream(SubscriberMessage value) {
      return delegate.stream(value);
    }

    @Override
    public SubscriberMessage parse(InputStream stream) {
      try {
        return delegate.parse(stream);
      } catch (RuntimeException e) {
        log.debug("node {}: a replication message does not parse", nodeId, e);
        return MALFORMED;
      }
    }
  }

  /** Counts inbound streams by final status, and reports oversize messages. */
  private final class ClosedStreams extends ServerStreamTracer.Factory {
    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
      return new ServerStreamTracer() {
        @Override
        public void streamClosed(Status status) {
          metrics.inboundStreamsClosed(status.getCode().name()).increment();
          String description = status.getDescription();
          if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED
              && description != null
              && description.toLowerCase(Locale.ROOT).contains("exceeds maximum")) {
            refused(
                "message_too_large",
                "node '" + nodeId + "' closed a replication stream whose message is too large (" + description
                    + "; replication.maxInboundMessageBytes follows limits.maxValueBytes and batchMaxBytes)");
          }
        }
      };
    }
  }

  /** Counts connections that end before they are ready (failed TLS or HTTP/2 handshake). */
  private final class ConnectionFilter extends ServerTransportFilter {
    @Override
    public Attributes transportReady(Attributes attributes) {
      return attributes.toBuilder().set(READY, Boolean.TRUE).build();
    }

    @Override
    public void transportTerminated(Attributes attributes) {
      if (attributes == null || attributes.get(READY) == null) {
        SocketAddress address = attributes == null ? null : attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        refusalLog.warn(
            "connection_failed",
            "node '" + nodeId + "': a connection" + (address == null ? "" : " from " + address)
                + " ended before its " + (tls != null ? "TLS " : "") + "handshake completed ("
                + (tls != null ? "no TLS, an untrusted certificate, " : "not HTTP/2, ") + "garbage, or slower than"
                + " limits.handshakeTimeout)");
        metrics.inboundConnectionsFailed().increment();
      }
    }
  }

  // ------------------------------------------------------------------ the token

  /** The cluster token in force, re-read from its file when that changes. */
  private final class TokenKeeper {
    private final ClusterToken.Keeper keeper;
    private String failed;

    TokenKeeper(ClusterToken token) throws IOException {
      this.keeper = token.keeper();
    }

    /** Returns null when {@code header} carries an accepted token, else the refusal reason. */
    String check(String header) {
      if (header == null) {
        return "missing_token";
      }
      if (header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
        return "bad_token";
      }
      return keeper.accepts(header.substring(BEARER.length()).strip()) ? null : "bad_token";
    }

    String header() {
      return "Bearer " + keeper.sent();
    }

    synchronized void reload() {
      try {
        if (keeper.reload()) {
          failed = null;
          log.info(
              "node {}: reloaded the cluster token from {} ({} accepted token(s))",
              nodeId, keeper.token().file(), keeper.acceptedCount());
          metrics.securityReloads("token", "ok").increment();
        }
      } catch (IOException e) {
        metrics.securityReloads("token", "failed").increment();
        if (!String.valueOf(e.getMessage()).equals(failed)) {
          failed = String.valueOf(e.getMessage());
          log.warn("node {}: cannot reload the cluster token ({}); keeping the token in force", nodeId, e.getMessage());
        }
      }
    }
  }

  /** Puts {@code authorization: Bearer <token>} on every call. */
  private static final class TokenCredentials extends CallCredentials {
    private final TokenKeeper tokens;

    TokenCredentials(TokenKeeper tokens) {
      this.tokens = tokens;
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor appExecutor, MetadataApplier applier) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, tokens.header());
      applier.apply(headers);
    }
  }

  // ------------------------------------------------------------------ the two ends of a stream

  /** The publisher's end of a gRPC call. */
  private static final class ServerSide implements ServerStream {
    enum Inbound {
      FIRST,
      LATER,
      LATE
    }

    private final ServerCall<SubscriberMessage, PublisherMessage> call;
    private final StreamLimits.Slot slot;
    private final Optional<Set<String>> certificateNames;
    private final String remote;
    // ended: no more sends or listener calls; callClosed: call.close was called (exactly once).
    private boolean ended;
    private boolean callClosed;
    // helloSeen: a first message arrived; helloTimedOut: the deadline passed before one did.
    private boolean helloSeen;
    private boolean helloTimedOut;
    private ScheduledFuture<?> helloDeadline;

    ServerSide(
        ServerCall<SubscriberMessage, PublisherMessage> call,
        StreamLimits.Slot slot,
        Optional<Set<String>> certificateNames,
        String remote) {
      this.call = call;
      this.slot = slot;
      this.certificateNames = certificateNames;
      this.remote = remote;
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
      return remote;
    }

    @Override
    public Optional<Set<String>> certificateNames() {
      return certificateNames;
    }

    synchronized void helloDeadline(ScheduledFuture<?> deadline) {
      if (helloSeen || ended) {
        deadline.cancel(false);
      } else {
        helloDeadline = deadline;
      }
    }

    /** Classifies an inbound message: the first, a later one, or one after the deadline passed. */
    synchronized Inbound inbound() {
      if (helloTimedOut || ended) {
        return Inbound.LATE;
      }
      if (helloSeen) {
        return Inbound.LATER;
      }
      helloSeen = true;
      if (helloDeadline != null) {
        helloDeadline.cancel(false);
      }
      return Inbound.FIRST;
    }

    /** True when the deadline passed with no message: the caller then ends the stream. */
    synchronized boolean timeOutHello() {
      if (helloSeen || ended) {
        return false;
      }
      helloTimedOut = true;
      return true;
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

    /** The call is over: its stream slot and timer go. */
    synchronized void released() {
      ended = true;
      if (helloDeadline != null) {
        helloDeadline.cancel(false);
      }
      slot.release();
    }

    synchronized void finish(Status status) {
      ended = true;
      if (helloDeadline != null) {
        helloDeadline.cancel(false);
      }
      if (callClosed) {
        return;
      }
      callClosed = true;
      if (!call.isCancelled()) {
        call.close(status, new Metadata());
      }
      // gRPC follows with onComplete or onCancel, which release the slot; releasing here too
      // makes the slot free as soon as this end has decided.
      slot.release();
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
