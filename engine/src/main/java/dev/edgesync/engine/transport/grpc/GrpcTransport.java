package dev.edgesync.engine.transport.grpc;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.logging.RateLimitedLog;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.security.SecuritySettings;
import dev.edgesync.engine.security.TlsMaterial;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.ReplicationGrpc;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Transport} over gRPC/HTTP2 (grpc-netty-shaded): one server per node and one {@link
 * ManagedChannel} per peer. Streams are raw {@link ClientCall}s and {@link ServerCall}s, so flow
 * control is explicit: the subscriber requests each message, the publisher checks {@code isReady}
 * and is woken by {@code onReady} ({@link ClientStreamAdapter}, {@link ServerStreamAdapter}).
 * gzip is set per call when the options ask for it. Message size limits apply to the server and
 * to every channel.
 *
 * <p><b>Security</b> ({@link SecuritySettings}), in grpc-java's layers. TLS is below the
 * transport, in the {@link StreamLayer}: with TLS, the server and every channel use this node's
 * certificate ({@link TlsMaterial}), the server asks for a client certificate, and a channel
 * accepts only a server certificate that names the peer's id. Authentication is in interceptors,
 * in this order: {@link StreamLimitsInterceptor} (a slot per stream), {@link
 * ClientCertificateInterceptor} (with TLS, refuses a stream without a client certificate), {@link
 * ClusterTokenInterceptor} (with a token, checked in constant time; {@link
 * ClusterTokenCredentials} sends it on every call). Then {@link HelloGuard} watches the stream up
 * to its {@code Hello}. What the transport learns about a subscriber (its certificate's names)
 * reaches the engine through {@link Transport.ServerStream#certificateNames()}, where the {@code
 * Hello}'s node id is checked against it. Every refusal ends the stream with a gRPC status whose
 * description says why (and never holds a token), counts {@code
 * edgesync.replication.refused{reason}} and is logged; a flood of the same refusal is logged once
 * per {@value RateLimitedLog#INTERVAL_SECONDS} s with a count ({@link Refusals}).
 *
 * <p><b>Hostile input.</b> The server bounds streams in total and per subscriber id, closes a
 * stream that sends no {@code Hello} within {@code handshakeTimeout} and a connection that does
 * not finish its handshake in that time, refuses oversize messages (gRPC's inbound size limit),
 * and ends a stream whose message is not a valid {@code SubscriberMessage}. Connections that fail
 * before they are ready and streams by final status are counted.
 *
 * <p><b>Lifecycle.</b> The constructor reads the TLS and token files and starts a timer thread
 * that re-reads them every {@link SecuritySettings#reloadInterval()} and runs the Hello
 * deadlines. {@link #close()} shuts every channel down at once, stops the server (waiting up to
 * {@value #SHUTDOWN_GRACE_MILLIS} ms for its calls, then cancelling them) and stops the timer;
 * later {@code serve} and {@code connect} calls throw {@link IllegalStateException}.
 *
 * <p>Thread safety: all methods may be called from any thread; the stream handles serialise
 * their calls because gRPC's call objects are not thread-safe.
 */
public final class GrpcTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);
  private static final String GZIP = "gzip";
  private static final long SHUTDOWN_GRACE_MILLIS = 2000;

  private final String nodeId;
  private final SecuritySettings security;
  private final EngineMetrics metrics;
  private final TlsMaterial tls;
  private final StreamLayer layer;
  private final ClusterTokenKeeper tokens;
  private final StreamLimits limits;
  private final ScheduledExecutorService timers;
  private final Refusals refusals;
  private final HelloGuard helloGuard;
  private final MethodDescriptor<SubscriberMessage, PublisherMessage> method;

  private final Set<ManagedChannel> channels = ConcurrentHashMap.newKeySet();
  // Guarded by this.
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
   * A transport whose servers and channels come from {@code layer} instead of TCP sockets (tests
   * use gRPC's in-process transport). Everything above the layer — limits, interceptors, the
   * Hello guard, the token — works as over sockets; TLS does not, since it lives in the layer.
   *
   * @throws IllegalArgumentException when {@code security} asks for TLS
   */
  static GrpcTransport overStreamLayer(
      String nodeId, SecuritySettings security, EngineMetrics metrics, StreamLayer layer) {
    if (security.tls() != null) {
      throw new IllegalArgumentException("a stream layer other than TCP has no TLS; security.tls must be unset");
    }
    return new GrpcTransport(nodeId, security, metrics, Objects.requireNonNull(layer, "layer"));
  }

  private GrpcTransport(String nodeId, SecuritySettings security, EngineMetrics metrics, StreamLayer layer) {
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.security = Objects.requireNonNull(security, "security");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.refusals = new Refusals(metrics);
    this.limits = new StreamLimits(security.maxInboundStreams(), security.maxStreamsPerPeer());
    MethodDescriptor<SubscriberMessage, PublisherMessage> subscribe = ReplicationGrpc.getSubscribeMethod();
    this.method =
        subscribe.toBuilder(
                new CheckedRequestMarshaller(nodeId, subscribe.getRequestMarshaller()),
                subscribe.getResponseMarshaller())
            .build();
    this.tokens = security.token() == null ? null : tokenKeeper();
    this.tls =
        security.tls() == null
            ? null
            : new TlsMaterial(nodeId, security.tls(), security.peerTls(), metrics, this::tlsRejected);
    this.layer = layer != null ? layer : new NettyStreamLayer(nodeId, tls);
    this.timers =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edgesync-grpc-guard-" + nodeId);
              t.setDaemon(true);
              return t;
            });
    this.helloGuard = new HelloGuard(nodeId, limits, refusals, timers, security.handshakeTimeout());
    if (tls != null || (tokens != null && security.token().file() != null)) {
      long every = security.reloadInterval().toMillis();
      // Not kept: reloadFiles logs its own failures, and close() stops the timer with the task.
      var unused = timers.scheduleWithFixedDelay(this::reloadFiles, every, every, TimeUnit.MILLISECONDS);
    }
  }

  private ClusterTokenKeeper tokenKeeper() {
    try {
      return new ClusterTokenKeeper(nodeId, security.token(), metrics);
    } catch (IOException e) {
      boolean file = security.token().file() != null;
      throw new ConfigException(
          "security settings",
          file ? "security.tokenFile" : "security.token",
          file ? security.token().file().toString() : null,
          e.getMessage(),
          "a readable file with one token per line");
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
        (call, headers) -> startStream(call, options, acceptor);
    ServerServiceDefinition service =
        ServerInterceptors.interceptForward(
            ServerServiceDefinition.builder(ReplicationGrpc.SERVICE_NAME).addMethod(method, handler).build(),
            interceptors());
    io.grpc.Server s =
        layer.serverBuilder(host, port)
            .maxInboundMessageSize(options.maxInboundMessageBytes())
            .handshakeTimeout(security.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .addTransportFilter(new FailedConnectionCounter(nodeId, tls != null, refusals))
            .addStreamTracerFactory(new ClosedStreamCounter(nodeId, metrics, refusals))
            .addService(service)
            .build()
            .start();
    server = s;
    if (!security.authenticates() && layer.reachableFromOtherHosts(host)) {
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

  /** The checks before a stream reaches the engine, first called first. */
  private List<ServerInterceptor> interceptors() {
    List<ServerInterceptor> checks = new ArrayList<>();
    // The slot comes first so that the total cap holds whatever the later checks cost.
    checks.add(new StreamLimitsInterceptor(nodeId, limits, refusals));
    if (tls != null) {
      checks.add(new ClientCertificateInterceptor(nodeId, refusals));
    }
    if (tokens != null) {
      checks.add(new ClusterTokenInterceptor(nodeId, tokens, refusals));
    }
    return checks;
  }

  /** A stream that passed the interceptors: it goes to the engine, behind the Hello guard. */
  private ServerCall.Listener<SubscriberMessage> startStream(
      ServerCall<SubscriberMessage, PublisherMessage> call, StreamOptions options, Acceptor acceptor) {
    if (options.compression()) {
      call.setCompression(GZIP);
    }
    call.sendHeaders(new Metadata());
    ServerStreamAdapter side = new ServerStreamAdapter(call, InboundPeer.of(call));
    ServerCall.Listener<SubscriberMessage> events = side.accept(acceptor);
    ServerCall.Listener<SubscriberMessage> guarded =
        helloGuard.guard(side, events, StreamLimitsInterceptor.SLOT.get());
    side.request();
    return guarded;
  }

  @Override
  public Connection connect(PeerSpec peer, StreamOptions options) {
    synchronized (this) {
      checkOpen();
    }
    ManagedChannel channel =
        layer.channelBuilder(peer).maxInboundMessageSize(options.maxInboundMessageBytes()).build();
    channels.add(channel);
    CallCredentials credentials = tokens == null ? null : new ClusterTokenCredentials(tokens);
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
        return ClientStreamAdapter.start(channel.newCall(method, callOptions), listener);
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

  /** A TLS handshake refused by {@link TlsMaterial}: a subscriber's, or ours to a peer. */
  private void tlsRejected(String peerId, String reason, String message) {
    if (peerId == null) {
      refusals.record(reason, "node '" + nodeId + "' refused a connection: " + message);
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

  private synchronized void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the gRPC transport is closed");
    }
  }
}
