package dev.edgesync.engine.transport.grpc;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;

/**
 * Puts {@code authorization: Bearer <token>} on every call of a subscriber. Per call rather than
 * per channel, so that a stream opened after a token reload sends the new token.
 */
final class ClusterTokenCredentials extends CallCredentials {
  private final ClusterTokenKeeper tokens;

  ClusterTokenCredentials(ClusterTokenKeeper tokens) {
    this.tokens = tokens;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor appExecutor, MetadataApplier applier) {
    Metadata headers = new Metadata();
    headers.put(ClusterTokenKeeper.AUTHORIZATION, tokens.header());
    applier.apply(headers);
  }
}
