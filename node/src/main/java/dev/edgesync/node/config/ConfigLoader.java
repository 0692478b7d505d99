package dev.edgesync.node.config;

import static dev.edgesync.node.config.ConfigValues.cluster;
import static dev.edgesync.node.config.ConfigValues.count;
import static dev.edgesync.node.config.ConfigValues.durability;
import static dev.edgesync.node.config.ConfigValues.file;
import static dev.edgesync.node.config.ConfigValues.id;
import static dev.edgesync.node.config.ConfigValues.idList;
import static dev.edgesync.node.config.ConfigValues.inlineToken;
import static dev.edgesync.node.config.ConfigValues.notNegative;
import static dev.edgesync.node.config.ConfigValues.path;
import static dev.edgesync.node.config.ConfigValues.positive;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerListParser;
import dev.edgesync.engine.config.Defaults;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Resolves a {@link NodeConfig} from defaults, a YAML or JSON file, environment variables and
 * flags, in that order of precedence (later wins), and validates it once.
 *
 * <p>Every error is a {@link ConfigException} naming the source of the offending value (the file,
 * the environment variable or the flag), the key, the value and what is expected. Unknown keys in
 * the file are errors so that a typo does not silently fall back to a default.
 *
 * <p>Split by concern: {@link ConfigFile} reads the file, {@link ConfigValues} parses single
 * values, {@link ConfigDraft} holds the values with their sources and checks the rules between
 * them; this class reads the environment and the flags and puts it together.
 *
 * <p>The environment is passed in as a map so the precedence rules can be tested without touching
 * the process environment.
 */
public final class ConfigLoader {
  /** Environment variable for {@code id}. */
  public static final String ENV_NODE_ID = "EDGESYNC_NODE_ID";

  /** Environment variable for {@code cluster}. */
  public static final String ENV_CLUSTER = "EDGESYNC_CLUSTER";

  /** Environment variable for {@code listen}. */
  public static final String ENV_LISTEN = "EDGESYNC_LISTEN";

  /** Environment variable for {@code http}. */
  public static final String ENV_HTTP = "EDGESYNC_HTTP";

  /** Environment variable for {@code dataDir}. */
  public static final String ENV_DATA_DIR = "EDGESYNC_DATA_DIR";

  /** Environment variable for {@code peers}. */
  public static final String ENV_PEERS = "EDGESYNC_PEERS";

  /** Environment variable for {@code durability}. */
  public static final String ENV_DURABILITY = "EDGESYNC_DURABILITY";

  /** Environment variable for {@code security.tls.cert}. */
  public static final String ENV_TLS_CERT = "EDGESYNC_TLS_CERT";

  /** Environment variable for {@code security.tls.key}. */
  public static final String ENV_TLS_KEY = "EDGESYNC_TLS_KEY";

  /** Environment variable for {@code security.tls.ca}. */
  public static final String ENV_TLS_CA = "EDGESYNC_TLS_CA";

  /** Environment variable for {@code security.token}. */
  public static final String ENV_TOKEN = "EDGESYNC_TOKEN";

  /** Environment variable for {@code security.tokenFile}. */
  public static final String ENV_TOKEN_FILE = "EDGESYNC_TOKEN_FILE";

  /** Environment variable for {@code security.allowedPeers} (comma-separated ids). */
  public static final String ENV_ALLOWED_PEERS = "EDGESYNC_ALLOWED_PEERS";

  /** Environment variable for {@code security.http.token}. */
  public static final String ENV_HTTP_TOKEN = "EDGESYNC_HTTP_TOKEN";

  /** Environment variable for {@code security.http.tokenFile}. */
  public static final String ENV_HTTP_TOKEN_FILE = "EDGESYNC_HTTP_TOKEN_FILE";

  /** Environment variable for {@code security.http.tls.cert}. */
  public static final String ENV_HTTP_TLS_CERT = "EDGESYNC_HTTP_TLS_CERT";

  /** Environment variable for {@code security.http.tls.key}. */
  public static final String ENV_HTTP_TLS_KEY = "EDGESYNC_HTTP_TLS_KEY";

