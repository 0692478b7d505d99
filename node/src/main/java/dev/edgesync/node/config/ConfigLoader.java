package dev.edgesync.node.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.ConfigFileReader;
import dev.edgesync.discovery.PeerFileSource;
import dev.edgesync.discovery.PeerListParser;
import dev.edgesync.discovery.PeerSet;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.Durability;
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

  /** Environment variable naming the config file when {@code --config} is not given. */
  public static final String ENV_CONFIG = "EDGESYNC_CONFIG";

  /** Default cluster name. */
  public static final String DEFAULT_CLUSTER = "default";

  /** Default gRPC bind address. */
  public static final String DEFAULT_LISTEN = "0.0.0.0:7400";

  /** Default HTTP bind address: loopback only, the API has no authentication. */
  public static final String DEFAULT_HTTP = "127.0.0.1:7480";

  // Defaults mirror SyncNode.Builder's so that `edgesync run` and an embedding app behave alike.
  static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(1);
  static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration DEFAULT_RECONNECT_BASE_DELAY = Duration.ofMillis(200);
  static final Duration DEFAULT_RECONNECT_MAX_DELAY = Duration.ofSeconds(30);
  static final int DEFAULT_BATCH_MAX_ENTRIES = 1000;
  // An entry larger than this is sent in a batch of its own, so it need not fit the largest value.
  static final int DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;
  static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofSeconds(60);
  static final int DEFAULT_MAX_KEY_BYTES = 1024;
  static final int DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
  static final int DEFAULT_WRITE_QUEUE_DEPTH = 10_000;

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
          "limits");
  private static final List<String> REPLICATION_KEYS =
      List.of(
          "heartbeatInterval",
          "heartbeatTimeout",
          "reconnectBaseDelay",
          "reconnectMaxDelay",
          "batchMaxEntries",
          "batchMaxBytes",
          "compression",
          "maxClockSkew");
  private static final List<String> LIMIT_KEYS =
      List.of("maxKeyBytes", "maxValueBytes", "writeQueueDepth", "httpMaxBodyBytes");

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
    final Setting<Durability> durability = new Setting<>(Durability.FSYNC);
    final Setting<Duration> heartbeatInterval = new Setting<>(DEFAULT_HEARTBEAT_INTERVAL);
    final Setting<Duration> heartbeatTimeout = new Setting<>(DEFAULT_HEARTBEAT_TIMEOUT);
    final Setting<Duration> reconnectBaseDelay = new Setting<>(DEFAULT_RECONNECT_BASE_DELAY);
    final Setting<Duration> reconnectMaxDelay = new Setting<>(DEFAULT_RECONNECT_MAX_DELAY);
    final Setting<Integer> batchMaxEntries = new Setting<>(DEFAULT_BATCH_MAX_ENTRIES);
    final Setting<Integer> batchMaxBytes = new Setting<>(DEFAULT_BATCH_MAX_BYTES);
    final Setting<Boolean> compression = new Setting<>(false);
    final Setting<Duration> maxClockSkew = new Setting<>(DEFAULT_MAX_CLOCK_SKEW);
    final Setting<Integer> maxKeyBytes = new Setting<>(DEFAULT_MAX_KEY_BYTES);
    final Setting<Integer> maxValueBytes = new Setting<>(DEFAULT_MAX_VALUE_BYTES);
    final Setting<Integer> writeQueueDepth = new Setting<>(DEFAULT_WRITE_QUEUE_DEPTH);
    final Setting<Integer> httpMaxBodyBytes = new Setting<>(null);
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
              compression.value,
              maxClockSkew.value),
          new NodeConfig.Limits(
              maxKeyBytes.value, maxValueBytes.value, writeQueueDepth.value, bodyLimit),
          configFile,
          peersFromFile && configFile != null,
          clockOffset);
    }
  }
}
