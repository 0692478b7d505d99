package dev.edgesync.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The parts of {@code GET /status} the tests read; {@link #json} keeps everything. */
record Status(String nodeId, String cluster, String logId, long headSeq, String digest, String state, List<Peer> peers, JsonNode json) {

  /** One entry of {@code peers[]}: this node's subscription to that peer. */
  record Peer(
      String id,
      String address,
      boolean connected,
      String peerLogId,
      long watermark,
      long peerHeadSeq,
      long lagEntries,
      long entriesApplied,
      long duplicates,
      long conflicts,
      long entriesSent,
      long ackedSeq,
      long reconnects,
      String lastError,
      String stalledSince) {

    static Peer of(JsonNode p) {
      return new Peer(
          p.path("id").asText(),
          p.path("address").asText(),
          p.path("connected").asBoolean(),
          p.path("peerLogId").asText(),
          p.path("watermark").asLong(),
          p.path("peerHeadSeq").asLong(),
          p.path("lagEntries").asLong(),
          p.path("entriesApplied").asLong(),
          p.path("duplicates").asLong(),
          p.path("conflicts").asLong(),
          p.path("entriesSent").asLong(),
          p.path("ackedSeq").asLong(),
          p.path("reconnects").asLong(),
          textOrNull(p.path("lastError")),
          textOrNull(p.path("stalledSince")));
    }

    private static String textOrNull(JsonNode v) {
      return v.isNull() || v.isMissingNode() ? null : v.asText();
    }
  }

  static Status of(JsonNode j) {
    List<Peer> peers = new ArrayList<>();
    j.path("peers").forEach(p -> peers.add(Peer.of(p)));
    return new Status(
        j.path("nodeId").asText(),
        j.path("cluster").asText(),
        j.path("logId").asText(),
        j.path("headSeq").asLong(),
        j.path("digest").asText(),
        j.path("state").asText(),
        List.copyOf(peers),
        j);
  }

  Optional<Peer> findPeer(String id) {
    return peers.stream().filter(p -> p.id().equals(id)).findFirst();
  }

  Peer peer(String id) {
    return findPeer(id).orElseThrow(() -> new AssertionError(nodeId + " has no peer " + id + " in /status: " + json));
  }
}
