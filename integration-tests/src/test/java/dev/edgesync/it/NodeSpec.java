package dev.edgesync.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * How one node process is configured: identity, addresses, peers, settings and how they are
 * handed to the program (flags, a config file, or environment variables).
 *
 * <p>Mutable on purpose: a test may change, say, the peers before a restart. {@link NodeProcess}
 * reads it each time it starts the process.
 */
final class NodeSpec {

  /** How identity, addresses and peers reach the program. */
  enum Style {
    /** Command-line flags; replication/limits settings (which have no flags) in a config file. */
    FLAGS,
    /** Everything in one YAML config file passed with {@code --config}. */
    FILE,
    /** {@code EDGESYNC_*} environment variables only, no file, no flags. */
    ENV
  }

  /** Short timers so that tests notice failures and reconnect quickly. */
  static Map<String, String> fastReplication() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("heartbeatInterval", "500ms");
    m.put("heartbeatTimeout", "3s");
    m.put("reconnectBaseDelay", "100ms");
    m.put("reconnectMaxDelay", "1s");
    return m;
  }

  final String id;
  final String ip;
  final int grpcPort;
  final int httpPort;
  final Path dir;
  String cluster = "it";
  Path dataDir;
  Style style = Style.FLAGS;
  String durability;
  String clockOffset;
  int heapMb = 128;
  final Map<String, String> peers = new LinkedHashMap<>();
  final Map<String, String> replication = fastReplication();
  final Map<String, String> limits = new LinkedHashMap<>();
  /** The {@code gc:} section of the config file. */
  final Map<String, String> gc = new LinkedHashMap<>();
  final List<String> extraJvmFlags = new ArrayList<>();
  final Map<String, String> extraEnv = new LinkedHashMap<>();
  /** The HTTP API's bearer token ({@code EDGESYNC_HTTP_TOKEN}); the test's client sends it. Null: none. */
  String httpToken;

  /**
   * A node with its own random loopback address and two ports free on it.
   *
   * @param dir the node's own directory (data dir, config file and log live under it)
   */
  NodeSpec(String id, Path dir) {
    this.id = id;
    this.dir = dir;
    this.ip = Loopback.randomAddress();
    this.grpcPort = Loopback.freePort(ip);
    int http;
    do {
      http = Loopback.freePort(ip);
    } while (http == grpcPort);
    this.httpPort = http;
    this.dataDir = dir.resolve("data");
  }

  String grpcAddress() {
    return ip + ":" + grpcPort;
  }

  String httpAddress() {
    return ip + ":" + httpPort;
  }

  Path logFile() {
    return dir.resolve(id + ".log");
  }

  Path configFile() {
    return dir.resolve(id + ".yaml");
  }

  NodeSpec peer(String peerId, String address) {
    peers.put(peerId, address);
    return this;
  }

  String peersValue() {
    return peers.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
  }

  /** The program arguments after {@code java ... -jar edgesync.jar}; writes the config file if one is used. */
  List<String> programArgs() {
    List<String> args = new ArrayList<>(List.of("run"));
    switch (style) {
      case FILE -> {
        writeConfig(true);
        args.addAll(List.of("--config", configFile().toString()));
      }
      case FLAGS -> {
        if (!replication.isEmpty() || !limits.isEmpty() || !gc.isEmpty()) {
          writeConfig(false);
          args.addAll(List.of("--config", configFile().toString()));
        }
        args.addAll(List.of("--id", id, "--cluster", cluster, "--listen", grpcAddress(), "--http", httpAddress(), "--data-dir", dataDir.toString()));
        if (!peers.isEmpty()) {
          args.addAll(List.of("--peers", peersValue()));
        }
        if (durability != null) {
          args.addAll(List.of("--durability", durability));
        }
      }
      case ENV -> {
        // nothing: see environment()
      }
    }
    if (clockOffset != null) {
      args.addAll(List.of("--clock-offset", clockOffset));
    }
    return args;
  }

  /** Environment variables to set for the process. */
  Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    if (style == Style.ENV) {
      env.put("EDGESYNC_NODE_ID", id);
      env.put("EDGESYNC_CLUSTER", cluster);
      env.put("EDGESYNC_LISTEN", grpcAddress());
      env.put("EDGESYNC_HTTP", httpAddress());
      env.put("EDGESYNC_DATA_DIR", dataDir.toString());
      if (!peers.isEmpty()) {
        env.put("EDGESYNC_PEERS", peersValue());
      }
      if (durability != null) {
        env.put("EDGESYNC_DURABILITY", durability);
      }
    }
    if (httpToken != null) {
      env.put("EDGESYNC_HTTP_TOKEN", httpToken);
    }
    env.putAll(extraEnv);
    return env;
  }

  List<String> jvmFlags() {
    List<String> flags = new ArrayList<>();
    flags.add("-Xmx" + heapMb + "m");
    flags.add("-XX:+UseSerialGC");
    flags.add("-XX:TieredStopAtLevel=1");
    flags.add("-Xss512k");
    flags.add("-XX:+HeapDumpOnOutOfMemoryError");
    flags.add("-XX:HeapDumpPath=" + dir);
    flags.addAll(extraJvmFlags);
    return flags;
  }

  /** Rewrites the config file of a FILE-style node (e.g. to change its peers while it runs). */
  void rewriteConfigFile() {
    if (style != Style.FILE) {
      throw new IllegalStateException(id + " does not take its peers from a file");
    }
    writeConfig(true);
  }

  private void writeConfig(boolean everything) {
    StringBuilder y = new StringBuilder("# written by the integration tests for node ").append(id).append('\n');
    if (everything) {
      y.append("id: ").append(q(id)).append('\n');
      y.append("cluster: ").append(q(cluster)).append('\n');
      y.append("listen: ").append(q(grpcAddress())).append('\n');
      y.append("http: ").append(q(httpAddress())).append('\n');
      y.append("dataDir: ").append(q(dataDir.toString())).append('\n');
      if (durability != null) {
        y.append("durability: ").append(q(durability)).append('\n');
      }
      y.append("peers:");
      if (peers.isEmpty()) {
        y.append(" []\n");
      } else {
        y.append('\n');
        peers.forEach((pid, address) -> y.append("  - id: ").append(q(pid)).append("\n    address: ").append(q(address)).append('\n'));
      }
    }
    section(y, "replication", replication);
    section(y, "limits", limits);
    section(y, "gc", gc);
    try {
      Files.createDirectories(dir);
      // Temp file + rename: a node watching its config file never reads half of it.
      Path tmp = dir.resolve(id + ".yaml.tmp");
      Files.writeString(tmp, y);
      Files.move(tmp, configFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void section(StringBuilder y, String name, Map<String, String> values) {
    if (!values.isEmpty()) {
      y.append(name).append(":\n");
      // Written as plain YAML scalars so that numbers and booleans keep their types.
      values.forEach((k, v) -> y.append("  ").append(k).append(": ").append(v).append('\n'));
    }
  }

  private static String q(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