  /** Environment variable for {@code discovery.dnsSrv}. */
  public static final String ENV_DNS_SRV = "EDGESYNC_DNS_SRV";

  /** Environment variable for {@code discovery.dnsInterval}. */
  public static final String ENV_DNS_INTERVAL = "EDGESYNC_DNS_INTERVAL";

  /** Environment variable for {@code discovery.dnsServers} (comma-separated {@code host:port}). */
  public static final String ENV_DNS_SERVERS = "EDGESYNC_DNS_SERVERS";

  /** Environment variable for {@code replication.stallTimeout}. */
  public static final String ENV_STALL_TIMEOUT = "EDGESYNC_STALL_TIMEOUT";

  /** Environment variable for {@code replication.antiEntropySettle}. */
  public static final String ENV_ANTI_ENTROPY_SETTLE = "EDGESYNC_ANTI_ENTROPY_SETTLE";

  /** Environment variable for {@code replication.antiEntropyMinInterval}. */
  public static final String ENV_ANTI_ENTROPY_MIN_INTERVAL = "EDGESYNC_ANTI_ENTROPY_MIN_INTERVAL";

  /** Environment variable for {@code replication.repairMaxEntries}. */
  public static final String ENV_REPAIR_MAX_ENTRIES = "EDGESYNC_REPAIR_MAX_ENTRIES";

  /** Environment variable naming the config file when {@code --config} is not given. */
  public static final String ENV_CONFIG = "EDGESYNC_CONFIG";

  /** Default cluster name ({@link Defaults#CLUSTER}). */
  public static final String DEFAULT_CLUSTER = Defaults.CLUSTER;

  /** Default gRPC bind address ({@link Defaults#LISTEN}). */
  public static final String DEFAULT_LISTEN = Defaults.LISTEN;

  /**
   * Default HTTP bind address: loopback only. Any other address needs {@code security.http.token}
   * (the API's reads and writes are otherwise open to whoever can reach it).
   */
  public static final String DEFAULT_HTTP = "127.0.0.1:7480";

  // Every default of the engine comes from engine.config.Defaults, as SyncNode.Builder's do, so
  // that `edgesync run` and an embedding app behave alike. Only the HTTP API's are the node's own.

  /** HTTP bodies may exceed the largest value by this much (bulk JSON, framing). */
  static final int HTTP_BODY_SLACK_BYTES = 1024 * 1024;

  /** Default of {@code limits.httpFeedWriteTimeout}. */
  static final Duration HTTP_FEED_WRITE_TIMEOUT = Duration.ofSeconds(30);

  private ConfigLoader() {}

  /**
   * Resolves the configuration.
   *
   * @param flags the command-line flags given
   * @param env the environment (normally {@code System.getenv()})
   * @throws ConfigException naming the source, key and value of the first bad value
   */
  public static NodeConfig load(ConfigOverrides flags, Map<String, String> env) {
    Objects.requireNonNull(flags, "flags");
    Objects.requireNonNull(env, "env");
    ConfigDraft d = new ConfigDraft();
    Path file = configFile(flags, env);
    if (file != null) {
      d.configFile = file;
      ConfigFile.apply(d, file);
    }
    applyEnv(d, env);
    applyFlags(d, flags);
    return d.build();
  }

  private static Path configFile(ConfigOverrides flags, Map<String, String> env) {
    if (flags.config() != null) {
      return path(flags.config(), "flag --config", "config");
    }
    String fromEnv = env.get(ENV_CONFIG);
    if (fromEnv != null) {
      return path(fromEnv, envSource(ENV_CONFIG), "config");
    }
    return null;
  }

  // ---- environment and flags ----

