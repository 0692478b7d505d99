package dev.edgesync.engine.transport.grpc;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Guards each inbound stream in front of its {@link ServerStreamAdapter}, up to and at its {@code
 * Hello}, so that a stranger cannot hold slots or feed the engine garbage:
 *
 * <ul>
 *   <li>no message within {@code limits.handshakeTimeout}: {@code DEADLINE_EXCEEDED}
 *       ({@code hello_timeout});
 *   <li>a message that is not a valid {@code SubscriberMessage} ({@link
 *       CheckedRequestMarshaller}): {@code INVALID_ARGUMENT} ({@code malformed_message});
 *   <li>a {@code Hello} whose node id already holds {@code limits.maxStreamsPerPeer} streams:
 *       {@code RESOURCE_EXHAUSTED} ({@code too_many_streams_per_peer}). Only ids the engine may
 *       accept (a valid id that the client certificate, if any, names) take a per-peer slot, so
 *       a certificate holder cannot use up the slots of another node's id.
 * </ul>
 *
 * <p>Messages after the deadline passed or after the stream ended are dropped. Threading: gRPC
 * calls a stream's listener serially; its deadline runs on the transport's timer thread. A
 * stream's state is guarded by its listener; lock order: listener, then adapter.
 */
final class HelloGuard {
  private final String nodeId;
  private final StreamLimits limits;
  private final Refusals refusals;
  private final ScheduledExecutorService timers;
  private final Duration timeout;

  HelloGuard(String nodeId, StreamLimits limits, Refusals refusals, ScheduledExecutorService timers, Duration timeout) {
    this.nodeId = nodeId;
    this.limits = limits;
    this.refusals = refusals;
    this.timers = timers;
    this.timeout = timeout;
  }

  /**
   * Starts the Hello deadline of {@code side} and returns its listener, guarded. {@code slot} is
   * the stream's slot, bound to the subscriber's id at the {@code Hello}.
   */
  ServerCall.Listener<SubscriberMessage> guard(
      ServerStreamAdapter side, ServerCall.Listener<SubscriberMessage> events, StreamLimits.Slot slot) {
    Guarded guarded = new Guarded(side, events, slot);
    try {
      ScheduledFuture<?> deadline =
          timers.schedule(guarded::deadlinePassed, timeout.toMillis(), TimeUnit.MILLISECONDS);
      guarded.deadline(deadline);
      side.whenEnded(() -> deadline.cancel(false));
    } catch (RejectedExecutionException e) {
      // The transport is closing; the server stops every call.
    }
    return guarded;
  }

  private enum Inbound {
    FIRST,
    LATER,
    LATE
  }

  private final class Guarded extends ForwardingServerCallListener.SimpleForwardingServerCallListener<SubscriberMessage> {
    private final ServerStreamAdapter side;
    private final StreamLimits.Slot slot;
    // Guarded by this. seen: a first message arrived; timedOut: the deadline passed before one did.
    private boolean seen;
    private boolean timedOut;
    private ScheduledFuture<?> deadline;

    Guarded(ServerStreamAdapter side, ServerCall.Listener<SubscriberMessage> events, StreamLimits.Slot slot) {
      super(events);
      this.side = side;
      this.slot = slot;
    }

    synchronized void deadline(ScheduledFuture<?> deadline) {
      if (seen) {
        deadline.cancel(false);
      } else {
        this.deadline = deadline;
      }
    }

    /** Classifies an inbound message: the first, a later one, or one to drop. */
    private synchronized Inbound inbound() {
      if (timedOut || side.isEnded()) {
        return Inbound.LATE;
      }
      if (seen) {
        return Inbound.LATER;
      }
      seen = true;
      if (deadline != null) {
        deadline.cancel(false);
      }
      return Inbound.FIRST;
    }

    void deadlinePassed() {
      synchronized (this) {
        if (seen || side.isEnded()) {
          return;
        }
        timedOut = true;
      }
      String message =
          "node '" + nodeId + "' closed a stream from " + side.remoteAddress() + " that sent no Hello within "
              + timeout.toMillis() + " ms (limits.handshakeTimeout)";
      refusals.record("hello_timeout", message);
      side.abort(Status.DEADLINE_EXCEEDED.withDescription(message));
    }

    @Override
    public void onMessage(SubscriberMessage message) {
      Inbound in = inbound();
      if (in == Inbound.LATE) {
        return;
      }
      if (CheckedRequestMarshaller.isMalformed(message)) {
        String text =
            "node '" + nodeId + "' received a replication message from " + side.remoteAddress()
                + " that is not a valid SubscriberMessage; closing its stream";
        refusals.record("malformed_message", text);
        side.abort(Status.INVALID_ARGUMENT.withDescription(text));
        return;
      }
      if (in == Inbound.FIRST && message.hasHello()) {
        String id = message.getHello().getNodeId();
        boolean mayBeAccepted =
            PeerSpec.isValidId(id) && side.certificateNames().map(n -> n.contains(id)).orElse(true);
        if (mayBeAccepted && !slot.bind(id)) {
          String text =
              "node '" + nodeId + "' already serves " + limits.maxPerPeer() + " streams to subscriber '" + id
                  + "' (limits.maxStreamsPerPeer); refused another from " + side.remoteAddress();
          refusals.record("too_many_streams_per_peer", text);
          side.abort(Status.RESOURCE_EXHAUSTED.withDescription(text));
          return;
        }
      }
      super.onMessage(message);
    }
  }
}
