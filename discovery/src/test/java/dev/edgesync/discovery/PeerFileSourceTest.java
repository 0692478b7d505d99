package dev.edgesync.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class PeerFileSourceTest {

  private static final PeerSet EXPECTED =
      PeerSet.of(PeerSpec.of("site-b", "10.0.0.2:7400"), PeerSpec.of("site-c", "[fd00::3]:7400"));

  private static final String YAML =
      """
      # Site A
      node:
        id: site-a
      cluster: shop
      peers:
        - id: site-b
          address: "10.0.0.2:7400"
        - id: site-c
          address: "[fd00::3]:7400"
      """;

  private static final String JSON =
      """
      {
        "node": {"id": "site-a"},
        "peers": [
          {"id": "site-b", "address": "10.0.0.2:7400"},
          {"id": "site-c", "address": "[fd00::3]:7400"}
        ]
      }
      """;

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"site-a.yaml", "site-a.yml", "site-a.conf", "SITE-A.YAML"})
  void readsYaml(String name) throws IOException {
    assertEquals(EXPECTED, PeerFileSource.read(write(name, YAML)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"site-a.json", "site-a.yaml"})
  void readsJson(String name) throws IOException {
    // YAML is a superset of JSON, so a JSON file named .yaml reads the same.
    assertEquals(EXPECTED, PeerFileSource.read(write(name, JSON)));
  }

  @Test
  void unquotedYamlAddressesWork() throws IOException {
    Path file = write("a.yaml", "peers:\n  - {id: site-b, address: 10.0.0.2:7400}\n");

    assertEquals(PeerSet.of(PeerSpec.of("site-b", "10.0.0.2:7400")), PeerFileSource.read(file));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "# nothing yet\n", "node: {id: a}\n", "peers:\n", "peers: []\n"})
  void noPeersIsAnEmptySet(String content) throws IOException {
    assertTrue(PeerFileSource.read(write("a.yaml", content)).isEmpty());
  }

  static Stream<Arguments> badFiles() {
    return Stream.of(
        Arguments.of(
            "a.yaml",
            "peers:\n  - {id: site-b, address: \"h:1\"}\n  - {id: site-c, address: \"h:x\"}\n",
            "peers[1].address",
            "h:x",
            "port is not a number"),
        Arguments.of(
            "a.yaml",
            "peers:\n  - {id: site-b, address: \"h:1\"}\n  - {id: site-b, address: \"h:2\"}\n",
            "peers[1].id",
            "site-b",
            "duplicate peer id, already used by peers[0]"),
        Arguments.of("a.yaml", "peers: site-b\n", "peers", "\"site-b\"", "peers is not a list"),
        Arguments.of("a.yaml", "peers:\n  - site-b\n", "peers[0]", "\"site-b\"", "not a mapping"),
        Arguments.of(
            "a.yaml", "peers:\n  - {id: site-b}\n", "peers[0].address", null, "address is missing"),
        Arguments.of(
            "a.yaml",
            "peers:\n  - {address: \"h:1\"}\n",
            "peers[0].id",
            null,
            "id is missing"),
        Arguments.of(
            "a.yaml",
            "peers:\n  - {id: site-b, address: 7400}\n",
            "peers[0].address",
            "7400",
            "address is not a string"),
        Arguments.of(
            "a.yaml",
            "peers:\n  - {id: site-b, adress: \"h:1\"}\n",
            "peers[0].adress",
            "\"h:1\"",
            "unknown key 'adress'"),
        Arguments.of(
            "a.json",
            "{\"peers\": [{\"id\": \"bad id\", \"address\": \"h:1\"}]}",
            "peers[0].id",
            "bad id",
            "character not allowed"),
        Arguments.of(
            "a.yaml",
            "peers:\n  - id: site-b\n    address: h:1\n  bad: [\n",
            "line 4, column 3",
            "  bad: [",
            "not valid YAML: expected <block end>, but found '?' while parsing a block collection"),
        Arguments.of(
            "a.yaml",
            "peers:\n  - {id: site-b, address: \"h:1\"}\n  - {id: site-c, address: \"host-c\n",
            "line 4, column 1",
            "",
            "not valid YAML: found unexpected end of stream while scanning a quoted scalar"),
        Arguments.of(
            "a.yaml",
            "peers:\n\t- id: a\n",
            "line 2, column 1",
            "\t- id: a",
            "not valid YAML: found character '\\t(TAB)' that cannot start any token"),
        Arguments.of(
            "a.yaml",
            "peers: a: b\n",
            "line 1, column 9",
            "peers: a: b",
            "not valid YAML: mapping values are not allowed here"),
        Arguments.of(
            "a.json",
            "{\n  \"peers\": [\n    {\"id\": \"site-b\",}\n  ]\n}\n",
            "line 3, column 21",
            "    {\"id\": \"site-b\",}",
            "not valid JSON"),
        Arguments.of(
            "a.yaml", "peers: []\npeers: []\n", "line 2, column 6", "peers: []", "Duplicate field"),
        Arguments.of(
            "a.yaml", "- a\n- b\n", "(file)", "[\"a\",\"b\"]", "top level is not a mapping"));
  }

  @ParameterizedTest
  @MethodSource("badFiles")
  void errorsNameTheFileTheFieldAndTheValue(
      String name, String content, String field, String value, String problem)
      throws IOException {
    Path file = write(name, content);

    ConfigException e = assertThrows(ConfigException.class, () -> PeerFileSource.read(file));

    assertEquals("file " + file, e.getSource());
    assertEquals(field, e.getField(), e.getMessage());
    assertEquals(value, e.getValue(), e.getMessage());
    assertTrue(e.getProblem().contains(problem), e.getMessage());
    assertTrue(e.getMessage().startsWith("file " + file + ": " + field + ": "), e.getMessage());
    assertTrue(
        e.getMessage()
            .contains(
                value == null ? "(got nothing)" : "(got '" + ConfigException.oneLine(value) + "')"),
        e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void missingFileIsAConfigError() {
    Path file = dir.resolve("missing.yaml");

    ConfigException e = assertThrows(ConfigException.class, () -> PeerFileSource.read(file));

    assertEquals(
        "file " + file + ": (file): the file does not exist (got '" + file
            + "'); expected an existing, readable YAML or JSON file",
        e.getMessage());
  }

  @Test
  void oversizeFileIsRefused() throws IOException {
    Path file = dir.resolve("big.yaml");
    Files.write(file, new byte[ConfigFileReader.MAX_FILE_BYTES + 1]);

    ConfigException e = assertThrows(ConfigException.class, () -> PeerFileSource.read(file));
    assertTrue(e.getProblem().contains("larger than"), e.getMessage());
  }

  @Test
  void aLoaderCanReadTheRestOfTheSameTree() throws IOException {
    ObjectNode root = ConfigFileReader.read(write("a.yaml", YAML));

    assertEquals("site-a", root.path("node").path("id").asText());
    assertEquals(EXPECTED, PeerFileSource.fromTree(root, "file a.yaml"));
  }

  private Path write(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content);
  }
}
