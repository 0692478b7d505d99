package dev.edgesync.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PeerListParserTest {

  private static final String SOURCE = "environment variable EDGESYNC_PEERS";

  @Test
  void parsesAListInOrder() {
    PeerSet peers =
        PeerListParser.parse("site-b=10.0.0.2:7400,site-c=[fd00::3]:7401", SOURCE);

    assertEquals(
        List.of(new PeerSpec("site-b", "10.0.0.2", 7400), new PeerSpec("site-c", "fd00::3", 7401)),
        peers.peers());
  }

  @Test
  void toleratesWhitespace() {
    PeerSet peers = PeerListParser.parse("  site-b = host-b:7400 ,\n\tsite-c=host-c:7400 ", SOURCE);

    assertEquals(
        PeerSet.of(PeerSpec.of("site-b", "host-b:7400"), PeerSpec.of("site-c", "host-c:7400")),
        peers);
  }

  @Test
  void emptyOrBlankTextIsAnEmptySet() {
    assertTrue(PeerListParser.parse("", SOURCE).isEmpty());
    assertTrue(PeerListParser.parse("   ", SOURCE).isEmpty());
    assertTrue(PeerListParser.parse(null, SOURCE).isEmpty());
  }

  @Test
  void duplicateIdIsAnErrorNamingTheId() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> PeerListParser.parse("a=h1:1,site-b=h2:2,site-b=h3:3", SOURCE));

    assertEquals(
        SOURCE
            + ": peers[2].id: duplicate peer id, already used by peers[1] (got 'site-b');"
            + " expected each peer id at most once",
        e.getMessage());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "site-b                  | peers[0]         | site-b         | '=' between",
        "a=h:1,,b=h:2            | peers[1]         | a=h:1,,b=h:2   | entry is empty",
        "a=h:1,                  | peers[1]         | a=h:1,         | entry is empty",
        "a=h:1,b=h:x             | peers[1].address | h:x            | port is not a number",
        "a=h:1,b c=h:2           | peers[1].id      | b c            | character not allowed",
        "=h:1                    | peers[0].id      | ''             | peer id is empty",
        "a=                      | peers[0].address | ''             | address is empty",
        "a=::1:7400              | peers[0].address | ::1:7400       | in brackets",
      })
  void malformedEntriesNameSourceEntryAndValue(
      String text, String field, String value, String problem) {
    ConfigException e =
        assertThrows(ConfigException.class, () -> PeerListParser.parse(text, SOURCE));

    assertEquals(SOURCE, e.getSource());
    assertEquals(field, e.getField());
    assertEquals(value, e.getValue() == null ? null : e.getValue().strip());
    assertTrue(e.getProblem().contains(problem), e.getMessage());
    assertTrue(e.getMessage().startsWith(SOURCE + ": " + field + ": "), e.getMessage());
    assertTrue(e.getMessage().contains("expected "), e.getMessage());
  }

  @Test
  void missingEqualsSignExplainsTheEntryFormat() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> PeerListParser.parse("site-b:7400", SOURCE));

    assertEquals(
        SOURCE
            + ": peers[0]: '=' between the peer id and its address is missing (got 'site-b:7400');"
            + " expected "
            + PeerListParser.ENTRY_FORMAT,
        e.getMessage());
  }
}
