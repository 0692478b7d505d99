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

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Option(
      names = "--node",
      paramLabel = "URL",
      description =
          "HTTP address of the node (default: $" + ENV_NODE + ", else " + DEFAULT_NODE + ").")
  String node;

  @Option(
      names = "--request-timeout",
      paramLabel = "SECONDS",
      defaultValue = "30",
      description =
          "How long to wait for the node's answer, in seconds (default: ${DEFAULT-VALUE}).")
  int requestTimeoutSeconds;

  NodeClient client() {
    String address = node != null ? node : main.env().getOrDefault(ENV_NODE, DEFAULT_NODE);
    String source =
        node != null ? "--node" : main.env().containsKey(ENV_NODE) ? ENV_NODE : "default";
    URI uri;
    try {
      uri = URI.create(address.strip());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(),
          source + ": '" + address + "' is not a URL; expected e.g. http://127.0.0.1:7480");
    }
    if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new ParameterException(
          spec.commandLine(),
          source
              + ": '"
              + address
              + "' is not an http:// URL with a host; expected e.g. http://127.0.0.1:7480");
    }
    if (requestTimeoutSeconds < 1) {
      throw new ParameterException(
          spec.commandLine(), "--request-timeout must be at least 1 second");
    }
    return new NodeClient(uri, Duration.ofSeconds(requestTimeoutSeconds));
  }
}
