package dev.edgesync.discovery;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads peers from a YAML or JSON configuration file, where they are listed under the top-level
 * key {@code peers}:
 *
 * <pre>{@code
 * peers:
 *   - id: site-b
 *     address: "10.0.0.2:7400"
 *   - id: site-c
 *     address: "[fd00::3]:7400"
 * }</pre>
 *
 * <p>Other top-level keys are left to whoever reads the rest of the file. A file without {@code
 * peers}, or with an empty {@code peers:}, has no peers. Inside a peer, a key other than {@code
 * id} and {@code address} is an error, so that a misspelt key is not silently ignored.
 */
public final class PeerFileSource {

  /** The top-level key the peers are listed under. */
  public static final String PEERS_KEY = "peers";

  private static final Set<String> PEER_KEYS = Set.of("id", "address");
  private static final String LIST_FORMAT =
      "a list of peers, e.g. peers: [{id: site-b, address: \"10.0.0.2:7400\"}]";
  private static final String PEER_FORMAT =
      "a mapping with only the keys id and address, e.g. {id: site-b, address: \"10.0.0.2:7400\"}";

  private PeerFileSource() {}

  /**
   * Reads the peers listed in {@code file}.
   *
   * @throws ConfigException naming the file and the field, e.g. {@code peers[1].address}, if the
   *     file cannot be read or parsed or a peer is invalid
   */
  public static PeerSet read(Path file) {
    return fromTree(ConfigFileReader.read(file), ConfigFileReader.sourceOf(file));
  }

  /**
   * Reads the peers from a configuration tree that was already parsed, for a loader that reads
   * the other keys of the same file.
   *
   * @param root the top-level mapping of the configuration
   * @param source where the tree came from, for error messages
   * @throws ConfigException naming the source and field if a peer is invalid
   */
  public static PeerSet fromTree(JsonNode root, String source) {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(source, "source");
    JsonNode peersNode = root.get(PEERS_KEY);
    if (peersNode == null || peersNode.isNull()) {
      return PeerSet.empty();
    }
    if (!peersNode.isArray()) {
      throw new ConfigException(
          source, PEERS_KEY, peersNode.toString(), "peers is not a list", LIST_FORMAT);
    }
    List<PeerSpec> peers = new ArrayList<>(peersNode.size());
    for (int i = 0; i < peersNode.size(); i++) {
      String field = PEERS_KEY + "[" + i + "]";
      JsonNode peerNode = peersNode.get(i);
      if (!peerNode.isObject()) {
        throw new ConfigException(
            source, field, peerNode.toString(), "peer is not a mapping", PEER_FORMAT);
      }
      for (Map.Entry<String, JsonNode> entry : peerNode.properties()) {
        if (!PEER_KEYS.contains(entry.getKey())) {
          throw new ConfigException(
              source,
              field + "." + entry.getKey(),
              entry.getValue().toString(),
              "unknown key '" + entry.getKey() + "'",
              PEER_FORMAT);
        }
      }
      String id = text(peerNode, "id", source, field + ".id", PeerSpec.ID_FORMAT);
      String address =
          text(peerNode, "address", source, field + ".address", PeerSpec.ADDRESS_FORMAT);
      peers.add(PeerSpec.parse(id, address, source, field));
    }
    return PeerSet.of(peers, source);
  }

  private static String text(
      JsonNode peerNode, String key, String source, String field, String expected) {
    JsonNode node = peerNode.get(key);
    if (node == null || node.isNull()) {
      throw new ConfigException(source, field, null, key + " is missing", expected);
    }
    if (!node.isTextual()) {
      throw new ConfigException(
          source, field, node.toString(), key + " is not a string", expected + ", quoted");
    }
    return node.textValue();
  }
}
