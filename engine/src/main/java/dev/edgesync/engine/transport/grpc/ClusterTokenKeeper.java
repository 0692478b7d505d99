package dev.edgesync.engine.transport.grpc;

import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.security.ClusterToken;
import io.grpc.Metadata;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster token in force and its form on the wire, {@code authorization: Bearer <token>}:
 * what {@link ClusterTokenCredentials} sends and {@link ClusterTokenInterceptor} checks. A token
 * file is re-read by {@link #reload()}; a file that cannot be used keeps the token in force.
 *
 * <p>Thread-safe: {@link #check} and {@link #header} run on gRPC threads while the transport's
 * timer reloads; {@link ClusterToken.Keeper} swaps the tokens atomically. No message holds a token.
 */
final class ClusterTokenKeeper {
  private static final Logger log = LoggerFactory.getLogger(ClusterTokenKeeper.class);

  /** The header that carries the cluster token. */
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String BEARER = "bearer ";

  private final String nodeId;
  private final EngineMetrics metrics;
  private final ClusterToken.Keeper keeper;
  // Guarded by this: the last reload failure logged, so that a file that stays bad logs once.
  private String failed;

  ClusterTokenKeeper(String nodeId, ClusterToken token, EngineMetrics metrics) throws IOException {
    this.nodeId = nodeId;
    this.metrics = metrics;
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

  /** The header value this node sends. */
  String header() {
    return "Bearer " + keeper.sent();
  }

  /** Installs the token file's content if it changed; counts and logs the outcome. */
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
