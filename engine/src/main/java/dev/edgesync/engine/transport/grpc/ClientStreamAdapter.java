package dev.edgesync.engine.transport.grpc;

import dev.edgesync.engine.transport.Transport;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * The subscriber's end of one gRPC call, as a {@link Transport.ClientStream}, started with a
 * listener that turns the call's events into the engine's {@link Transport.ClientListener} calls.
 *
 * <p>Invariant: nothing is sent, requested or cancelled after the call closed or was cancelled
 * here, so the engine may call late without gRPC throwing. Threading: the engine calls from any
 * thread; calls are serialised on this object because {@link ClientCall} is not thread-safe.
 */
final class ClientStreamAdapter implements Transport.ClientStream {
  private final ClientCall<SubscriberMessage, PublisherMessage> call;
  // Guarded by this.
  private boolean done;

  private ClientStreamAdapter(ClientCall<SubscriberMessage, PublisherMessage> call) {
    this.call = call;
  }

  /** Starts {@code call}, delivering its events to {@code listener}. */
  static ClientStreamAdapter start(
      ClientCall<SubscriberMessage, PublisherMessage> call, Transport.ClientListener listener) {
    ClientStreamAdapter side = new ClientStreamAdapter(call);
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
            listener.onClosed(StatusMapping.fromGrpc(status));
          }
        },
        new Metadata());
    return side;
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

  private synchronized void markDone() {
    done = true;
  }
}
