package dev.edgesync.node.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.NodeStatus;
import dev.edgesync.engine.replication.PeerStatus;

/** The JSON shapes of the HTTP API, in one place so that their field names stay stable. */
public final class Json {

  /** Shared mapper; strict about duplicate keys so that a malformed bulk body is refused. */
  public static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private Json() {}

  /** The version of a write as the API shows it: {@code <hlc>@<origin>}. */
  public static String version(Version v) {
    return v.hlc() + "@" + v.origin();
  }

  /** The body of {@code GET /status}. */
  public static ObjectNode status(NodeStatus s, int httpPort) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("nodeId", s.nodeId());
    o.put("cluster", s.cluster());
    o.put("logId", s.logId());
    o.put("headSeq", s.headSeq());
    o.put("digest", s.digest());
    o.put("state", s.state().name());
    o.put("failure", s.failure());
    o.put("grpcPort", s.listenPort());
    o.put("httpPort", httpPort);
    ArrayNode peers = o.putArray("peers");
    for (PeerStatus p : s.peers()) {
      ObjectNode j = peers.addObject();
      j.put("id", p.id());
      j.put("address", p.address());
      j.put("connected", p.connected());
      j.put("peerLogId", p.peerLogId());
      j.put("watermark", p.watermark());
      j.put("peerHeadSeq", p.peerHeadSeq());
      j.put("lagEntries", p.lagEntries());
      j.put("lagSeconds", p.lagSeconds());
      j.put("entriesApplied", p.entriesApplied());
      j.put("duplicates", p.duplicates());
      j.put("conflicts", p.conflicts());
      j.put("entriesSent", p.entriesSent());
      j.put("ackedSeq", p.ackedSeq());
      j.put("reconnects", p.reconnects());
      j.put("lastError", p.lastError());
      j.put("lastErrorAt", p.lastErrorAt() == null ? null : p.lastErrorAt().toString());
      j.put("lastErrorResolved", p.lastErrorResolved());
      j.put("stalledSince", instant(p.stalledSince()));
      j.put("repairs", p.repairs());
      j.put("keysRepaired", p.keysRepaired());
      j.put("lastDivergenceAt", instant(p.lastDivergenceAt()));
      j.put("protocolVersion", p.protocolVersion());
      j.put("peerDigest", p.peerDigest());
    }
    return o;
  }

  /** An instant as ISO-8601 text, or null. */
  private static String instant(java.time.Instant t) {
    return t == null ? null : t.toString();
  }

  /** An error body: {@code {"error": ..., "fix": ...}}; {@code fix} is left out when null. */
  public static ObjectNode error(String error, String fix) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("error", error);
    if (fix != null) {
      o.put("fix", fix);
    }
    return o;
  }

  /** The {@code gc} part of {@code /status}: tombstone collection and what holds its horizon back. */
  public static ObjectNode gc(dev.edgesync.engine.replication.GcStatus g, java.time.Instant now) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("tombstones", g.store().tombstones());
    o.put("expiring", g.store().expiring());
    o.put("purgedTotal", g.store().purgedTotal());
    o.put("purgeHorizon", hlcTime(g.store().purgeHorizon()));
    o.put(
        "purgeHorizonAgeSeconds",
        g.store().purgeHorizon() == 0 ? null : (now.toEpochMilli() - dev.edgesync.conflict.Hlc.physicalMillis(g.store().purgeHorizon())) / 1000.0);
    o.put("stableTime", hlcTime(g.stableHlc()));
    o.put("horizon", hlcTime(g.horizonHlc()));
    ArrayNode waiting = o.putArray("waitingFor");
    g.silentSources().forEach(waiting::add);
    ArrayNode members = o.putArray("members");
    g.members().entrySet().stream()
        .sorted(java.util.Map.Entry.comparingByValue())
        .forEach(m -> members.addObject().put("id", m.getKey()).put("stableTime", hlcTime(m.getValue())));
    ArrayNode forgotten = o.putArray("forgotten");
    g.store().forgotten().stream().sorted().forEach(forgotten::add);
    o.put("lastFailure", g.lastFailure());
    return o;
  }

  /** The wall time of an HLC as ISO-8601 text, or null for 0 ("none"). */
  public static String hlcTime(long hlc) {
    return instant(hlc == 0 ? null : java.time.Instant.ofEpochMilli(dev.edgesync.conflict.Hlc.physicalMillis(hlc)));
  }
}
