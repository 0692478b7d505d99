package dev.edgesync.node.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.security.ClusterToken;
import dev.edgesync.engine.storage.Durability;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value parsers of {@link ConfigLoader}, shared by the file, the environment and the flags:
 * each turns one text into a typed value or throws a {@link ConfigException} naming the source,
 * the key, the value and what is expected.
 */
final class ConfigValues {
  static final String HIDDEN = "<hidden>";
  static final String ID_FORMAT = "1 to 64 characters from A-Z a-z 0-9 . _ -, e.g. site-a";
  private static final String BYTES_FORMAT = "a whole number of bytes, e.g. 1048576 or 1MiB";
  private static final String COUNT_FORMAT = "a whole number";
  private static final Pattern BYTES = Pattern.compile("(\\d{1,10})\\s*(b|kib|mib|gib)?");

  private ConfigValues() {}

  static String scalar(JsonNode v, String source, String key) {
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

  static String id(String v, String source, String key) {
    String s = v.strip();
    if (!PeerSpec.isValidId(s)) {
      throw new ConfigException(
          source, key, v, s.isEmpty() ? "node id is empty" : "node id is not valid", ID_FORMAT);
    }
    return s;
  }

  static String cluster(String v, String source, String key) {
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

  static Path path(String v, String source, String key) {
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
  static Path file(String v, String source, String key) {
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
  static NodeConfig.Secret inlineToken(String v, String source, String key) {
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

  private static final Pattern DNS_NAME =
      Pattern.compile("(?=.{1,253}\\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\\.?");

  /** A DNS name such as {@code _grpc._tcp.edgesync.shops.svc.cluster.local}. */
  static String dnsName(String v, String source, String key) {
    String t = v.strip();
    if (!DNS_NAME.matcher(t).matches()) {
      throw new ConfigException(
          source, key, v, "is not a DNS name", "the SRV name of the peers, e.g. _grpc._tcp.edgesync.shops.svc.cluster.local");
    }
    return t;
  }

  /** {@code host:port} addresses as a YAML list or a comma-separated string. */
  static List<HostPort> hostPorts(JsonNode v, String source, String key) {
    if (v != null && v.isArray()) {
      List<HostPort> out = new java.util.ArrayList<>();
      for (int i = 0; i < v.size(); i++) {
        out.add(HostPort.parse(scalar(v.get(i), source, key + "[" + i + "]"), source, key + "[" + i + "]"));
      }
      return List.copyOf(out);
    }
    return hostPorts(scalar(v, source, key), source, key);
  }

  static List<HostPort> hostPorts(String v, String source, String key) {
    List<HostPort> out = new java.util.ArrayList<>();
    for (String part : v.split(",", -1)) {
      if (!part.isBlank()) {
        out.add(HostPort.parse(part.strip(), source, key));
      }
    }
    return List.copyOf(out);
  }

  /** Node ids as a YAML list or a comma-separated string. */
  static List<String> idList(JsonNode v, String source, String key) {
    if (v != null && v.isArray()) {
      List<String> ids = new java.util.ArrayList<>();
      for (int i = 0; i < v.size(); i++) {
        ids.add(id(scalar(v.get(i), source, key + "[" + i + "]"), source, key + "[" + i + "]"));
      }
      return List.copyOf(new java.util.LinkedHashSet<>(ids));
    }
    return idList(scalar(v, source, key), source, key);
  }

  static List<String> idList(String v, String source, String key) {
    List<String> ids = new java.util.ArrayList<>();
    for (String part : v.split(",", -1)) {
      if (part.isBlank() && v.isBlank()) {
        continue;
      }
      ids.add(id(part, source, key));
    }
    return List.copyOf(new java.util.LinkedHashSet<>(ids));
  }

  static String serverName(String v, String source, String key) {
    String s = v.strip();
    if (s.isEmpty() || s.length() > 253 || !s.matches("[A-Za-z0-9._*-]+")) {
      throw new ConfigException(
          source, key, v, "not a DNS name", "the DNS name in the peer's certificate, e.g. sync.site-b.example");
    }
    return s;
  }

  static Durability durability(String v, String source, String key) {
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

  static Duration positive(String v, String source, String key) {
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

  static int count(String v, int min, int max, String source, String key) {
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

  static int bytes(String v, int min, int max, String source, String key) {
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

  static boolean bool(String v, String source, String key) {
    return switch (v.strip().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException(source, key, v, "not a boolean", "true or false");
    };
  }

  /** A duration of 0 or more (0 turns a wait off), at most a day. */
  static Duration notNegative(String v, String source, String key) {
    Duration d = Durations.parseOrNull(v);
    if (d == null) {
      throw new ConfigException(source, key, v, "not a duration", Durations.FORMAT);
    }
    if (d.isNegative()) {
      throw new ConfigException(
          source, key, v, "duration is negative", "0 or a positive " + Durations.FORMAT);
    }
    if (d.compareTo(Duration.ofDays(1)) > 0) {
      throw new ConfigException(source, key, v, "duration is longer than a day", "at most 1d");
    }
    return d;
  }
}
