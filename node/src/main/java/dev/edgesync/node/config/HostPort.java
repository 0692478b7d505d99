package dev.edgesync.node.config;

import dev.edgesync.discovery.ConfigException;
import java.util.regex.Pattern;

/**
 * A bind address: host (name, IPv4 or IPv6 without brackets) and port, where port 0 means "pick a
 * free port".
 *
 * @param host the host or IP address, IPv6 without brackets
 * @param port 0 to 65535
 */
public record HostPort(String host, int port) {

  /** What an address looks like, for error messages. */
  public static final String FORMAT =
      "host:port or [ipv6]:port with port 0-65535 (0 picks a free port), e.g. 127.0.0.1:7480";

  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._%:-]{1,253}");

  /**
   * Parses {@code host:port} or {@code [ipv6]:port}.
   *
   * @param source where the text came from, for the error
   * @param field the configuration key, for the error
   * @throws ConfigException naming source, field and value if the text is not an address
   */
  public static HostPort parse(String text, String source, String field) {
    if (text == null || text.isBlank()) {
      throw new ConfigException(source, field, text, "address is empty", FORMAT);
    }
    String s = text.strip();
    String host;
    String portText;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new ConfigException(
            source, field, text, "IPv6 address needs the form [addr]:port", FORMAT);
      }
      host = s.substring(1, close);
      portText = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon < 0) {
        throw new ConfigException(source, field, text, "port is missing", FORMAT);
      }
      if (s.indexOf(':') != colon) {
        throw new ConfigException(
            source, field, text, "an IPv6 address must be written in brackets", FORMAT);
      }
      host = s.substring(0, colon);
      portText = s.substring(colon + 1);
    }
    if (host.isEmpty() || !HOST.matcher(host).matches()) {
      throw new ConfigException(source, field, text, "host is not valid", FORMAT);
    }
    if (!portText.matches("[0-9]{1,5}")) {
      throw new ConfigException(
          source,
          field,
          text,
          portText.isEmpty() ? "port is missing" : "port is not a number",
          FORMAT);
    }
    int port = Integer.parseInt(portText);
    if (port > 65535) {
      throw new ConfigException(source, field, text, "port is out of range", FORMAT);
    }
    return new HostPort(host, port);
  }

  /**
   * True when the host is a loopback address written as one ({@code 127.x.x.x}, {@code ::1},
   * {@code localhost}). Names are not resolved: any other name counts as reachable from the
   * network, which errs on the safe side.
   */
  public boolean isLoopback() {
    String h = host.toLowerCase(java.util.Locale.ROOT);
    if (h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")) {
      return true;
    }
    return h.matches("127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}");
  }

  /** {@code host:port}, with an IPv6 host in brackets. */
  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
