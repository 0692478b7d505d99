package dev.edgesync.engine.transport.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.replication.ReplicationSettings;
import dev.edgesync.engine.replication.TestNode;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.security.ClusterToken;
import dev.edgesync.engine.security.SecuritySettings;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.ReplicationGrpc;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The replication server's checks before and at the {@code Hello}, over gRPC's in-process
 * transport (no sockets): the cluster token, the stream caps, the Hello deadline, malformed
 * messages, and the allowlist through a real engine. TLS is covered by {@link GrpcTlsTest}.
 */
class GrpcTransportSecurityTest {
  private static final String TOKEN = "cluster-token-0123456789abcdef";
  private static final String OTHER_TOKEN = "another-token-fedcba9876543210";
  private static final Transport.StreamOptions OPTIONS = new Transport.StreamOptions(1 << 20, false);
  private static int names;

  @TempDir Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final String name = "security-test-" + ++names + "-" + System.nanoTime();
  private final EngineMetrics serverMetrics = EngineMetrics.noRegistry();
  private final List<Transport.ServerStream> accepted = new CopyOnWriteArrayList<>();
  private final List<SubscriberMessage> received = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private GrpcTransport server(SecuritySettings security) throws IOException {
    GrpcTransport t = InProcessGrpc.transport(name, "site-a", security, serverMetrics);
    toClose.add(t);
    t.serve("ignored", 0, OPTIONS, stream -> {
      accepted.add(stream);
      return new Transport.ServerListener() {
        @Override
        public void onMessage(SubscriberMessage message) {
          received.add(message);
        }

        @Override
        public void onReady() {}

        @Override
        public void onClosed(StreamStatus status) {}
      };
    });
    return t;
  }

  private Transport.Connection client(SecuritySettings security) {
    GrpcTransport t = InProcessGrpc.transport(name, "site-b", security, EngineMetrics.noRegistry());
    toClose.add(t);
    return t.connect(new PeerSpec("site-a", name, 7400), OPTIONS);
  }

  /** One client stream: what it was told when it ended. */
  private static final class Probe implements Transport.ClientListener {
    final AtomicReference<StreamStatus> closed = new AtomicReference<>();
    Transport.ClientStream stream;

    static Probe open(Transport.Connection c, String helloId) {
      Probe p = new Probe();
      p.stream = c.open(p);
      if (helloId != null) {
        p.stream.send(hello(helloId));
      }
      p.stream.request(1);
      return p;
    }

    @Override
    public void onMessage(PublisherMessage message) {}

    @Override
    public void onReady() {}

    @Override
    public void onClosed(StreamStatus status) {
      closed.set(status);
    }

    StreamStatus awaitClosed() {
      await().atMost(Duration.ofSeconds(10)).until(() -> closed.get() != null);
      return closed.get();
    }
  }

  private static SubscriberMessage hello(String id) {
    return SubscriberMessage.newBuilder()
        .setHello(Hello.newBuilder().setCluster("prod").setNodeId(id).setProtocolVersion(ProtocolVersion.CURRENT))
        .build();
  }

  private double refused(String reason) {
    return serverMetrics.refused(reason).count();
  }

  // ------------------------------------------------------------------ token

  @Test
  void streamWithoutTokenIsRefusedUnauthenticated() throws IOException {
    server(SecuritySettings.none().withToken(ClusterToken.of(TOKEN, "t")));
    Probe p = Probe.open(client(SecuritySettings.none()), "site-b");
    StreamStatus s = p.awaitClosed();
    assertEquals(StreamStatus.Code.UNAUTHENTICATED, s.code());
    assertTrue(s.description().contains("token is missing"), s.description());
    assertEquals(1, refused("missing_token"));
    assertTrue(accepted.isEmpty() && received.isEmpty(), "nothing reaches the engine");
  }

