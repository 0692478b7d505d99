package dev.edgesync.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConfigExceptionTest {

  @Test
  void messageIsOneLineWithAllParts() {
    ConfigException e =
        new ConfigException(
            "file /etc/edgesync/site-a.yaml",
            "peers[2].address",
            "host:74OO",
            "port is not a number",
            "host:port");

    assertEquals(
        "file /etc/edgesync/site-a.yaml: peers[2].address: port is not a number"
            + " (got 'host:74OO'); expected host:port",
        e.getMessage());
    assertEquals("file /etc/edgesync/site-a.yaml", e.getSource());
    assertEquals("peers[2].address", e.getField());
    assertEquals("host:74OO", e.getValue());
    assertEquals("port is not a number", e.getProblem());
    assertEquals("host:port", e.getExpected());
  }

  @Test
  void missingValueIsSaidSo() {
    ConfigException e =
        new ConfigException("flag --peers", "peers[0].address", null, "address is missing", "x");

    assertEquals(
        "flag --peers: peers[0].address: address is missing (got nothing); expected x",
        e.getMessage());
  }

  @Test
  void controlCharactersAreEscapedSoTheMessageStaysOneLine() {
    ConfigException e =
        new ConfigException("API", "peer.id", "a\nb\r\tc\u0000", "bad\nproblem", "y");

    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertFalse(e.getMessage().contains("\r"), e.getMessage());
    assertTrue(e.getMessage().contains("(got 'a\\nb\\r\\tc\\u0000')"), e.getMessage());
    assertEquals("a\nb\r\tc\u0000", e.getValue());
  }

  @Test
  void longValuesAreShortenedInTheMessageOnly() {
    String value = "x".repeat(1000);
    ConfigException e = new ConfigException("API", "f", value, "too long", "shorter");

    assertTrue(e.getMessage().contains("x".repeat(120) + "... (1000 characters)"), e.getMessage());
    assertTrue(e.getMessage().length() < 250, e.getMessage());
    assertEquals(value, e.getValue());
  }
}
