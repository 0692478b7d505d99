package dev.edgesync.it;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.edgesync.engine.replication.wire.EntryChecksum;
import dev.edgesync.proto.Entry;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.ReplicationGrpc;
import dev.edgesync.proto.SubscriberMessage;
import dev.edgesync.proto.Version;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * A fake edgesync peer in the test JVM that speaks the wire protocol with the generated stubs, to
 * feed a real node input a real node would never send: a corrupt entry, another protocol version.
 *
 * <p>As a publisher it is configured as a peer of a node under test; the node subscribes to it
 * and {@code behaviour} answers each {@code Hello}. As a subscriber ({@link #probe}) it opens one
 * stream to a node and returns the node's first answer.
 */
final class FakePeer implements AutoCloseable {
  private final Server server;
  private final String ip;
  /** Every Hello received, in order: a reconnect after a refusal shows up as another one. */
  final List<Hello> hellos = new CopyOnWriteArrayList<>();

  FakePeer(BiConsumer<Hello, StreamObserver<PublisherMessage>> behaviour) {
    ip = Loopback.randomAddress();
    ReplicationGrpc.ReplicationImplBase service =
        new ReplicationGrpc.ReplicationImplBase() {
          @Override
          public StreamObserver<SubscriberMessage> subscribe(StreamObserver<PublisherMessage> out) {
            return new StreamObserver<>() {
              @Override
              public void onNext(SubscriberMessage m) {
                if (m.hasHello()) {
                  hellos.add(m.getHello());
                  behaviour.accept(m.getHello(), out);
                }
              }

              @Override
              public void onError(Throwable t) {
                // The subscriber gave up on the stream: expected after a refusal.
              }

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            };
          }
        };
    try {
      server = NettyServerBuilder.forAddress(new InetSocketAddress(ip, 0)).addService(service).build().start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the fake peer", e);
    }
  }

  String address() {
    return ip + ":" + server.getPort();
  }

  /** An entry with a correct CRC32C (as the engine computes it). */
  static Entry entry(String key, String value, long hlc, String origin, long seq) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    return Entry.newBuilder()
        .setKey(ByteString.copyFrom(k))
        .setValue(ByteString.copyFrom(v))
        .setVersion(Version.newBuilder().setHlc(hlc).setOrigin(origin))
        .setCrc32C(EntryChecksum.compute(k, v, false, hlc, origin))
        .setSeq(seq)
        .build();
  }

  /** An HLC for now: wall-clock milliseconds in the upper 48 bits. */
  static long hlcNow() {
    return System.currentTimeMillis() << 16;
  }

  /** What a node answered a probe: its first message, or the error that ended the stream. */
  record Answer(PublisherMessage message, Throwable error) {
    String describe() {
      return message != null ? message.toString().replace('\n', ' ') : String.valueOf(error);
    }
  }

  /** Opens a stream to {@code nodeAddress}, sends {@code hello}, and returns the first answer. */
  static Answer probe(String nodeAddress, Hello hello) {
    ManagedChannel channel = NettyChannelBuilder.forTarget(nodeAddress).usePlaintext().build();
    AtomicReference<Answer> answer = new AtomicReference<>();
    try {
      StreamObserver<SubscriberMessage> requests =
          ReplicationGrpc.newStub(channel)
              .subscribe(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(PublisherMessage m) {
                      answer.compareAndSet(null, new Answer(m, null));
                    }

                    @Override
                    public void onError(Throwable t) {
                      answer.compareAndSet(null, new Answer(null, t));
                    }

                    @Override
                    public void onCompleted() {
                      answer.compareAndSet(null, new Answer(null, new IllegalStateException("stream completed without a message")));
                    }
                  });
      requests.onNext(SubscriberMessage.newBuilder().setHello(hello).build());
      await("answer from " + nodeAddress).atMost(Duration.ofSeconds(20)).until(() -> answer.get() != null);
      return answer.get();
    } finally {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