  private static void applyEnv(ConfigDraft d, Map<String, String> env) {
    String v;
    if ((v = env.get(ENV_NODE_ID)) != null) {
      String s = envSource(ENV_NODE_ID);
      d.id.set(id(v, s, "id"), s);
    }
    if ((v = env.get(ENV_CLUSTER)) != null) {
      String s = envSource(ENV_CLUSTER);
      d.cluster.set(cluster(v, s, "cluster"), s);
    }
    if ((v = env.get(ENV_LISTEN)) != null) {
      String s = envSource(ENV_LISTEN);
      d.listen.set(HostPort.parse(v, s, "listen"), s);
    }
    if ((v = env.get(ENV_HTTP)) != null) {
      String s = envSource(ENV_HTTP);
      d.http.set(HostPort.parse(v, s, "http"), s);
    }
    if ((v = env.get(ENV_DATA_DIR)) != null) {
      String s = envSource(ENV_DATA_DIR);
      d.dataDir.set(path(v, s, "dataDir"), s);
    }
    if ((v = env.get(ENV_PEERS)) != null) {
      // A set but blank variable is an explicit empty list that overrides the file.
      String s = envSource(ENV_PEERS);
      d.peers.set(PeerListParser.parse(v, s), s);
      d.peersFromFile = false;
    }
    if ((v = env.get(ENV_DURABILITY)) != null) {
      String s = envSource(ENV_DURABILITY);
      d.durability.set(durability(v, s, "durability"), s);
    }
    if ((v = env.get(ENV_STALL_TIMEOUT)) != null) {
      String s = envSource(ENV_STALL_TIMEOUT);
      d.stallTimeout.set(positive(v, s, "replication.stallTimeout"), s);
    }
    if ((v = env.get(ENV_ANTI_ENTROPY_SETTLE)) != null) {
      String s = envSource(ENV_ANTI_ENTROPY_SETTLE);
      d.antiEntropySettle.set(notNegative(v, s, "replication.antiEntropySettle"), s);
    }
    if ((v = env.get(ENV_ANTI_ENTROPY_MIN_INTERVAL)) != null) {
      String s = envSource(ENV_ANTI_ENTROPY_MIN_INTERVAL);
      d.antiEntropyMinInterval.set(notNegative(v, s, "replication.antiEntropyMinInterval"), s);
    }
    if ((v = env.get(ENV_REPAIR_MAX_ENTRIES)) != null) {
      String s = envSource(ENV_REPAIR_MAX_ENTRIES);
      d.repairMaxEntries.set(count(v, 1, 1_000_000, s, "replication.repairMaxEntries"), s);
    }
    if ((v = env.get(ENV_TLS_CERT)) != null) {
      String s = envSource(ENV_TLS_CERT);
      d.tlsCert.set(file(v, s, "security.tls.cert"), s);
    }
    if ((v = env.get(ENV_TLS_KEY)) != null) {
      String s = envSource(ENV_TLS_KEY);
      d.tlsKey.set(file(v, s, "security.tls.key"), s);
    }
    if ((v = env.get(ENV_TLS_CA)) != null) {
      String s = envSource(ENV_TLS_CA);
      d.tlsCa.set(file(v, s, "security.tls.ca"), s);
    }
    if ((v = env.get(ENV_TOKEN_FILE)) != null) {
      String s = envSource(ENV_TOKEN_FILE);
      d.token.set(new NodeConfig.Secret(null, file(v, s, "security.tokenFile")), s);
    }
    if ((v = env.get(ENV_TOKEN)) != null) {
      String s = envSource(ENV_TOKEN);
      d.token.set(inlineToken(v, s, "security.token"), s);
    }
    if ((v = env.get(ENV_DNS_SRV)) != null) {
      String s = envSource(ENV_DNS_SRV);
      d.dnsSrv.set(v.isBlank() ? null : ConfigValues.dnsName(v, s, "discovery.dnsSrv"), s);
    }
    if ((v = env.get(ENV_DNS_INTERVAL)) != null) {
      String s = envSource(ENV_DNS_INTERVAL);
      d.dnsInterval.set(positive(v, s, "discovery.dnsInterval"), s);
    }
    if ((v = env.get(ENV_DNS_SERVERS)) != null) {
      String s = envSource(ENV_DNS_SERVERS);
      d.dnsServers.set(ConfigValues.hostPorts(v, s, "discovery.dnsServers"), s);
    }
    if ((v = env.get(ENV_ALLOWED_PEERS)) != null) {
      String s = envSource(ENV_ALLOWED_PEERS);
      d.allowedPeers.set(idList(v, s, "security.allowedPeers"), s);
    }
    if ((v = env.get(ENV_HTTP_TOKEN_FILE)) != null) {
      String s = envSource(ENV_HTTP_TOKEN_FILE);
      d.httpToken.set(new NodeConfig.Secret(null, file(v, s, "security.http.tokenFile")), s);
    }
    if ((v = env.get(ENV_HTTP_TOKEN)) != null) {
      String s = envSource(ENV_HTTP_TOKEN);
      d.httpToken.set(inlineToken(v, s, "security.http.token"), s);
    }
    if ((v = env.get(ENV_HTTP_TLS_CERT)) != null) {
      String s = envSource(ENV_HTTP_TLS_CERT);
      d.httpTlsCert.set(file(v, s, "security.http.tls.cert"), s);
    }
    if ((v = env.get(ENV_HTTP_TLS_KEY)) != null) {
      String s = envSource(ENV_HTTP_TLS_KEY);
      d.httpTlsKey.set(file(v, s, "security.http.tls.key"), s);
    }
  }

