package dev.edgesync.discovery;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses a peer list written as {@code id=host:port,id=host:port}, the form used by the {@code
 * EDGESYNC_PEERS} environment variable and the {@code --peers} flag.
 *
 * <p>Whitespace around entries, ids and addresses is ignored. An empty or blank text is an empty
 * list. Errors name the entry as {@code peers[i]} (counting from 0), so {@code peers[2]} is the
 * third entry.
 */
public final class PeerListParser {

  /** What an entry looks like, for error messages. */
  public static final String ENTRY_FORMAT =
      "id=host:port, entries separated by commas, e.g. site-b=10.0.0.2:7400,site-c=[::1]:7400";

  private PeerListParser() {}

  /**
   * Parses {@code text} into a set of peers.
   *
   * @param text the list, e.g. {@code "site-b=10.0.0.2:7400, site-c=[fd00::3]:7400"}
   * @param source where the text came from, for error messages, e.g. {@code "flag --peers"}
   * @throws ConfigException naming the source, the entry and its value if an entry is malformed
   *     or an id appears twice
   */
  public static PeerSet parse(String text, String source) {
    if (text == null || text.isBlank()) {
      return PeerSet.empty();
    }
    String[] entries = text.split(",", -1);
    List<PeerSpec> peers = new ArrayList<>(entries.length);
    for (int i = 0; i < entries.length; i++) {
      String field = "peers[" + i + "]";
      String entry = entries[i].strip();
      if (entry.isEmpty()) {
        throw new ConfigException(
            source,
            field,
            text,
            "entry is empty (two commas in a row, or a comma at an end?)",
            ENTRY_FORMAT);
      }
      int equals = entry.indexOf('=');
      if (equals < 0) {
        throw new ConfigException(
            source,
            field,
            entry,
            "'=' between the peer id and its address is missing",
            ENTRY_FORMAT);
      }
      peers.add(
          PeerSpec.parse(entry.substring(0, equals), entry.substring(equals + 1), source, field));
    }
    return PeerSet.of(peers, source);
  }
}
