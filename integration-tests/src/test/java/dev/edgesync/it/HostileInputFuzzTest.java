package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.RateLimiter;
import com.google.protobuf.ByteString;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.proto.Ack;
import dev.edgesync.proto.Heartbeat;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.ReplicationGrpc;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node under attack on both of its ports while it syncs with a real peer: raw TCP garbage, an
 * HTTP/2 preface followed by garbage frames, valid gRPC framing around random bytes, mutated valid
 * replication messages, a {@code Hello} with a path in its node id, Hellos from ids not on the
 * allowlist, an oversize message, a flood of silent streams, silent connections, and garbage,
 * oversize and tricky requests on the HTTP port (which takes a bearer token: garbage cannot
 * write). Afterwards the node is up, holds exactly what
 * real clients wrote (on it and on its peer, also during the attack), has written no file outside
 * its data directory's {@code db/} and {@code .watermarks/}, and has counted the attack in its
 * metrics.
 *
 * <p>Seeded: the seed is printed; replay with {@code -Dedgesync.fuzz.seed=<seed>}.
 */
class HostileInputFuzzTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  private static final long SEED = Long.getLong("edgesync.fuzz.seed", System.nanoTime());
  private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final MethodDescriptor<byte[], byte[]> RAW =
      ReplicationGrpc.getSubscribeMethod().toBuilder(new Bytes(), new Bytes()).build();

  private final ExecutorService pool = Executors.newFixedThreadPool(16);

  @Test
  void garbageOnEveryPortLeavesTheNodeServingAndItsStateUnchanged() throws Exception {
    System.out.println("HostileInputFuzzTest seed=" + SEED + " (replay: -Dedgesync.fuzz.seed=" + SEED + ")");
    SplittableRandom random = new SplittableRandom(SEED);
    Cluster c = cleanup.newCluster("fuzz", false);
    NodeProcess p =
        c.add(
            "p",
            s -> {
              s.limits.put("handshakeTimeout", "2s");
              s.extraEnv.put("EDGESYNC_ALLOWED_PEERS", "q");
              // Garbage on the HTTP port must not be able to write: the API takes a token.
              s.httpToken = "fuzz-http-token-" + Long.toHexString(SEED);
            });
    NodeProcess q = c.add("q");
    c.connect("p", "q").startAll();
    AckedWrites acked = new AckedWrites();
    Data.bulk(p.http(), Data.keys("p/", 200, "p"), acked);
    Data.bulk(q.http(), Data.keys("q/", 200, "q"), acked);
    // A key that looks like a path is just a key: no file is named after it.
    acked.add(p.http().put("../../x", "a key, not a path"));
    acked.assertHeldBy("before the attack", c.awaitConverged());
    Set<String> watermarksBefore = list(p.spec.dataDir.resolve(".watermarks"));

    // Real traffic goes on during the whole attack.
    AtomicBoolean attacking = new AtomicBoolean(true);
    AtomicInteger realWrites = new AtomicInteger();
    Future<?> writer =
        pool.submit(
            () -> {
              RateLimiter pace = RateLimiter.create(100); // writes/s
              while (attacking.get() && realWrites.get() < 2000) {
                pace.acquire();
                int i = realWrites.incrementAndGet();
                NodeProcess target = i % 2 == 0 ? p : q;
                acked.add(target.http().put("during/" + target.id() + "/" + i, "v" + i));
              }
              return null;
            });

    InetSocketAddress grpc = new InetSocketAddress(p.spec.ip, p.spec.grpcPort);
    InetSocketAddress http = new InetSocketAddress(p.spec.ip, p.spec.httpPort);
    long started = System.nanoTime();
    int sent = 0;
    sent += tcpGarbage(grpc, random.split(), 400);
    sent += h2GarbageFrames(grpc, random.split(), 400);
    sent += silentConnections(grpc, 40);
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      channels.add(NettyChannelBuilder.forAddress(p.spec.ip, p.spec.grpcPort).usePlaintext().maxInboundMessageSize(8 << 20).build());
    }
    try {
      sent += grpcStreams(channels, random.split(), 1500, HostileInputFuzzTest::randomBytes);
      sent += grpcStreams(channels, random.split(), 1500, HostileInputFuzzTest::mutatedMessage);
      Status oversize = call(channels.get(0), List.of(new byte[3 * 1024 * 1024])).get(30, TimeUnit.SECONDS);
      // The server resets the stream (the client sees CANCELLED); the server counts message_too_large.
      assertFalse(oversize.isOk(), "an oversize message ends its stream: " + oversize);
      Status traversal =
          call(channels.get(0), List.of(hello("../../x").toByteArray())).get(30, TimeUnit.SECONDS);
      assertFalse(traversal.isOk() && traversal.getDescription() == null, "a Hello from '../../x' is refused: " + traversal);
      sent += streamFlood(grpc, 160);
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
    }
    sent += httpGarbage(http, random.split(), 300);
    sent += httpTricks(p);
    attacking.set(false);
    writer.get(60, TimeUnit.SECONDS);
    System.out.printf(
        "HostileInputFuzzTest seed=%d: %d hostile connections/streams/requests in %d ms, %d real writes meanwhile%n",
        SEED, sent, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), realWrites.get());

    // The node is up, serves its peer, and holds exactly what real clients wrote.
    assertTrue(p.isAlive(), "p survived");
    assertEquals(200, p.http().health());
    Data.bulk(q.http(), Data.keys("after/q/", 50, "q"), acked);
    acked.assertHeldBy("after the attack", c.awaitConverged());
    assertEquals(p.http().status().digest(), q.http().status().digest());

    // No file outside db/ and .watermarks/, no watermark file for anything but its peer.
    try (Stream<Path> files = Files.walk(p.spec.dataDir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Path rel = p.spec.dataDir.relativize(f);
        assertTrue(rel.startsWith("db") || rel.startsWith(".watermarks"), "unexpected file " + f);
      }
    }
    assertEquals(watermarksBefore, list(p.spec.dataDir.resolve(".watermarks")), "watermark files");
    try (Stream<Path> files = Files.walk(p.spec.dir.getParent().getParent())) {
      assertTrue(files.noneMatch(f -> f.getFileName().toString().equals("x")), "a file named after a hostile id or key");
    }

    // Every kind of attack was seen and counted.
    String metrics = p.http().metrics();
    for (String reason : List.of("malformed_message", "message_too_large", "not_allowed", "protocol_error", "too_many_streams", "hello_timeout")) {
      assertTrue(
          PrometheusText.value(metrics, "edgesync_replication_refused_total", "reason=" + reason) >= 1,
          "refused{reason=" + reason + "} counted; metrics:\n" + grep(metrics, "refused"));
    }
    assertTrue(PrometheusText.value(metrics, "edgesync_replication_inbound_connections_failed_total") >= 100, grep(metrics, "connections_failed"));
    assertTrue(PrometheusText.value(metrics, "edgesync_http_refused_total") >= 1, "requests without the HTTP token: " + grep(metrics, "http_refused"));
    String log = p.log();
    assertTrue(log.contains("not a valid SubscriberMessage"), "malformed messages are in the log");
    assertFalse(log.contains("java.lang.OutOfMemoryError") || log.contains("Exception in thread"), "no crash in " + p.logFile());
    assertFalse(log.contains("Transport failed"), "grpc does not print a stack trace per garbage connection");
    pool.shutdownNow();
  }

  // ------------------------------------------------------------------ the gRPC port

  /** Connections that write random bytes and close. */
  private int tcpGarbage(InetSocketAddress to, SplittableRandom random, int n) throws Exception {
    List<Future<?>> done = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] junk = new byte[1 + random.nextInt(4096)];
      random.nextBytes(junk);
      done.add(pool.submit(() -> exchange(to, junk, 500)));
    }
    await(done);
    return n;
  }

  /** The HTTP/2 preface, an empty SETTINGS frame, then frames with random headers and payloads. */
  private int h2GarbageFrames(InetSocketAddress to, SplittableRandom random, int n) throws Exception {
    List<Future<?>> done = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      out.writeBytes(H2_PREFACE);
      out.writeBytes(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
      int frames = 1 + random.nextInt(8);
      for (int f = 0; f < frames; f++) {
        int length = random.nextInt(1024);
        int type = random.nextInt(12);
        out.writeBytes(new byte[] {(byte) (length >> 16), (byte) (length >> 8), (byte) length, (byte) type, (byte) random.nextInt(256)});
        int stream = random.nextInt(8) == 0 ? random.nextInt() : 1 + 2 * random.nextInt(10);
        out.writeBytes(new byte[] {(byte) (stream >> 24), (byte) (stream >> 16), (byte) (stream >> 8), (byte) stream});
        byte[] payload = new byte[length];
        random.nextBytes(payload);
        out.writeBytes(payload);
      }
      byte[] bytes = out.toByteArray();
      done.add(pool.submit(() -> exchange(to, bytes, 500)));
    }
    await(done);
    return n;
  }

  /** Connections that send nothing: the node must close them after its handshake timeout. */
  private int silentConnections(InetSocketAddress to, int n) throws Exception {
    List<Future<Boolean>> closed = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      closed.add(
          pool.submit(
              () -> {
                try (Socket s = new Socket()) {
                  s.connect(to, 2000);
                  s.setSoTimeout(15_000);
                  InputStream in = s.getInputStream();
                  while (in.read() >= 0) {
                    // The server's SETTINGS frame, then EOF when it gives up on us.
                  }
                  return true;
                } catch (IOException e) {
                  return true;
                }
              }));
    }
    for (Future<Boolean> f : closed) {
      assertTrue(f.get(30, TimeUnit.SECONDS), "a silent connection is closed by the node");
    }
    return n;
  }

  /** {@code n} streams of 1 to 4 messages each, 64 at a time over the channels. */
  private int grpcStreams(
      List<ManagedChannel> channels, SplittableRandom random, int n, java.util.function.Function<SplittableRandom, byte[]> message)
      throws Exception {
    int done = 0;
    while (done < n) {
      List<CompletableFuture<Status>> batch = new ArrayList<>();
      for (int i = 0; i < 64 && done < n; i++, done++) {
        List<byte[]> messages = new ArrayList<>();
        int count = 1 + random.nextInt(4);
        for (int m = 0; m < count; m++) {
          messages.add(message.apply(random));
        }
        batch.add(call(channels.get(i % channels.size()), messages));
      }
      for (CompletableFuture<Status> f : batch) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
    return n;
  }

  /**
   * {@code n} streams at once that never send a Hello, over enough connections that none waits
   * for the per-connection stream limit: beyond {@code limits.maxInboundStreams} they are refused
   * at once, the rest are closed after the handshake timeout.
   */
  private int streamFlood(InetSocketAddress to, int n) throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    List<ClientCall<byte[], byte[]>> calls = new ArrayList<>();
    List<CompletableFuture<Status>> ends = new ArrayList<>();
    try {
      for (int i = 0; i < (n + 5) / 6; i++) {
        channels.add(NettyChannelBuilder.forAddress(to.getHostString(), to.getPort()).usePlaintext().build());
      }
      for (int i = 0; i < n; i++) {
        ClientCall<byte[], byte[]> call = channels.get(i / 6).newCall(RAW, CallOptions.DEFAULT);
        CompletableFuture<Status> end = new CompletableFuture<>();
        call.start(listener(end), new Metadata());
        call.request(1);
        calls.add(call);
        ends.add(end);
      }
      int refused = 0;
      for (CompletableFuture<Status> end : ends) {
        Status s = end.get(60, TimeUnit.SECONDS);
        assertFalse(s.isOk(), "a silent stream is ended by the node: " + s);
        refused += s.getCode() == Status.Code.RESOURCE_EXHAUSTED ? 1 : 0;
      }
      assertTrue(refused > 0, "streams beyond limits.maxInboundStreams are refused");
    } finally {
      calls.forEach(c -> c.cancel("flood over", null));
      channels.forEach(ManagedChannel::shutdownNow);
    }
    return n;
  }

  private static CompletableFuture<Status> call(ManagedChannel channel, List<byte[]> messages) {
    ClientCall<byte[], byte[]> call = channel.newCall(RAW, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS));
    CompletableFuture<Status> end = new CompletableFuture<>();
    call.start(listener(end), new Metadata());
    call.request(1000);
    for (byte[] m : messages) {
      call.sendMessage(m);
    }
    call.halfClose();
    return end;
  }

  private static ClientCall.Listener<byte[]> listener(CompletableFuture<Status> end) {
    return new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        end.complete(status);
      }
    };
  }

  private static byte[] randomBytes(SplittableRandom random) {
    byte[] b = new byte[random.nextInt(513)];
    random.nextBytes(b);
    return b;
  }

  private static SubscriberMessage hello(String id) {
    return SubscriberMessage.newBuilder()
        .setHello(Hello.newBuilder().setCluster("it").setNodeId(id).setProtocolVersion(ProtocolVersion.CURRENT))
        .build();
  }

  /** A valid subscriber message, then bytes flipped, cut, inserted or repeated. */
  private static byte[] mutatedMessage(SplittableRandom random) {
    String[] ids = {"q", "p", "stranger", "../../x", "", "a/b", "x".repeat(200), "evil\u0000id"};
    SubscriberMessage m =
        switch (random.nextInt(5)) {
          case 0, 1 ->
              SubscriberMessage.newBuilder()
                  .setHello(
                      Hello.newBuilder()
                          .setCluster(random.nextBoolean() ? "it" : "other")
                          .setNodeId(ids[random.nextInt(ids.length)])
                          .setProtocolVersion(random.nextInt(4) == 0 ? random.nextInt() : ProtocolVersion.CURRENT)
                          .setSinceLogId(random.nextBoolean() ? "" : Long.toHexString(random.nextLong()))
                          .setSinceSeq(random.nextLong()))
                  .build();
          case 2 -> SubscriberMessage.newBuilder().setAck(Ack.newBuilder().setSeq(random.nextLong())).build();
          case 3 -> SubscriberMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSeq(random.nextLong()).setWallMillis(random.nextLong())).build();
          default ->
              SubscriberMessage.newBuilder()
                  .setRefusal(Refusal.newBuilder().setCodeValue(random.nextInt(10)).setMessage(ByteString.copyFrom(randomBytes(random)).toStringUtf8()))
                  .build();
        };
    byte[] b = m.toByteArray();
    int mutations = random.nextInt(4);
    for (int i = 0; i < mutations && b.length > 0; i++) {
      switch (random.nextInt(4)) {
        case 0 -> b[random.nextInt(b.length)] ^= (byte) (1 + random.nextInt(255));
        case 1 -> b = java.util.Arrays.copyOf(b, random.nextInt(b.length));
        case 2 -> {
          byte[] longer = java.util.Arrays.copyOf(b, b.length + 1 + random.nextInt(16));
          for (int j = b.length; j < longer.length; j++) {
            longer[j] = (byte) random.nextInt(256);
          }
          b = longer;
        }
        default -> {
          byte[] twice = java.util.Arrays.copyOf(b, b.length * 2);
          System.arraycopy(b, 0, twice, b.length, b.length);
          b = twice;
        }
      }
    }
    return b;
  }

  // ------------------------------------------------------------------ the HTTP port

  private int httpGarbage(InetSocketAddress to, SplittableRandom random, int n) throws Exception {
    List<Future<?>> done = new ArrayList<>();
    String[] methods = {"GET", "PUT", "POST", "DELETE", "PATCH", "TRACE", "CONNECT", "\u0000\u0001", "G E T"};
    String[] paths = {"/kv/../../etc/passwd", "/kv/%2e%2e%2f%2e%2e%2fx", "/kv/%zz", "/../../x", "/kv?prefix=%ff&limit=-1", "/status?x=" + "y".repeat(9000), "*", "/kv/\u0000"};
    for (int i = 0; i < n; i++) {
      byte[] bytes;
      if (random.nextBoolean()) {
        bytes = new byte[1 + random.nextInt(2048)];
        random.nextBytes(bytes);
      } else {
        String request =
            methods[random.nextInt(methods.length)] + " " + paths[random.nextInt(paths.length)] + " HTTP/1.1\r\nHost: x\r\n"
                + (random.nextBoolean() ? "Content-Length: " + (random.nextBoolean() ? "-5" : Long.toString(random.nextLong())) + "\r\n" : "")
                + (random.nextBoolean() ? "Transfer-Encoding: chunked\r\n" : "")
                + "\r\n";
        byte[] tail = new byte[random.nextInt(64)];
        random.nextBytes(tail);
        bytes = (request + new String(tail, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
      }
      byte[] b = bytes;
      done.add(pool.submit(() -> exchange(to, b, 1000)));
    }
    await(done);
    return n;
  }

  /** Oversize keys and bodies and path-like keys through a real HTTP client: clear 4xx answers. */
  private static int httpTricks(NodeProcess p) {
    NodeClient http = p.http();
    assertEquals(413, http.send("PUT", "/kv/" + "k".repeat(2000), "v").status(), "a key over limits.maxKeyBytes");
    assertEquals(413, http.send("PUT", "/kv/big", "v".repeat(3 * 1024 * 1024)).status(), "a body over limits.httpMaxBodyBytes");
    assertEquals(404, http.send("GET", "/kv/..%2F..%2Fetc%2Fpasswd", null).status(), "a path-like key is a key, and absent");
    assertEquals(404, http.send("GET", "/../../x", null).status(), "no such endpoint");
    assertEquals(400, http.send("POST", "/kv", "{\"entries\": [{\"key\": 5}]}").status(), "a malformed bulk body");
    return 5;
  }

  // ------------------------------------------------------------------ plumbing

  /** Connects, writes {@code bytes}, reads what comes back for at most {@code readMillis}, closes. */
  private static Void exchange(InetSocketAddress to, byte[] bytes, int readMillis) {
    try (Socket s = new Socket()) {
      s.connect(to, 2000);
      s.setSoTimeout(readMillis);
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
      s.shutdownOutput();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      while (in.read(buf) >= 0) {
        // Drain whatever the node answers until it closes or the read times out.
      }
    } catch (IOException e) {
      // Reset, timeout or refused: all fine, the node decides.
    }
    return null;
  }

  private static void await(List<Future<?>> futures) throws Exception {
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
  }

  private static Set<String> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return new TreeSet<>(s.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".")).toList());
    }
  }

  private static String grep(String text, String word) {
    return String.join("\n", text.lines().filter(l -> l.contains(word) && !l.startsWith("#")).toList());
  }

  /** Passes bytes through unparsed. */
  private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
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
}
