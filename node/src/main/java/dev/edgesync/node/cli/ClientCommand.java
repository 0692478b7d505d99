package dev.edgesync.node.cli;

import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.net.URI;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** The options every command that talks to a running node shares. */
abstract class ClientCommand {
  /** Environment variable with the node's HTTP address when {@code --node} is not given. */
  static final String ENV_NODE = "EDGESYNC_NODE";

  static final String DEFAULT_NODE = "http://127.0.0.1:7480";

  /** Environment variable with the HTTP API's bearer token. */
  static final String ENV_HTTP_TOKEN = "EDGESYNC_HTTP_TOKEN";

  /** Environment variable with a PEM CA bundle to trust for an https:// node. */
  static final String ENV_HTTP_CA = "EDGESYNC_HTTP_CA";

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Option(
      names = "--node",
      paramLabel = "URL",
      description =
          "HTTP address of the node, a URL or host:port (default: $" + ENV_NODE + ", else " + DEFAULT_NODE + ").")
  String node;

  @Option(
      names = "--request-timeout",
      paramLabel = "SECONDS",
      defaultValue = "30",
      description =
          "How long to wait for the node's answer, in seconds (default: ${DEFAULT-VALUE}).")
  int requestTimeoutSeconds;

  // --http-token-file, as 'edgesync run' calls the same file; --token-file (the cluster token's
  // option of 'run') is still taken here, for scripts written before.
  @Option(
      names = {"--http-token-file", "--token-file"},
      paramLabel = "FILE",
      description =
          "File whose first line is the node's HTTP API token (default: $" + ENV_HTTP_TOKEN + ").")
  String tokenFile;

  @Option(
      names = "--ca",
      paramLabel = "FILE",
      description =
          "PEM CA bundle to trust for an https:// node (default: $" + ENV_HTTP_CA + ", else the JDK's).")
  String ca;

  NodeClient client() {
    String address = node != null ? node : main.env().getOrDefault(ENV_NODE, DEFAULT_NODE);
    String source =
        node != null ? "--node" : main.env().containsKey(ENV_NODE) ? ENV_NODE : "default";
    String trimmed = address.strip();
    if (!trimmed.contains("://")) {
      // host:port, as for --listen: plain HTTP is the node's default.
      trimmed = "http://" + trimmed;
    }
    URI uri;
    try {
      uri = URI.create(trimmed);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(),
          source + ": '" + address + "' is not a URL; expected e.g. http://127.0.0.1:7480");
    }
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
      throw new ParameterException(
          spec.commandLine(),
          source
              + ": '"
              + address
              + "' is not an http:// or https:// URL with a host; expected e.g. http://127.0.0.1:7480");
    }
    if (requestTimeoutSeconds < 1) {
      throw new ParameterException(
          spec.commandLine(), "--request-timeout must be at least 1 second");
    }
    return new NodeClient(uri, Duration.ofSeconds(requestTimeoutSeconds), token(), sslContext());
  }

  private String token() {
    if (tokenFile != null) {
      try {
        String first =
            java.nio.file.Files.readAllLines(java.nio.file.Path.of(tokenFile)).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .findFirst()
                .orElse(null);
        if (first == null) {
          throw new ParameterException(spec.commandLine(), "--http-token-file " + tokenFile + " holds no token");
        }
        return first;
      } catch (java.io.IOException | RuntimeException e) {
        if (e instanceof ParameterException pe) {
          throw pe;
        }
        throw new ParameterException(spec.commandLine(), "--http-token-file " + tokenFile + " cannot be read: " + e.getMessage());
      }
    }
    String t = main.env().get(ENV_HTTP_TOKEN);
    return t == null || t.isBlank() ? null : t.strip();
  }

  private javax.net.ssl.SSLContext sslContext() {
    String file = ca != null ? ca : main.env().get(ENV_HTTP_CA);
    if (file == null) {
      return null;
    }
    try (var in = java.nio.file.Files.newInputStream(java.nio.file.Path.of(file))) {
      java.security.KeyStore trust = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
      trust.load(null, null);
      int i = 0;
      for (java.security.cert.Certificate c :
          java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("ca-" + i++, c);
      }
      javax.net.ssl.TrustManagerFactory tmf =
          javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      throw new ParameterException(spec.commandLine(), (ca != null ? "--ca " : ENV_HTTP_CA + " ") + file + " cannot be used: " + e.getMessage());
    }
  }
}
