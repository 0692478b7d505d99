package dev.edgesync.discovery;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * One peer this node replicates with: its node id and the address of its replication server.
 *
 * <p>A spec is validated when it is made: the id is 1 to 64 characters from {@code
 * [A-Za-z0-9._-]}, the host is a DNS name, an IPv4 address or an IPv6 literal, and the port is 1
 * to 65535. IPv6 hosts are held without brackets ({@code ::1}) and written with them by {@link
 * #address()} ({@code [::1]:7400}). No name is resolved here: DNS is looked up when a connection
 * is made, so a peer whose name does not resolve yet is still a valid spec.
 *
 * @param id the peer's node id
 * @param host the host name or IP address of the peer, without brackets
 * @param port the peer's replication port
 */
public record PeerSpec(String id, String host, int port) {

  /** What a valid peer id looks like, for error messages. */
  public static final String ID_FORMAT =
      "1 to 64 characters from A-Z a-z 0-9 . _ -, e.g. site-b";

  /** What a valid peer address looks like, for error messages. */
  public static final String ADDRESS_FORMAT =
      "host:port or [ipv6]:port with port 1-65535, e.g. 10.0.0.2:7400 or [::1]:7400";

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern HOST_LABEL = Pattern.compile("[A-Za-z0-9_-]{1,63}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
  private static final Pattern IPV6_ZONE = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern NUMBER = Pattern.compile("[0-9]+");
  private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
  private static final int MAX_HOST_CHARS = 253;
  private static final String API = "API";

  /**
   * Validates the components. An IPv6 host may be given with or without brackets.
   *
   * @throws ConfigException with source {@code "API"} if a component is invalid
   */
  public PeerSpec {
    checkId(id, API, "peer.id");
    if (host != null && host.length() > 2 && host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    String hostProblem = hostProblem(host);
    if (hostProblem != null) {
      throw new ConfigException(
          API, "peer.host", host, hostProblem, "a host name, an IPv4 address or an IPv6 address");
    }
    if (port < 1 || port > 65535) {
      throw new ConfigException(
          API, "peer.port", Integer.toString(port), "port is out of range", "1 to 65535");
    }
  }

  /**
   * Makes a spec from an id and a {@code host:port} address given through the embedding API.
   *
   * @throws ConfigException with source {@code "API"} if the id or address is invalid
   */
  public static PeerSpec of(String id, String address) {
    return parse(id, address, API, "peer");
  }

  /**
   * Makes a spec from an id and a {@code host:port} or {@code [ipv6]:port} address read from a
   * configuration source. Surrounding whitespace of both is ignored.
   *
   * @param id the peer id as written
   * @param address the address as written
   * @param source where both came from, for the error message, e.g. {@code "file a.yaml"}
   * @param field the path of the peer inside the source, e.g. {@code "peers[2]"}; errors name
   *     {@code <field>.id} or {@code <field>.address}
   * @throws ConfigException naming the source, field and value if the id or address is invalid
   */
  public static PeerSpec parse(String id, String address, String source, String field) {
    String idField = field + ".id";
    String addressField = field + ".address";
    String trimmedId = id == null ? null : id.strip();
    checkId(trimmedId, source, idField);
    if (address == null) {
      throw new ConfigException(source, addressField, null, "address is missing", ADDRESS_FORMAT);
    }
    String text = address.strip();
    if (text.isEmpty()) {
      throw new ConfigException(source, addressField, address, "address is empty", ADDRESS_FORMAT);
    }
    String host;
    String portText;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0) {
        throw new ConfigException(
            source, addressField, address, "IPv6 address has no closing ']'", ADDRESS_FORMAT);
      }
      host = text.substring(1, close);
      String rest = text.substring(close + 1);
      if (!rest.startsWith(":")) {
        throw new ConfigException(
            source, addressField, address, "port is missing after ']'", ADDRESS_FORMAT);
      }
      portText = rest.substring(1);
      if (host.indexOf(':') < 0) {
        throw new ConfigException(
            source,
            addressField,
            address,
            "only IPv6 addresses go in brackets",
            ADDRESS_FORMAT);
      }
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0) {
        throw new ConfigException(
            source, addressField, address, "port is missing", ADDRESS_FORMAT);
      }
      if (text.indexOf(':') != colon) {
        throw new ConfigException(
            source,
            addressField,
            address,
            "an IPv6 address must be written in brackets",
            ADDRESS_FORMAT);
      }
      host = text.substring(0, colon);
      portText = text.substring(colon + 1);
    }
    String hostProblem = hostProblem(host);
    if (hostProblem != null) {
      throw new ConfigException(source, addressField, address, hostProblem, ADDRESS_FORMAT);
    }
    if (!PORT.matcher(portText).matches()) {
      throw new ConfigException(
          source,
          addressField,
          address,
          portText.isEmpty() ? "port is missing" : "port is not a number",
          ADDRESS_FORMAT);
    }
    int port = Integer.parseInt(portText);
    if (port < 1 || port > 65535) {
      throw new ConfigException(
          source, addressField, address, "port is out of range", ADDRESS_FORMAT);
    }
    return new PeerSpec(trimmedId, host, port);
  }

  /** Returns true if {@code id} is a valid peer id. */
  public static boolean isValidId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** Returns {@code host:port}, with an IPv6 host in brackets: {@code [::1]:7400}. */
  public String address() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** Returns {@code id=address}, the form the peer list parser reads. */
  @Override
  public String toString() {
    return id + "=" + address();
  }

  private static void checkId(String id, String source, String field) {
    if (id == null) {
      throw new ConfigException(source, field, null, "peer id is missing", ID_FORMAT);
    }
    if (!isValidId(id)) {
      String problem =
          id.isEmpty()
              ? "peer id is empty"
              : id.length() > 64 ? "peer id is too long" : "peer id has a character not allowed";
      throw new ConfigException(source, field, id, problem, ID_FORMAT);
    }
  }

  /** Returns what is wrong with {@code host}, or null if it is a valid host. */
  private static String hostProblem(String host) {
    if (host == null || host.isEmpty()) {
      return "host is empty";
    }
    if (host.indexOf(':') >= 0) {
      return ipv6Problem(host);
    }
    if (host.length() > MAX_HOST_CHARS) {
      return "host is longer than " + MAX_HOST_CHARS + " characters";
    }
    String[] labels = host.split("\\.", -1);
    boolean allNumeric = true;
    for (String label : labels) {
      if (!HOST_LABEL.matcher(label).matches()) {
        return "host is not a valid host name or IPv4 address";
      }
      allNumeric &= NUMBER.matcher(label).matches();
    }
    // A name made only of numbers is meant as an IPv4 address; catch typos such as 10.0.0.256
    // here rather than as a DNS failure at connect time.
    if (allNumeric && (labels.length != 4 || !allOctets(labels))) {
      return "host is not a valid IPv4 address";
    }
    return null;
  }

  private static boolean allOctets(String[] labels) {
    for (String label : labels) {
      if (label.length() > 3 || Integer.parseInt(label) > 255) {
        return false;
      }
    }
    return true;
  }

  private static String ipv6Problem(String host) {
    int percent = host.indexOf('%');
    String literal = percent < 0 ? host : host.substring(0, percent);
    if (percent >= 0 && !IPV6_ZONE.matcher(host.substring(percent + 1)).matches()) {
      return "IPv6 zone is not valid";
    }
    if (!IPV6.matcher(literal).matches()) {
      return "host is not a valid IPv6 address";
    }
    try {
      // The literal holds a ':' and only hex digits, ':' and '.', so getByName parses it as an
      // IPv6 literal and never asks DNS.
      InetAddress.getByName("[" + literal + "]");
      return null;
    } catch (UnknownHostException e) {
      return "host is not a valid IPv6 address";
    }
  }
}
