package dev.edgesync.node.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The peers of a node program: those its configuration names (file, environment or flags) with the
 * changes made at run time through {@code PUT} and {@code DELETE /peers/{id}} on top. The changes
 * are kept in {@code <dataDir>/peers.json}, so that a restart keeps them. They win over the
 * configuration, also when the config file's peer list changes, until {@link #reset} hands a peer
 * back to the configuration.
 *
 * <p>The file is written whole to a temporary file, synced and renamed over the old one, so a crash
 * leaves the old or the new list. A file that cannot be read stops the start with its path and the
 * fix, rather than silently bringing back peers that were removed.
 *
 * <p>Thread-safe: every method is synchronized; {@code apply} runs under the lock, so the node's
 * peers change in the order the changes were made.
 */
final class RuntimePeers {
  /** The file name in the data dir. */
  static final String FILE = "peers.json";

  /** Most peers changed at run time. */
  static final int MAX_CHANGES = 1024;

  /** Where a peer of the list comes from. */
  enum Source {
    CONFIG,
    DNS,
    RUNTIME
  }

  /** One peer of the effective list. */
  record Peer(PeerSpec spec, Source source) {}

  private final Path file;
  private final String selfId;
  private List<PeerSpec> configured;
  // Ids of configured peers that only DNS names (see NodeServer).
  private java.util.Set<String> fromDns = java.util.Set.of();
  // By id: the address set at run time, or null for a peer removed at run time.
  private final Map<String, String> changes;
  private Consumer<List<PeerSpec>> apply = peers -> {};

  private RuntimePeers(Path file, String selfId, List<PeerSpec> configured, Map<String, String> changes) {
    this.file = file;
    this.selfId = selfId;
    this.configured = List.copyOf(configured);
    this.changes = changes;
  }