  @Test
  void wrongTokenIsRefusedAndNeverShownInStatusOrLog() throws IOException {
    ListAppender<ILoggingEvent> logs = captureLogs();
    server(SecuritySettings.none().withToken(ClusterToken.of(TOKEN, "t")));
    Transport.Connection c = client(SecuritySettings.none().withToken(ClusterToken.of(OTHER_TOKEN, "t")));
    for (int i = 0; i < 3; i++) {
      StreamStatus s = Probe.open(c, "site-b").awaitClosed();
      assertEquals(StreamStatus.Code.UNAUTHENTICATED, s.code());
      assertTrue(s.description().contains("token is wrong"), s.description());
      assertFalse(s.description().contains(TOKEN) || s.description().contains(OTHER_TOKEN), s.description());
    }
    assertEquals(3, refused("bad_token"));
    assertTrue(accepted.isEmpty());
    assertFalse(logs.list.isEmpty(), "the refusal is logged");
    for (ILoggingEvent e : logs.list) {
      assertFalse(e.getFormattedMessage().contains(TOKEN) || e.getFormattedMessage().contains(OTHER_TOKEN), e.getFormattedMessage());
    }
  }

  @Test
  void rightTokenReachesTheEngine() throws IOException {
    server(SecuritySettings.none().withToken(ClusterToken.of(TOKEN, "t")));
    Probe.open(client(SecuritySettings.none().withToken(ClusterToken.of(TOKEN, "t"))), "site-b");
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
    assertEquals("site-b", received.get(0).getHello().getNodeId());
    assertEquals(0, refused("bad_token") + refused("missing_token"));
  }

  @Test
  void tokenFileRotationAcceptsOldAndNewThenOnlyNew() throws IOException {
    Path file = dir.resolve("token");
    Files.writeString(file, OTHER_TOKEN + "\n" + TOKEN + "\n");
    server(SecuritySettings.none().withToken(ClusterToken.fromFile(file)).withReloadInterval(Duration.ofMillis(50)));
    Transport.Connection old = client(SecuritySettings.none().withToken(ClusterToken.of(TOKEN, "t")));
    Probe.open(old, "site-b");
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
    Files.writeString(file.resolveSibling("token.tmp"), OTHER_TOKEN + "\n");
    Files.move(file.resolveSibling("token.tmp"), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    await().atMost(Duration.ofSeconds(10)).until(() -> serverMetrics.securityReloads("token", "ok").count() == 1);
    assertEquals(StreamStatus.Code.UNAUTHENTICATED, Probe.open(old, "site-b").awaitClosed().code());
    Probe.open(client(SecuritySettings.none().withToken(ClusterToken.of(OTHER_TOKEN, "t"))), "site-b");
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2);
  }

  // ------------------------------------------------------------------ stream caps and deadlines

