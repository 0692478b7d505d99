package dev.edgesync.node.demo;

import dev.edgesync.node.client.NodeClient;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One node of the demo: its ports, files and HTTP client, and the {@code edgesync run} process
 * while it runs. {@link DemoCluster} starts and stops the process; {@link #process} is set under
 * the cluster's lock so that a stop cannot miss a node that is just starting.
 */
final class DemoNode {
  final String id;
  final int grpcPort;
  final int httpPort;
  final Path dataDir;
  final Path configFile;
  final Path logFile;
  final NodeClient client;
  volatile Process process;

  DemoNode(String id, int grpcPort, int httpPort, Path dir) {
    this.id = id;
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.dataDir = dir.resolve("data");
    this.configFile = dir.resolve(id + ".yaml");
    this.logFile = dir.resolve(id + ".log");
    this.client = new NodeClient(URI.create(httpUrl()), Duration.ofSeconds(10));
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new DemoFailure("cannot create " + dir + ": " + e.getMessage());
    }
  }

  String httpUrl() {
    return "http://127.0.0.1:" + httpPort;
  }

  /** Starts {@code edgesync run} on this node's config file, appending its output to the log. */
  Process launch(List<String> launcher) {
    List<String> cmd = new ArrayList<>(launcher);
    cmd.addAll(List.of("run", "--config", configFile.toString()));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(Redirect.appendTo(logFile.toFile()));
    // The demo's config files must win: an EDGESYNC_* variable of the user's shell would
    // override them (environment beats file).
    pb.environment().keySet().removeIf(k -> k.startsWith("EDGESYNC_"));
    try {
      return pb.start();
    } catch (IOException e) {
      throw new DemoFailure(
          "cannot start " + id + " (" + String.join(" ", cmd) + "): " + e.getMessage());
    }
  }
}