  /**
   * Reads the changes kept in {@code dataDir} (none when the file does not exist).
   *
   * @throws IllegalStateException when the file cannot be read or is not such a list (naming the
   *     file and the fix)
   */
  static RuntimePeers load(Path dataDir, String selfId, List<PeerSpec> configured) {
    Path file = dataDir.resolve(FILE);
    Map<String, String> changes = new TreeMap<>();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return new RuntimePeers(file, selfId, configured, changes);
    } catch (IOException e) {
      throw damaged(file, "it cannot be read (" + e.getMessage() + ")");
    }
    try {
      JsonNode root = Json.MAPPER.readTree(text);
      JsonNode list = root == null ? null : root.get("peers");
      if (list == null || !list.isArray()) {
        throw damaged(file, "it has no \"peers\" list");
      }
      if (list.size() > MAX_CHANGES) {
        throw damaged(file, "it holds " + list.size() + " peers, more than " + MAX_CHANGES);
      }
      int i = 0;
      for (JsonNode p : list) {
        String field = "peers[" + i++ + "]";
        String id = p.path("id").asText(null);
        if (p.path("removed").asBoolean(false)) {
          if (id == null || !PeerSpec.isValidId(id)) {
            throw damaged(file, "it names an invalid node id at " + field + ": '" + id + "'");
          }
          changes.put(id, null);
        } else {
          PeerSpec spec;
          try {
            spec = PeerSpec.parse(id, p.path("address").asText(null), "file", field);
          } catch (ConfigException e) {
            throw damaged(file, e.getMessage());
          }
          changes.put(spec.id(), spec.address());
        }
      }
    } catch (IOException e) {
      throw damaged(
          file,
          "it is not valid JSON ("
              + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage())
              + ")");
    }
    return new RuntimePeers(file, selfId, configured, changes);
  }

  private static IllegalStateException damaged(Path file, String why) {
    return new IllegalStateException(
        "the peers changed at run time (edgesync peers add/remove), kept in " + file + ", cannot be used: " + why
            + "; repair the file, or move it aside to drop those changes and use the configured peers alone");
  }

  /** Makes every later change reach the node through {@code apply} (the node's {@code setPeers}). */
  synchronized void attach(Consumer<List<PeerSpec>> apply) {
    this.apply = apply;
  }

  /** The peers the node should have: the configured ones with the run-time changes applied. */
  synchronized List<PeerSpec> effective() {
    List<PeerSpec> out = new ArrayList<>();
    for (Peer p : list()) {
      out.add(p.spec());
    }
    return out;
  }

  /** The effective peers, each with where it comes from. */
  synchronized List<Peer> list() {
    Map<String, Peer> out = new LinkedHashMap<>();
    for (PeerSpec p : configured) {
      if (!changes.containsKey(p.id())) {
        out.put(p.id(), new Peer(p, fromDns.contains(p.id()) ? Source.DNS : Source.CONFIG));
      }
    }
    changes.forEach(
        (id, address) -> {
          if (address != null) {
            out.put(id, new Peer(PeerSpec.of(id, address), Source.RUNTIME));
          }
        });
    return List.copyOf(out.values());
  }

  /** Ids removed at run time that the configuration still names. */
  synchronized List<String> removedConfigured() {
    return configured.stream().map(PeerSpec::id).filter(id -> changes.containsKey(id) && changes.get(id) == null).toList();
  }

  /**
   * The configured peers changed (the config file's list, or what DNS names, {@code dnsIds}): the
   * run-time changes still apply on top.
   */
  synchronized void configuredChanged(List<PeerSpec> peers, java.util.Set<String> dnsIds) {
    this.configured = List.copyOf(peers);
    this.fromDns = java.util.Set.copyOf(dnsIds);
    apply.accept(effective());
  }

  /**
   * Adds {@code peer}, or changes its address; kept across restarts.
   *
   * @return the peer as it was before, if any
   */
  synchronized Optional<PeerSpec> put(PeerSpec peer) {
    if (peer.id().equals(selfId)) {
      throw new IllegalArgumentException("node '" + selfId + "' cannot be its own peer");
    }
    Optional<PeerSpec> before = find(peer.id());
    change(peer.id(), peer.address());
    return before;
  }

  /**
   * Removes the peer {@code id}; kept across restarts, also when the configuration names it.
   *
   * @return the peer removed, or empty when it was not a peer
   */
  synchronized Optional<PeerSpec> remove(String id) {
    Optional<PeerSpec> before = find(id);
    if (before.isEmpty() && !changes.containsKey(id)) {
      return before;
    }
    boolean configuredPeer = configured.stream().anyMatch(p -> p.id().equals(id));
    if (configuredPeer) {
      change(id, null);
    } else {
      forgetChange(id);
    }
    return before;
  }

  /**
   * Drops the run-time change of {@code id}: the configuration decides again.
   *
   * @return whether there was one
   */
  synchronized boolean reset(String id) {
    if (!changes.containsKey(id)) {
      return false;
    }
    forgetChange(id);
    return true;
  }

  private Optional<PeerSpec> find(String id) {
    return list().stream().map(Peer::spec).filter(p -> p.id().equals(id)).findFirst();
  }

  private void change(String id, String addressOrRemoved) {
    if (!changes.containsKey(id) && changes.size() >= MAX_CHANGES) {
      throw new TooManyChangesException(
          "node '" + selfId + "' already keeps " + MAX_CHANGES + " peers changed at run time; put the peers in its"
              + " config file and reset the run-time changes (edgesync peers reset ID)");
    }
    Map<String, String> next = new TreeMap<>(changes);
    next.put(id, addressOrRemoved);
    commit(next);
  }

  private void forgetChange(String id) {
    Map<String, String> next = new TreeMap<>(changes);
    next.remove(id);
    commit(next);
  }

  /**
   * Makes {@code next} current, applies it to the node, then persists it. When either step fails,
   * the previous changes are current and applied again, and the file is as before: the node and
   * the file never disagree after an error.
   */
  private void commit(Map<String, String> next) {
    Map<String, String> before = new TreeMap<>(changes);
    changes.clear();
    changes.putAll(next);
    try {
      apply.accept(effective());
      write(next);
    } catch (RuntimeException e) {
      changes.clear();
      changes.putAll(before);
      try {
        apply.accept(effective());
      } catch (RuntimeException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
  }

  /** The limit of {@link #MAX_CHANGES} run-time changes was reached. */
  static final class TooManyChangesException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    TooManyChangesException(String message) {
      super(message);
    }
  }

  private void write(Map<String, String> next) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put(
        "about",
        "Peers of node '" + selfId + "' changed at run time (edgesync peers add/remove/reset, or PUT/DELETE /peers/{id});"
            + " they apply on top of the configured peers.");
    ArrayNode list = root.putArray("peers");
    next.forEach(
        (id, address) -> {
          ObjectNode p = list.addObject().put("id", id);
          if (address == null) {
            p.put("removed", true);
          } else {
            p.put("address", address);
          }
        });
    Path tmp = file.resolveSibling(FILE + ".tmp");
    try {
      Files.createDirectories(file.getParent());
      byte[] bytes = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap(bytes));
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      dev.edgesync.engine.storage.DataDirs.syncDirectory(file.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage() + "; the peer change was not made", e);
    }
  }
}
