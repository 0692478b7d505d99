package dev.edgesync.node.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.ConfigFileReader;
import dev.edgesync.discovery.PeerFileSource;
import dev.edgesync.discovery.PeerListParser;
import dev.edgesync.discovery.PeerSet;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.security.ClusterToken;
import dev.edgesync.engine.storage.Durability;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves a {@link NodeConfig} from defaults, a YAML or JSON file, environment variables and
 * flags, in that order of precedence (later wins), and validates it once.
 *
 * <p>Every error is a {@link ConfigException} naming the source of the offending value (the file,
 * the environment variable or the flag), the key, the value and what is expected. Unknown keys in
 * the file are errors so that a typo does not silently fall back to a default.
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

  private static final List<String> TOP_KEYS =
      List.of(
          "id",
          "cluster",
          "listen",
          "http",
          "dataDir",
          "peers",
          "durability",
          "replication",
          "limits",
          "security");
  private static final List<String> REPLICATION_KEYS =
      List.of(
          "heartbeatInterval",
          "heartbeatTimeout",
          "reconnectBaseDelay",
          "reconnectMaxDelay",
          "batchMaxEntries",
          "batchMaxBytes",
          "maxBatchesInFlight",
          "compression",
          "maxClockSkew");
  private static final List<String> LIMIT_KEYS =
      List.of(
          "maxKeyBytes",
          "maxValueBytes",
          "writeQueueDepth",
          "httpMaxBodyBytes",
          "maxInboundStreams",
          "maxStreamsPerPeer",
          "handshakeTimeout");
  private static final List<String> SECURITY_KEYS =
      List.of("tls", "token", "tokenFile", "allowedPeers", "reloadInterval", "http");
  private static final List<String> TLS_KEYS = List.of("cert", "key", "ca", "peers");
  private static final List<String> PEER_TLS_KEYS = List.of("ca", "serverName");
  private static final List<String> HTTP_SECURITY_KEYS = List.of("token", "tokenFile", "tls");
  private static final List<String> HTTP_TLS_KEYS = List.of("cert", "key");
  private static final String HIDDEN = "<hidden>";

  private static final String DEFAULTS = "defaults";
  private static final String ID_FORMAT = "1 to 64 characters from A-Z a-z 0-9 . _ -, e.g. site-a";
  private static final String BYTES_FORMAT = "a whole number of bytes, e.g. 1048576 or 1MiB";
  private static final String COUNT_FORMAT = "a whole number";
  private static final Pattern BYTES = Pattern.compile("(\\d{1,10})\\s*(b|kib|mib|gib)?");

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
    Draft d = new Draft();
    Path file = configFile(flags, env);
    if (file != null) {
      d.configFile = file;
      applyFile(d, file);
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

  // ---- the file ----

  private static void applyFile(Draft d, Path file) {
    ObjectNode root = ConfigFileReader.read(file);
    String source = ConfigFileReader.sourceOf(file);
    checkKeys(root, TOP_KEYS, "", source);
    // The file owns the peer list (and a later edit of it changes the peers at run time) unless
    // the environment or a flag overrides it.
    d.peersFromFile = true;
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      switch (key) {
        case "id" -> d.id.set(id(scalar(v, source, key), source, key), source);
        case "cluster" -> d.cluster.set(cluster(scalar(v, source, key), source, key), source);
        case "listen" -> d.listen.set(HostPort.parse(scalar(v, source, key), source, key), source);
        case "http" -> d.http.set(HostPort.parse(scalar(v, source, key), source, key), source);
        case "dataDir" -> d.dataDir.set(path(scalar(v, source, key), source, key), source);
        case "durability" ->
            d.durability.set(durability(scalar(v, source, key), source, key), source);
        case "peers" -> d.peers.set(PeerFileSource.fromTree(root, source), source);
        case "replication" -> applyReplication(d, mapping(v, source, key), source);
        case "limits" -> applyLimits(d, mapping(v, source, key), source);
        case "security" -> applySecurity(d, mapping(v, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyReplication(Draft d, ObjectNode node, String source) {
    checkKeys(node, REPLICATION_KEYS, "replication.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "replication." + e.getKey();
      String text = scalar(e.getValue(), source, key);
      switch (e.getKey()) {
        case "heartbeatInterval" -> d.heartbeatInterval.set(positive(text, source, key), source);
        case "heartbeatTimeout" -> d.heartbeatTimeout.set(positive(text, source, key), source);
        case "reconnectBaseDelay" -> d.reconnectBaseDelay.set(positive(text, source, key), source);
        case "reconnectMaxDelay" -> d.reconnectMaxDelay.set(positive(text, source, key), source);
        case "maxClockSkew" -> d.maxClockSkew.set(positive(text, source, key), source);
        case "batchMaxEntries" ->
            d.batchMaxEntries.set(count(text, 1, 1_000_000, source, key), source);
        case "batchMaxBytes" ->
            d.batchMaxBytes.set(bytes(text, 1, 256 * 1024 * 1024, source, key), source);
        case "maxBatchesInFlight" -> d.maxBatchesInFlight.set(count(text, 1, 1024, source, key), source);
        case "compression" -> d.compression.set(bool(text, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyLimits(Draft d, ObjectNode node, String source) {
    checkKeys(node, LIMIT_KEYS, "limits.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "limits." + e.getKey();
      String text = scalar(e.getValue(), source, key);
      switch (e.getKey()) {
        case "maxKeyBytes" -> d.maxKeyBytes.set(bytes(text, 1, 64 * 1024, source, key), source);
        case "maxValueBytes" ->
            d.maxValueBytes.set(bytes(text, 1, 64 * 1024 * 1024, source, key), source);
        case "writeQueueDepth" ->
            d.writeQueueDepth.set(count(text, 1, 10_000_000, source, key), source);
        case "httpMaxBodyBytes" ->
            d.httpMaxBodyBytes.set(bytes(text, 1, 1024 * 1024 * 1024, source, key), source);
        case "maxInboundStreams" ->
            d.maxInboundStreams.set(count(text, 1, 100_000, source, key), source);
        case "maxStreamsPerPeer" ->
            d.maxStreamsPerPeer.set(count(text, 1, 100_000, source, key), source);
        case "handshakeTimeout" -> d.handshakeTimeout.set(positive(text, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applySecurity(Draft d, ObjectNode node, String source) {
    checkKeys(node, SECURITY_KEYS, "security.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "security." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "tls" -> applyTls(d, mapping(v, source, key), source);
        case "token" -> d.token.set(inlineToken(scalar(v, source, key), source, key), source);
        case "tokenFile" ->
            d.token.set(new NodeConfig.Secret(null, file(scalar(v, source, key), source, key)), source);
        case "allowedPeers" -> d.allowedPeers.set(idList(v, source, key), source);
        case "reloadInterval" -> d.reloadInterval.set(positive(scalar(v, source, key), source, key), source);
        case "http" -> applyHttpSecurity(d, mapping(v, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyTls(Draft d, ObjectNode node, String source) {
    checkKeys(node, TLS_KEYS, "security.tls.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "security.tls." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "cert" -> d.tlsCert.set(file(scalar(v, source, key), source, key), source);
        case "key" -> d.tlsKey.set(file(scalar(v, source, key), source, key), source);
        case "ca" -> d.tlsCa.set(file(scalar(v, source, key), source, key), source);
        case "peers" -> {
          ObjectNode peers = mapping(v, source, key);
          Map<String, NodeConfig.PeerTls> byId = new java.util.TreeMap<>();
          for (Map.Entry<String, JsonNode> p : peers.properties()) {
            String field = key + "." + p.getKey();
            String peerId = id(p.getKey(), source, field);
            ObjectNode o = mapping(p.getValue(), source, field);
            checkKeys(o, PEER_TLS_KEYS, field + ".", source);
            Path ca = o.has("ca") ? file(scalar(o.get("ca"), source, field + ".ca"), source, field + ".ca") : null;
            String serverName = o.has("serverName") ? serverName(scalar(o.get("serverName"), source, field + ".serverName"), source, field + ".serverName") : null;
            byId.put(peerId, new NodeConfig.PeerTls(ca, serverName));
          }
          d.peerTls.set(byId, source);
        }
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyHttpSecurity(Draft d, ObjectNode node, String source) {
    checkKeys(node, HTTP_SECURITY_KEYS, "security.http.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "security.http." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "token" -> d.httpToken.set(inlineToken(scalar(v, source, key), source, key), source);
        case "tokenFile" ->
            d.httpToken.set(new NodeConfig.Secret(null, file(scalar(v, source, key), source, key)), source);
        case "tls" -> {
          ObjectNode tls = mapping(v, source, key);
          checkKeys(tls, HTTP_TLS_KEYS, key + ".", source);
          for (Map.Entry<String, JsonNode> t : tls.properties()) {
            String k = key + "." + t.getKey();
            Path f = file(scalar(t.getValue(), source, k), source, k);
            if (t.getKey().equals("cert")) {
              d.httpTlsCert.set(f, source);
            } else {
              d.httpTlsKey.set(f, source);
            }
          }
        }
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void checkKeys(
      ObjectNode node, List<String> allowed, String prefix, String source) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!allowed.contains(e.getKey())) {
        String suggestion = closest(e.getKey(), allowed);
        throw new ConfigException(
            source,
            prefix + e.getKey(),
            e.getValue().toString(),
            "unknown key"
                + (suggestion == null ? "" : " (did you mean '" + prefix + suggestion + "'?)"),
            "one of " + String.join(", ", allowed.stream().map(k -> prefix + k).toList()));
      }
    }
  }

  private static String scalar(JsonNode v, String source, String key) {
    if (v == null || v.isNull()) {
      throw new ConfigException(source, key, null, "value is empty", "a value, or remove the key");
    }
    if (!v.isValueNode()) {
      throw new ConfigException(
          source,
          key,
          v.toString(),
          "value is a " + (v.isArray() ? "list" : "mapping"),
          "a single value");
    }
    return v.asText();
  }

  private static ObjectNode mapping(JsonNode v, String source, String key) {
    if (v == null || !v.isObject()) {
      throw new ConfigException(
          source,
          key,
          String.valueOf(v),
          "value is not a mapping",
          "a mapping, e.g. "
              + key
              + ": {"
              + (key.equals("limits") ? "maxValueBytes: 1MiB" : "heartbeatInterval: 1s")
              + "}");
    }
    return (ObjectNode) v;
  }

  // ---- environment and flags ----

  private static void applyEnv(Draft d, Map<String, String> env) {
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

  private static void applyFlags(Draft d, ConfigOverrides f) {
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

  // ---- value parsers: each names its source and key ----

  private static String id(String v, String source, String key) {
    String s = v.strip();
    if (!PeerSpec.isValidId(s)) {
      throw new ConfigException(
          source, key, v, s.isEmpty() ? "node id is empty" : "node id is not valid", ID_FORMAT);
    }
    return s;
  }

  private static String cluster(String v, String source, String key) {
    String s = v.strip();
    if (s.isEmpty() || s.length() > 128 || s.chars().anyMatch(Character::isISOControl)) {
      throw new ConfigException(
          source,
          key,
          v,
          s.isEmpty() ? "cluster name is empty" : "cluster name is not valid",
          "a name of 1 to 128 printable characters, e.g. shops-eu");
    }
    return s;
  }

  private static Path path(String v, String source, String key) {
    if (v.isBlank()) {
      throw new ConfigException(source, key, v, "path is empty", "a directory or file path");
    }
    try {
      return Path.of(v.strip());
    } catch (InvalidPathException e) {
      throw new ConfigException(
          source, key, v, "not a valid path: " + e.getReason(), "a directory or file path", e);
    }
  }

  /** A file that must exist and be readable now (it is read when the node starts). */
  private static Path file(String v, String source, String key) {
    Path p = path(v, source, key);
    if (!java.nio.file.Files.isRegularFile(p)) {
      throw new ConfigException(source, key, v, "no such file", "the path of an existing file");
    }
    if (!java.nio.file.Files.isReadable(p)) {
      throw new ConfigException(
          source, key, v, "the file is not readable by this user", "a file this user can read");
    }
    return p;
  }

  /** A token given as a value; errors never repeat it. */
  private static NodeConfig.Secret inlineToken(String v, String source, String key) {
    try {
      ClusterToken.of(v.strip(), key);
    } catch (IllegalArgumentException e) {
      String problem = e.getMessage();
      int colon = problem.indexOf(": ");
      int expected = problem.indexOf("; expected ");
      throw new ConfigException(
          source,
          key,
          HIDDEN,
          colon >= 0 && expected > colon ? problem.substring(colon + 2, expected) : problem,
          ClusterToken.MIN_CHARS
              + " to "
              + ClusterToken.MAX_CHARS
              + " visible ASCII characters, e.g. from 'openssl rand -hex 32'");
    }
    return new NodeConfig.Secret(v.strip(), null);
  }

  /** Node ids as a YAML list or a comma-separated string. */
  private static List<String> idList(JsonNode v, String source, String key) {
    if (v != null && v.isArray()) {
      List<String> ids = new java.util.ArrayList<>();
      for (int i = 0; i < v.size(); i++) {
        ids.add(id(scalar(v.get(i), source, key + "[" + i + "]"), source, key + "[" + i + "]"));
      }
      return List.copyOf(new java.util.LinkedHashSet<>(ids));
    }
    return idList(scalar(v, source, key), source, key);
  }

  private static List<String> idList(String v, String source, String key) {
    List<String> ids = new java.util.ArrayList<>();
    for (String part : v.split(",", -1)) {
      if (part.isBlank() && v.isBlank()) {
        continue;
      }
      ids.add(id(part, source, key));
    }
    return List.copyOf(new java.util.LinkedHashSet<>(ids));
  }

  private static String serverName(String v, String source, String key) {
    String s = v.strip();
    if (s.isEmpty() || s.length() > 253 || !s.matches("[A-Za-z0-9._*-]+")) {
      throw new ConfigException(
          source, key, v, "not a DNS name", "the DNS name in the peer's certificate, e.g. sync.site-b.example");
    }
    return s;
  }

  private static Durability durability(String v, String source, String key) {
    return switch (v.strip().toLowerCase(Locale.ROOT)) {
      case "fsync" -> Durability.FSYNC;
      case "buffered" -> Durability.BUFFERED;
      default ->
          throw new ConfigException(
              source,
              key,
              v,
              "unknown durability",
              "fsync (survives power loss) or buffered (survives a process crash)");
    };
  }

  private static Duration positive(String v, String source, String key) {
    Duration d = Durations.parseOrNull(v);
    if (d == null) {
      throw new ConfigException(source, key, v, "not a duration", Durations.FORMAT);
    }
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException(
          source, key, v, "duration must be positive", "a positive " + Durations.FORMAT);
    }
    if (d.compareTo(Duration.ofDays(1)) > 0) {
      throw new ConfigException(source, key, v, "duration is longer than a day", "at most 1d");
    }
    return d;
  }

  private static int count(String v, int min, int max, String source, String key) {
    long n;
    try {
      n = Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new ConfigException(
          source, key, v, "not a whole number", COUNT_FORMAT + " from " + min + " to " + max);
    }
    if (n < min || n > max) {
      throw new ConfigException(
          source, key, v, "out of range", COUNT_FORMAT + " from " + min + " to " + max);
    }
    return (int) n;
  }

  private static int bytes(String v, int min, int max, String source, String key) {
    Matcher m = BYTES.matcher(v.strip().toLowerCase(Locale.ROOT));
    String range = " from " + min + " to " + max;
    if (!m.matches()) {
      throw new ConfigException(source, key, v, "not a size in bytes", BYTES_FORMAT + range);
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2);
    n *=
        switch (unit) {
          case "kib" -> 1024L;
          case "mib" -> 1024L * 1024;
          case "gib" -> 1024L * 1024 * 1024;
          default -> 1L;
        };
    if (n < min || n > max) {
      throw new ConfigException(source, key, v, "out of range", BYTES_FORMAT + range);
    }
    return (int) n;
  }

  private static boolean bool(String v, String source, String key) {
    return switch (v.strip().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException(source, key, v, "not a boolean", "true or false");
    };
  }

  /** The allowed key closest to a misspelt one, if it is a plausible typo. */
  private static String closest(String key, List<String> allowed) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : allowed) {
      int d = distance(key.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return bestDistance <= Math.max(2, key.length() / 4) ? best : null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  // ---- the draft, with the source of every value ----

  /** A value and where it came from, so cross-field errors can name the right source. */
  private static final class Setting<T> {
    private T value;
    private String source;

    Setting(T value) {
      this.value = value;
      this.source = DEFAULTS;
    }

    void set(T v, String s) {
      this.value = v;
      this.source = s;
    }
  }

  private static final class Draft {
    final Setting<String> id = new Setting<>(null);
    final Setting<String> cluster = new Setting<>(DEFAULT_CLUSTER);
    final Setting<HostPort> listen =
        new Setting<>(HostPort.parse(DEFAULT_LISTEN, DEFAULTS, "listen"));
    final Setting<HostPort> http = new Setting<>(HostPort.parse(DEFAULT_HTTP, DEFAULTS, "http"));
    final Setting<Path> dataDir = new Setting<>(null);
    final Setting<PeerSet> peers = new Setting<>(PeerSet.empty());
    final Setting<Durability> durability = new Setting<>(Defaults.FSYNC ? Durability.FSYNC : Durability.BUFFERED);
    final Setting<Duration> heartbeatInterval = new Setting<>(Defaults.HEARTBEAT_INTERVAL);
    final Setting<Duration> heartbeatTimeout = new Setting<>(Defaults.HEARTBEAT_TIMEOUT);
    final Setting<Duration> reconnectBaseDelay = new Setting<>(Defaults.RECONNECT_BASE_DELAY);
    final Setting<Duration> reconnectMaxDelay = new Setting<>(Defaults.RECONNECT_MAX_DELAY);
    final Setting<Integer> batchMaxEntries = new Setting<>(Defaults.BATCH_MAX_ENTRIES);
    final Setting<Integer> batchMaxBytes = new Setting<>(Defaults.BATCH_MAX_BYTES);
    final Setting<Integer> maxBatchesInFlight =
        new Setting<>(Defaults.MAX_BATCHES_IN_FLIGHT);
    final Setting<Boolean> compression = new Setting<>(Defaults.COMPRESSION);
    final Setting<Duration> maxClockSkew = new Setting<>(Defaults.MAX_CLOCK_SKEW);
    final Setting<Integer> maxKeyBytes = new Setting<>(Defaults.MAX_KEY_BYTES);
    final Setting<Integer> maxValueBytes = new Setting<>(Defaults.MAX_VALUE_BYTES);
    final Setting<Integer> writeQueueDepth = new Setting<>(Defaults.WRITE_QUEUE_DEPTH);
    final Setting<Integer> httpMaxBodyBytes = new Setting<>(null);
    final Setting<Integer> maxInboundStreams =
        new Setting<>(Defaults.MAX_INBOUND_STREAMS);
    final Setting<Integer> maxStreamsPerPeer =
        new Setting<>(Defaults.MAX_STREAMS_PER_PEER);
    final Setting<Duration> handshakeTimeout =
        new Setting<>(Defaults.HANDSHAKE_TIMEOUT);
    final Setting<Path> tlsCert = new Setting<>(null);
    final Setting<Path> tlsKey = new Setting<>(null);
    final Setting<Path> tlsCa = new Setting<>(null);
    final Setting<Map<String, NodeConfig.PeerTls>> peerTls = new Setting<>(Map.of());
    final Setting<NodeConfig.Secret> token = new Setting<>(null);
    final Setting<List<String>> allowedPeers = new Setting<>(List.of());
    final Setting<Duration> reloadInterval = new Setting<>(Defaults.SECURITY_RELOAD_INTERVAL);
    final Setting<NodeConfig.Secret> httpToken = new Setting<>(null);
    final Setting<Path> httpTlsCert = new Setting<>(null);
    final Setting<Path> httpTlsKey = new Setting<>(null);
    Path configFile;
    boolean peersFromFile;
    Duration clockOffset = Duration.ZERO;

    NodeConfig build() {
      if (id.value == null) {
        throw new ConfigException(
            "configuration",
            "id",
            null,
            "no node id is set",
            "--id, " + ENV_NODE_ID + " or 'id:' in the config file; " + ID_FORMAT);
      }
      if (peers.value.contains(id.value)) {
        throw new ConfigException(
            peers.source,
            "peers",
            peers.value.toString(),
            "the list holds this node's own id '" + id.value + "'",
            "only the other nodes; remove " + id.value);
      }
      if (heartbeatTimeout.value.compareTo(heartbeatInterval.value.multipliedBy(2)) < 0) {
        throw new ConfigException(
            heartbeatTimeout.source,
            "replication.heartbeatTimeout",
            Durations.format(heartbeatTimeout.value),
            "shorter than twice the heartbeat interval",
            "at least 2 x replication.heartbeatInterval ("
                + Durations.format(heartbeatInterval.value.multipliedBy(2))
                + ")");
      }
      if (reconnectMaxDelay.value.compareTo(reconnectBaseDelay.value) < 0) {
        throw new ConfigException(
            reconnectMaxDelay.source,
            "replication.reconnectMaxDelay",
            Durations.format(reconnectMaxDelay.value),
            "shorter than the base delay",
            "at least replication.reconnectBaseDelay ("
                + Durations.format(reconnectBaseDelay.value)
                + ")");
      }
      int bodyLimit =
          httpMaxBodyBytes.value != null
              ? httpMaxBodyBytes.value
              : (int)
                  Math.min(
                      Integer.MAX_VALUE - 8, (long) maxValueBytes.value + HTTP_BODY_SLACK_BYTES);
      if (bodyLimit < maxValueBytes.value) {
        throw new ConfigException(
            httpMaxBodyBytes.source,
            "limits.httpMaxBodyBytes",
            Integer.toString(bodyLimit),
            "smaller than the largest value, so such a value could not be written over HTTP",
            "at least limits.maxValueBytes (" + maxValueBytes.value + ")");
      }
      NodeConfig.Security security = security();
      Path dir = dataDir.value != null ? dataDir.value : Path.of("data", id.value);
      return new NodeConfig(
          id.value,
          cluster.value,
          listen.value,
          http.value,
          dir,
          peers.value,
          durability.value,
          new NodeConfig.Replication(
              heartbeatInterval.value,
              heartbeatTimeout.value,
              reconnectBaseDelay.value,
              reconnectMaxDelay.value,
              batchMaxEntries.value,
              batchMaxBytes.value,
              maxBatchesInFlight.value,
              compression.value,
              maxClockSkew.value),
          new NodeConfig.Limits(
              maxKeyBytes.value, maxValueBytes.value, writeQueueDepth.value, bodyLimit),
          configFile,
          peersFromFile && configFile != null,
          clockOffset,
          security);
    }

    private NodeConfig.Security security() {
      List<Setting<Path>> tls = List.of(tlsCert, tlsKey, tlsCa);
      long given = tls.stream().filter(t -> t.value != null).count();
      if (given != 0 && given != 3) {
        Setting<Path> some = tls.stream().filter(t -> t.value != null).findFirst().orElseThrow();
        throw new ConfigException(
            some.source,
            "security.tls",
            "cert " + tlsCert.value + ", key " + tlsKey.value + ", ca " + tlsCa.value,
            "TLS needs all three files, " + (3 - given) + " missing",
            "security.tls.cert, security.tls.key and security.tls.ca (or "
                + ENV_TLS_CERT
                + ", "
                + ENV_TLS_KEY
                + ", "
                + ENV_TLS_CA
                + ")");
      }
      if (given == 0 && !peerTls.value.isEmpty()) {
        throw new ConfigException(
            peerTls.source,
            "security.tls.peers",
            peerTls.value.keySet().toString(),
            "per-peer TLS settings without TLS",
            "security.tls.cert, key and ca as well");
      }
      if ((httpTlsCert.value == null) != (httpTlsKey.value == null)) {
        Setting<Path> some = httpTlsCert.value != null ? httpTlsCert : httpTlsKey;
        throw new ConfigException(
            some.source,
            "security.http.tls",
            "cert " + httpTlsCert.value + ", key " + httpTlsKey.value,
            "HTTPS needs both files",
            "security.http.tls.cert and security.http.tls.key (or "
                + ENV_HTTP_TLS_CERT
                + " and "
                + ENV_HTTP_TLS_KEY
                + ")");
      }
      if (maxStreamsPerPeer.value > maxInboundStreams.value) {
        throw new ConfigException(
            maxStreamsPerPeer.source,
            "limits.maxStreamsPerPeer",
            Integer.toString(maxStreamsPerPeer.value),
            "more than limits.maxInboundStreams",
            "at most limits.maxInboundStreams (" + maxInboundStreams.value + ")");
      }
      if (httpToken.value == null && !http.value.isLoopback()) {
        throw new ConfigException(
            http.source,
            "http",
            http.value.toString(),
            "the HTTP API would be open to the network without a token: it reads and writes every"
                + " key",
            "a bearer token in "
                + ENV_HTTP_TOKEN
                + ", security.http.token or security.http.tokenFile, or a loopback address such as"
                + " "
                + DEFAULT_HTTP);
      }
      return new NodeConfig.Security(
          tlsCert.value,
          tlsKey.value,
          tlsCa.value,
          peerTls.value,
          token.value,
          allowedPeers.value,
          reloadInterval.value,
          maxInboundStreams.value,
          maxStreamsPerPeer.value,
          handshakeTimeout.value,
          httpToken.value,
          httpTlsCert.value,
          httpTlsKey.value);
    }
  }
}