  @Test
  void totalStreamCapRefusesBeyondWithResourceExhausted() throws IOException {
    GrpcTransport server = server(SecuritySettings.none().withStreamLimits(3, 1));
    Transport.Connection c = client(SecuritySettings.none());
    List<Probe> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      held.add(Probe.open(c, "site-" + i));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
    StreamStatus s = Probe.open(c, "site-x").awaitClosed();
    assertEquals(StreamStatus.Code.RESOURCE_EXHAUSTED, s.code());
    assertTrue(s.description().contains("limits.maxInboundStreams"), s.description());
    assertEquals(1, refused("too_many_streams"));
    held.get(0).stream.cancel("done", null);
    await().atMost(Duration.ofSeconds(10)).until(() -> server.openInboundStreams() == 2);
    Probe.open(c, "site-y");
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 4);
  }

  @Test
  void perPeerCapRefusesAThirdStreamOfOneId() throws IOException {
    server(SecuritySettings.none().withStreamLimits(10, 2));
    Transport.Connection c = client(SecuritySettings.none());
    Probe.open(c, "site-b");
    Probe.open(c, "site-b");
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2);
    StreamStatus s = Probe.open(c, "site-b").awaitClosed();
    assertEquals(StreamStatus.Code.RESOURCE_EXHAUSTED, s.code());
    assertTrue(s.description().contains("limits.maxStreamsPerPeer"), s.description());
    assertEquals(1, refused("too_many_streams_per_peer"));
    Probe.open(c, "site-c");
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
  }

  @Test
  void streamThatSendsNoHelloIsClosedAfterTheHandshakeTimeout() throws IOException {
    GrpcTransport server = server(SecuritySettings.none().withHandshakeTimeout(Duration.ofMillis(200)));
    Probe silent = Probe.open(client(SecuritySettings.none()), null);
    StreamStatus s = silent.awaitClosed();
    assertEquals(StreamStatus.Code.DEADLINE_EXCEEDED, s.code());
    assertTrue(s.description().contains("no Hello"), s.description());
    assertEquals(1, refused("hello_timeout"));
    await().atMost(Duration.ofSeconds(10)).until(() -> server.openInboundStreams() == 0);
  }

  @Test
  void malformedMessagesEndTheirStreamAndTheServerGoesOn() throws IOException {
    GrpcTransport server = server(SecuritySettings.none());
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    toClose.add(channel::shutdownNow);
    SplittableRandom random = new SplittableRandom(7);
    int malformed = 0;
    for (int i = 0; i < 20; i++) {
      byte[] junk = new byte[1 + random.nextInt(200)];
      random.nextBytes(junk);
      // A field with wire type 7 does not exist: never a valid message, whatever follows.
      junk[0] = (byte) 0x0f;
      Status s = sendRaw(channel, junk);
      assertFalse(s.isOk(), "garbage must not be taken: " + s);
      malformed++;
    }
    assertEquals(malformed, refused("malformed_message"));
    await().atMost(Duration.ofSeconds(10)).until(() -> server.openInboundStreams() == 0);
    Probe.open(client(SecuritySettings.none()), "site-b");
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
  }

  /** Sends {@code bytes} as one gRPC message of the Subscribe method, returns how the call ended. */
  static Status sendRaw(io.grpc.Channel channel, byte[] bytes) {
    MethodDescriptor<byte[], byte[]> raw =
        ReplicationGrpc.getSubscribeMethod().toBuilder(new BytesMarshaller(), new BytesMarshaller()).build();
    ClientCall<byte[], byte[]> call = channel.newCall(raw, CallOptions.DEFAULT);
    AtomicReference<Status> status = new AtomicReference<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status s, Metadata trailers) {
            status.set(s);
          }
        },
        new Metadata());
    call.request(10);
    call.sendMessage(bytes);
    call.halfClose();
    await().atMost(Duration.ofSeconds(10)).until(() -> status.get() != null);
    return status.get();
  }

  /** Passes bytes through unparsed. */
  static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  // ------------------------------------------------------------------ allowlist, through an engine

  @Test
  void subscriberNotOnTheAllowlistIsRefusedAndCounted() throws Exception {
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    toClose.add(scheduler::shutdownNow);
    ReplicationSettings base =
        ReplicationSettings.defaults("site-a", "prod")
            .withListen("localhost", 0)
            .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(2))
            .withReconnect(Duration.ofMillis(20), Duration.ofMillis(200));
    TestNode a =
        new TestNode(
            "site-a", dir.resolve("a"), new MemoryKvStore(), Clock.systemUTC(),
            base.withSecurity(SecuritySettings.none().withAllowedPeers(Set.of("site-c"))),
            InProcessGrpc.transport(name, "site-a", SecuritySettings.none(), EngineMetrics.noRegistry()),
            "localhost", scheduler, 1);
    toClose.add(a);
    a.engine.start();
    a.put("secret", "v");
    ReplicationSettings bSettings =
        ReplicationSettings.defaults("site-b", "prod")
            .withListen("localhost", 0)
            .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(2))
            .withReconnect(Duration.ofMillis(20), Duration.ofMillis(200))
            .withMessageBounds(1 << 20, 2 << 20);
    TestNode b =
        new TestNode(
            "site-b", dir.resolve("b"), new MemoryKvStore(), Clock.systemUTC(), bSettings,
            InProcessGrpc.transport(name + "-b", "site-b", SecuritySettings.none(), EngineMetrics.noRegistry()),
            "localhost", scheduler, 2);
    toClose.add(b);
    b.engine.addPeer(new PeerSpec("site-a", name, 7400));
    b.engine.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.metrics.refused("not_allowed").count() >= 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> b.status("site-a").lastError() != null);
    String error = b.status("site-a").lastError();
    assertTrue(error.contains("security.allowedPeers"), error);
    assertTrue(b.value("secret").isEmpty(), "a refused subscriber receives nothing");
    assertNotNull(a.get("secret"));
  }

  private static ListAppender<ILoggingEvent> captureLogs() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    root.addAppender(appender);
    return appender;
  }
}
