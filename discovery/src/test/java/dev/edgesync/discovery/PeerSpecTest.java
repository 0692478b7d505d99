package dev.edgesync.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PeerSpecTest {

  private static final String SOURCE = "flag --peers";

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "site-b.example.com:7400 | site-b.example.com | 7400 | site-b.example.com:7400",
        "10.0.0.2:1              | 10.0.0.2           | 1    | 10.0.0.2:1",
        "localhost:65535         | localhost          | 65535| localhost:65535",
        "edge_1:7400             | edge_1             | 7400 | edge_1:7400",
        "[::1]:7400              | ::1                | 7400 | [::1]:7400",
        "[fd00::3]:7400          | fd00::3            | 7400 | [fd00::3]:7400",
        "[::ffff:10.0.0.2]:7400  | ::ffff:10.0.0.2    | 7400 | [::ffff:10.0.0.2]:7400",
        "[fe80::1%eth0]:7400     | fe80::1%eth0       | 7400 | [fe80::1%eth0]:7400",
        "'  host:7400  '         | host               | 7400 | host:7400",
      })
  void validAddresses(String address, String host, int port, String normalised) {
    PeerSpec spec = PeerSpec.parse("site-b", address, SOURCE, "peers[0]");

    assertEquals(new PeerSpec("site-b", host, port), spec);
    assertEquals(normalised, spec.address());
    assertEquals("site-b=" + normalised, spec.toString());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "host          | port is missing",
        "host:         | port is missing",
        ":7400         | host is empty",
        "host:0        | port is out of range",
        "host:65536    | port is out of range",
        "host:99999999 | port is not a number",
        "host:74OO     | port is not a number",
        "host:-1       | port is not a number",
        "::1:7400      | an IPv6 address must be written in brackets",
        "[::1]         | port is missing after ']'",
        "[::1:7400     | IPv6 address has no closing ']'",
        "[::1]7400     | port is missing after ']'",
        "[10.0.0.1]:74 | only IPv6 addresses go in brackets",
        "[::g]:7400    | host is not a valid IPv6 address",
        "[1:2]:7400    | host is not a valid IPv6 address",
        "[fe80::1%]:74 | IPv6 zone is not valid",
        "ho st:7400    | host is not a valid host name or IPv4 address",
        "a..b:7400     | host is not a valid host name or IPv4 address",
        "a/b:7400      | host is not a valid host name or IPv4 address",
        "10.0.0.256:74 | host is not a valid IPv4 address",
        "10.0.0:7400   | host is not a valid IPv4 address",
      })
  void invalidAddressesNameSourceFieldAndValue(String address, String problem) {
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> PeerSpec.parse("site-b", address, SOURCE, "peers[3]"));

    assertEquals(SOURCE, e.getSource());
    assertEquals("peers[3].address", e.getField());
    assertEquals(address, e.getValue());
    assertEquals(problem, e.getProblem());
    assertTrue(
        e.getMessage()
            .startsWith(SOURCE + ": peers[3].address: " + problem + " (got '" + address + "')"),
        e.getMessage());
    assertTrue(e.getMessage().contains("expected host:port or [ipv6]:port"), e.getMessage());
  }

  @Test
  void invalidIdsNameTheIdField() {
    for (String id : new String[] {"", "site b", "site/b", "ü", "x".repeat(65)}) {
      ConfigException e =
          assertThrows(
              ConfigException.class, () -> PeerSpec.parse(id, "host:7400", SOURCE, "peers[1]"));
      assertEquals("peers[1].id", e.getField(), id);
      assertEquals(id, e.getValue());
      assertTrue(e.getMessage().contains("expected 1 to 64 characters"), e.getMessage());
    }
    ConfigException missing =
        assertThrows(
            ConfigException.class, () -> PeerSpec.parse(null, "host:7400", SOURCE, "peers[1]"));
    assertTrue(missing.getMessage().contains("(got nothing)"), missing.getMessage());
  }

  @Test
  void longestValidIdIsAccepted() {
    String id = "a".repeat(64);
    assertEquals(id, PeerSpec.of(id, "host:7400").id());
  }

  @Test
  void constructorValidatesAsAnApiCall() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> new PeerSpec("site-b", "host", 0));
    assertEquals("API", e.getSource());
    assertEquals("peer.port", e.getField());

    assertThrows(ConfigException.class, () -> new PeerSpec("site-b", "", 7400));
    assertThrows(ConfigException.class, () -> new PeerSpec("bad id", "host", 7400));
    assertThrows(ConfigException.class, () -> new PeerSpec("site-b", "no:good", 7400));
  }

  @Test
  void constructorAcceptsBracketedIpv6() {
    assertEquals(new PeerSpec("a", "::1", 7400), new PeerSpec("a", "[::1]", 7400));
  }

  @Test
  void ofUsesApiAsSource() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> PeerSpec.of("site-b", "host:x"));
    assertEquals("API: peer.address: port is not a number (got 'host:x'); expected "
        + PeerSpec.ADDRESS_FORMAT, e.getMessage());
  }
}
