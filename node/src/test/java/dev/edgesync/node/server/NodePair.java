package dev.edgesync.node.server;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.node.config.ConfigLoader;
import dev.edgesync.node.config.ConfigOverrides;
import dev.edgesync.node.config.NodeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Two in-process nodes, site-a and site-b of cluster "test", pulling from each other over loopback
 * gRPC, on ephemeral ports, with data dirs (and config files) under {@code dir}. Closed in reverse.
 */
final class NodePair implements AutoCloseable {
  final NodeServer a;
  final NodeServer b;

  /** @param configYaml extra config of both nodes (may be empty) */
  NodePair(Path dir, String configYaml) throws Exception {
    a = start(dir, "site-a", null, configYaml);
    NodeServer started = null;
    try {
      started = start(dir, "site-b", "site-a=127.0.0.1:" + a.grpcPort(), configYaml);
      a.node().setPeers(List.of(new PeerSpec("site-b", "127.0.0.1", started.grpcPort())));
    } catch (RuntimeException e) {
      if (started != null) {
        started.close();
      }
      a.close();
      throw e;
    }
    b = started;
  }

  private static NodeServer start(Path dir, String id, String peers, String configYaml) throws Exception {
    Path config = dir.resolve(id + ".yaml");
    Files.writeString(config, configYaml);
    NodeConfig c =
        ConfigLoader.load(
            new ConfigOverrides(
                config.toString(), id, "test", "127.0.0.1:0", "127.0.0.1:0", dir.resolve(id).toString(), peers, "buffered", null),
            Map.of());
    return NodeServer.start(c);
  }

  @Override
  public void close() {
    b.close();
    a.close();
  }
}
