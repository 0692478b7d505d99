package dev.edgesync.engine.transport.grpc;

import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.SubscriberMessage;
import io.grpc.MethodDescriptor;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses subscriber messages on the server; bytes that are not a valid {@code SubscriberMessage}
 * become {@link #MALFORMED}, which {@link HelloGuard} answers by ending the stream with {@code
 * INVALID_ARGUMENT}, counted and logged. Throwing from the marshaller instead would make gRPC log
 * a stack trace per malformed message. Stateless and thread-safe.
 */
final class CheckedRequestMarshaller implements MethodDescriptor.Marshaller<SubscriberMessage> {
  private static final Logger log = LoggerFactory.getLogger(CheckedRequestMarshaller.class);

  /** What {@link #parse} returns for bytes that do not parse; recognised by reference only. */
  private static final SubscriberMessage MALFORMED =
      SubscriberMessage.newBuilder()
          .setRefusal(Refusal.newBuilder().setMessage("(not a valid SubscriberMessage)"))
          .build();

  private final String nodeId;
  private final MethodDescriptor.Marshaller<SubscriberMessage> delegate;

  CheckedRequestMarshaller(String nodeId, MethodDescriptor.Marshaller<SubscriberMessage> delegate) {
    this.nodeId = nodeId;
    this.delegate = delegate;
  }

  /** True for the sentinel {@link #parse} returned for bad bytes, not for a message equal to it. */
  // Reference equality on purpose: a peer may send a message equal in value to the sentinel.
  @SuppressWarnings("ReferenceEquality")
  static boolean isMalformed(SubscriberMessage message) {
    return message == MALFORMED;
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
