package dev.edgesync.engine.transport.grpc;

import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The publisher's end of one gRPC call, as a {@link Transport.ServerStream}, and the listener
 * that turns the call's events into the engine's {@link Transport.ServerListener} calls.
 *
 * <p>Invariants: the engine's listener hears {@code onClosed} at most once and nothing after
 * it; {@code call.close} is called at most once; nothing is sent after the stream ended. Each
 * inbound message is followed by a {@code request(1)}, so gRPC holds at most one message for the
 * engine at a time.
 *
 * <p>Threading: the engine calls the stream methods from any thread; they are serialised on this
 * object because gRPC's {@link ServerCall} is not thread-safe. gRPC calls the listener serially.
 * The engine's listener is called outside this object's lock, so it may call back freely.
 */
final class ServerStreamAdapter implements Transport.ServerStream {
  private final ServerCall<SubscriberMessage, PublisherMessage> call;
  private final InboundPeer peer;
  // Set once by accept, before gRPC delivers any event and before any abort.
  private volatile Transport.ServerListener listener;
  // Guarded by this. ended: no more sends or listener calls; callClosed: call.close was called.
  private boolean ended;
  private boolean callClosed;
  private final List<Runnable> onEnd = new ArrayList<>();

  ServerStreamAdapter(ServerCall<SubscriberMessage, PublisherMessage> call, InboundPeer peer) {
    this.call = call;
    this.peer = peer;
  }

  /**
   * Hands this stream to the engine and returns the listener for gRPC's events. Called once,
   * from the call handler, before any event is delivered.
   */
  ServerCall.Listener<SubscriberMessage> accept(Transport.Acceptor acceptor) {
    listener = acceptor.accept(this);
    return new Events();
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
    finish(StatusMapping.toGrpc(status));
  }

  @Override
  public String remoteAddress() {
    return peer.description();
  }

  @Override
  public Optional<Set<String>> certificateNames() {
    return peer.certificateNames();
  }

  /** Asks gRPC for the next inbound message, unless the stream ended. */
  synchronized void request() {
    if (!ended) {
      call.request(1);
    }
  }

  synchronized boolean isEnded() {
    return ended;
  }

  /**
   * Runs {@code hook} once when this end closes the call or gRPC reports it over, or at once if
   * the stream has already ended; runs under this object's lock, so it must not block.
   */
  synchronized void whenEnded(Runnable hook) {
    if (ended) {
      hook.run();
    } else {
      onEnd.add(hook);
    }
  }

  /** Ends the stream with {@code status} from this end and tells the engine, once. */
  void abort(Status status) {
    if (endedByRemote()) {
      finish(status);
      listener.onClosed(StatusMapping.fromGrpc(status));
    }
  }

  /** Returns true if the stream had not ended yet (so the engine's listener must be told). */
  private synchronized boolean endedByRemote() {
    boolean wasOpen = !ended;
    ended = true;
    return wasOpen;
  }

  /** The call is over (gRPC said complete or cancelled). */
  private synchronized void released() {
    ended = true;
    runEndHooks();
  }

  private synchronized void finish(Status status) {
    ended = true;
    runEndHooks();
    if (callClosed) {
      return;
    }
    callClosed = true;
    if (!call.isCancelled()) {
      call.close(status, new Metadata());
    }
  }

  private void runEndHooks() {
    for (Runnable hook : onEnd) {
      hook.run();
    }
    onEnd.clear();
  }

  /**
   * gRPC's events of the call. Messages arrive here only through {@link HelloGuard}, which
   * drops those that come after the stream ended.
   */
  private final class Events extends ServerCall.Listener<SubscriberMessage> {
    @Override
    public void onMessage(SubscriberMessage message) {
      listener.onMessage(message);
      request();
    }

    @Override
    public void onHalfClose() {
      if (endedByRemote()) {
        listener.onClosed(StreamStatus.of(StreamStatus.Code.OK, "the subscriber ended the stream"));
      }
      finish(Status.OK);
    }

    @Override
    public void onCancel() {
      if (endedByRemote()) {
        listener.onClosed(
            StreamStatus.of(StreamStatus.Code.CANCELLED, "the subscriber cancelled the stream or the connection was lost"));
      }
      released();
    }

    @Override
    public void onComplete() {
      // Reached after this side closed the call; the listener was told then.
      if (endedByRemote()) {
        listener.onClosed(StreamStatus.of(StreamStatus.Code.OK, "the stream ended"));
      }
      released();
    }

    @Override
    public void onReady() {
      listener.onReady();
    }
  }
}
