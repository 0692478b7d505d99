package dev.edgesync.node.server;

import static dev.edgesync.node.server.HttpExchanges.allow;
import static dev.edgesync.node.server.HttpExchanges.query;
import static dev.edgesync.node.server.HttpExchanges.sendJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.replication.PeerStatus;
import dev.edgesync.engine.replication.SubscriberStatus;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /peers}: the peers of this node and the nodes that pull from it, and changes to the peer
 * list at run time (kept across restarts by {@link RuntimePeers}).
 *
 * <ul>
 *   <li>{@code GET /peers}: each peer with its address, where it comes from ({@code config} or
 *       {@code runtime}) and its link; the configured peers removed at run time; and the inbound
 *       subscribers (nodes that pull from this one, listed or not), which count toward {@code
 *       ?acks=N}.
 *   <li>{@code PUT /peers/{id}} with {@code {"address": "host:port"}}: adds the peer or changes its
 *       address; a stream to it opens.
 *   <li>{@code DELETE /peers/{id}}: removes the peer; its stream closes, its watermark stays.
 *   <li>{@code POST /peers/{id}/reset}: drops the run-time change of the peer; the configuration
 *       decides again.
 * </ul>
 */
final class PeersResource {
  /** Largest {@code PUT} body. */
  private static final int MAX_BODY = 4096;

  private final SyncNode node;
  private final RuntimePeers peers;

  PeersResource(SyncNode node, RuntimePeers peers) {
    this.node = node;
    this.peers = peers;
  }

  /** Handles {@code /peers} and everything under it; {@code rest} is the path after {@code /peers}. */
  void handle(HttpExchange ex, String method, String rest) throws IOException {
    query(ex, Set.of());
    if (rest.isEmpty()) {
      allow(ex, method, Set.of("GET", "HEAD"));
      sendJson(ex, 200, list());
      return;
    }
    String[] parts = rest.substring(1).split("/", -1);
    String id = parts[0];
    if (!PeerSpec.isValidId(id)) {
      throw new HttpError(400, "'" + id + "' is not a node id", "a node id: " + PeerSpec.ID_FORMAT);
    }
    if (parts.length == 2 && parts[1].equals("reset")) {
      allow(ex, method, Set.of("POST"));
      boolean had = peers.reset(id);
      ObjectNode o = Json.MAPPER.createObjectNode().put("reset", id).put("hadChange", had);
      sendJson(ex, 200, o);
      return;
    }
    if (parts.length != 1) {
      throw new HttpError(404, "no such endpoint: /peers" + rest, "use /peers, /peers/{id} or /peers/{id}/reset");
    }
    allow(ex, method, Set.of("PUT", "DELETE"));
    if (method.equals("PUT")) {
      put(ex, id);
    } else {
      Optional<PeerSpec> removed = peers.remove(id);
      ObjectNode o = Json.MAPPER.createObjectNode().put("removed", id).put("wasPeer", removed.isPresent());
      sendJson(ex, 200, o);
    }
  }

  private void put(HttpExchange ex, String id) throws IOException {
    JsonNode body;
    try {
      body = Json.MAPPER.readTree(HttpExchanges.body(ex, MAX_BODY));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new HttpError(400, "the body is not JSON: " + e.getOriginalMessage(), "send {\"address\": \"host:port\"}");
    }
    String address = body == null ? null : body.path("address").asText(null);
    PeerSpec spec;
    try {
      spec = PeerSpec.parse(id, address, "request body", "peer");
    } catch (ConfigException e) {
      throw new HttpError(400, e.getMessage(), "send {\"address\": \"host:port\"}");
    }
    if (id.equals(node.nodeId())) {
      throw new HttpError(400, "node '" + id + "' cannot be its own peer", "send this to another node");
    }
    Optional<PeerSpec> before;
    try {
      before = peers.put(spec);
    } catch (RuntimePeers.TooManyChangesException e) {
      throw new HttpError(409, e.getMessage(), "see GET /peers");
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("id", id).put("address", spec.address());
    o.put("previousAddress", before.map(PeerSpec::address).orElse(null));
    sendJson(ex, 200, o);
  }

  /** The body of {@code GET /peers}. */
  ObjectNode list() {
    Map<String, PeerStatus> links = new HashMap<>();
    for (PeerStatus s : node.status().peers()) {
      links.put(s.id(), s);
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("nodeId", node.nodeId());
    ArrayNode list = o.putArray("peers");
    for (RuntimePeers.Peer p : peers.list()) {
      ObjectNode j = list.addObject();
      j.put("id", p.spec().id());
      j.put("address", p.spec().address());
      j.put("source", p.source().name().toLowerCase(java.util.Locale.ROOT));
      PeerStatus s = links.get(p.spec().id());
      j.put("connected", s != null && s.connected());
      j.put("watermark", s == null ? 0 : s.watermark());
      j.put("lagEntries", s == null ? 0 : s.lagEntries());
      j.put("lastError", s == null ? null : s.lastError());
    }
    ArrayNode removed = o.putArray("removedFromConfig");
    peers.removedConfigured().forEach(removed::add);
    o.set("subscribers", subscribers(node, links.keySet()));
    return o;
  }

  /** The inbound subscribers, each marked whether it is also in this node's peers. */
  static ArrayNode subscribers(SyncNode node, Set<String> peerIds) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    for (SubscriberStatus s : node.subscribers()) {
      out.addObject()
          .put("id", s.id())
          .put("connected", s.connected())
          .put("ackedSeq", s.ackedSeq())
          .put("entriesSent", s.entriesSent())
          .put("protocolVersion", s.protocolVersion())
          .put("inPeers", peerIds.contains(s.id()));
    }
    return out;
  }
}