  private static void applyFlags(ConfigDraft d, ConfigOverrides f) {
    if (f.id() != null) {
      d.id.set(id(f.id(), "flag --id", "id"), "flag --id");
    }
    if (f.cluster() != null) {
      d.cluster.set(cluster(f.cluster(), "flag --cluster", "cluster"), "flag --cluster");
    }
    if (f.listen() != null) {
      d.listen.set(HostPort.parse(f.listen(), "flag --listen", "listen"), "flag --listen");
    }
    if (f.http() != null) {
      d.http.set(HostPort.parse(f.http(), "flag --http", "http"), "flag --http");
    }
    if (f.dataDir() != null) {
      d.dataDir.set(path(f.dataDir(), "flag --data-dir", "dataDir"), "flag --data-dir");
    }
    if (f.peers() != null) {
      d.peers.set(PeerListParser.parse(f.peers(), "flag --peers"), "flag --peers");
      d.peersFromFile = false;
    }
    if (f.durability() != null) {
      d.durability.set(
          durability(f.durability(), "flag --durability", "durability"), "flag --durability");
    }
    if (f.tlsCert() != null) {
      d.tlsCert.set(file(f.tlsCert(), "flag --tls-cert", "security.tls.cert"), "flag --tls-cert");
    }
    if (f.tlsKey() != null) {
      d.tlsKey.set(file(f.tlsKey(), "flag --tls-key", "security.tls.key"), "flag --tls-key");
    }
    if (f.tlsCa() != null) {
      d.tlsCa.set(file(f.tlsCa(), "flag --tls-ca", "security.tls.ca"), "flag --tls-ca");
    }
    if (f.tokenFile() != null) {
      d.token.set(
          new NodeConfig.Secret(null, file(f.tokenFile(), "flag --token-file", "security.tokenFile")),
          "flag --token-file");
    }
    if (f.allowedPeers() != null) {
      d.allowedPeers.set(
          idList(f.allowedPeers(), "flag --allowed-peers", "security.allowedPeers"),
          "flag --allowed-peers");
    }
    if (f.httpTokenFile() != null) {
      d.httpToken.set(
          new NodeConfig.Secret(
              null, file(f.httpTokenFile(), "flag --http-token-file", "security.http.tokenFile")),
          "flag --http-token-file");
    }
    if (f.clockOffset() != null) {
      Duration offset = Durations.parseOrNull(f.clockOffset());
      if (offset == null || offset.abs().compareTo(Duration.ofDays(365)) > 0) {
        throw new ConfigException(
            "flag --clock-offset",
            "clockOffset",
            f.clockOffset(),
            offset == null ? "not a duration" : "offset is more than a year",
            "a signed duration such as -30s, 2m or PT-90S");
      }
      d.clockOffset = offset;
    }
  }

  private static String envSource(String variable) {
    return "environment variable " + variable;
  }
}
