package dev.edgesync.node.config;

import static dev.edgesync.node.config.ConfigValues.bool;
import static dev.edgesync.node.config.ConfigValues.bytes;
import static dev.edgesync.node.config.ConfigValues.cluster;
import static dev.edgesync.node.config.ConfigValues.count;
import static dev.edgesync.node.config.ConfigValues.durability;
import static dev.edgesync.node.config.ConfigValues.file;
import static dev.edgesync.node.config.ConfigValues.id;
import static dev.edgesync.node.config.ConfigValues.idList;
import static dev.edgesync.node.config.ConfigValues.inlineToken;
import static dev.edgesync.node.config.ConfigValues.notNegative;
import static dev.edgesync.node.config.ConfigValues.path;
import static dev.edgesync.node.config.ConfigValues.positive;
import static dev.edgesync.node.config.ConfigValues.scalar;
import static dev.edgesync.node.config.ConfigValues.serverName;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgesync.discovery.ConfigException;
import dev.edgesync.discovery.ConfigFileReader;
import dev.edgesync.discovery.PeerFileSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The config file part of {@link ConfigLoader}: reads a YAML or JSON file section by section into
 * a {@link ConfigDraft}. Unknown keys are errors (with the closest known key as a hint), so that a
 * typo does not silently fall back to a default.
 */
final class ConfigFile {
  private static final List<String> TOP_KEYS =
      List.of(
          "id",
          "cluster",
          "listen",
          "http",
          "dataDir",
          "peers",
          "durability",
          "replication",
          "limits",
          "gc",
          "discovery",
          "security");
  private static final List<String> DISCOVERY_KEYS = List.of("dnsSrv", "dnsInterval", "dnsServers");
  private static final List<String> REPLICATION_KEYS =
      List.of(
          "heartbeatInterval",
          "heartbeatTimeout",
          "reconnectBaseDelay",
          "reconnectMaxDelay",
          "batchMaxEntries",
          "batchMaxBytes",
          "maxBatchesInFlight",
          "compression",
          "maxClockSkew",
          "stallTimeout",
          "antiEntropySettle",
          "antiEntropyMinInterval",
          "repairMaxEntries",
          "maxProtocolVersion");
  private static final List<String> LIMIT_KEYS =
      List.of(
          "maxKeyBytes",
          "maxValueBytes",
          "writeQueueDepth",
          "httpMaxBodyBytes",
          "httpFeedWriteTimeout",
          "maxInboundStreams",
          "maxStreamsPerPeer",
          "handshakeTimeout");
  private static final List<String> GC_KEYS = List.of("interval", "minAge", "batchSize", "enabled");
  private static final List<String> SECURITY_KEYS =
      List.of("tls", "token", "tokenFile", "allowedPeers", "reloadInterval", "http");
  private static final List<String> TLS_KEYS = List.of("cert", "key", "ca", "peers");
  private static final List<String> PEER_TLS_KEYS = List.of("ca", "serverName");
  private static final List<String> HTTP_SECURITY_KEYS = List.of("token", "tokenFile", "tls");
  private static final List<String> HTTP_TLS_KEYS = List.of("cert", "key");

  private ConfigFile() {}

  static void apply(ConfigDraft d, Path file) {
    ObjectNode root = ConfigFileReader.read(file);
    String source = ConfigFileReader.sourceOf(file);
    checkKeys(root, TOP_KEYS, "", source);
    // The file owns the peer list (and a later edit of it changes the peers at run time) unless
    // the environment or a flag overrides it.
    d.peersFromFile = true;
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      switch (key) {
        case "id" -> d.id.set(id(scalar(v, source, key), source, key), source);
        case "cluster" -> d.cluster.set(cluster(scalar(v, source, key), source, key), source);
        case "listen" -> d.listen.set(HostPort.parse(scalar(v, source, key), source, key), source);
        case "http" -> d.http.set(HostPort.parse(scalar(v, source, key), source, key), source);
        case "dataDir" -> d.dataDir.set(path(scalar(v, source, key), source, key), source);
        case "durability" ->
            d.durability.set(durability(scalar(v, source, key), source, key), source);
        case "peers" -> d.peers.set(PeerFileSource.fromTree(root, source), source);
        case "replication" -> applyReplication(d, mapping(v, source, key), source);
        case "limits" -> applyLimits(d, mapping(v, source, key), source);
        case "gc" -> applyGc(d, mapping(v, source, key), source);
        case "discovery" -> applyDiscovery(d, mapping(v, source, key), source);
        case "security" -> applySecurity(d, mapping(v, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyReplication(ConfigDraft d, ObjectNode node, String source) {
    checkKeys(node, REPLICATION_KEYS, "replication.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "replication." + e.getKey();
      String text = scalar(e.getValue(), source, key);
      switch (e.getKey()) {
        case "heartbeatInterval" -> d.heartbeatInterval.set(positive(text, source, key), source);
        case "heartbeatTimeout" -> d.heartbeatTimeout.set(positive(text, source, key), source);
        case "reconnectBaseDelay" -> d.reconnectBaseDelay.set(positive(text, source, key), source);
        case "reconnectMaxDelay" -> d.reconnectMaxDelay.set(positive(text, source, key), source);
        case "maxClockSkew" -> d.maxClockSkew.set(positive(text, source, key), source);
        case "batchMaxEntries" ->
            d.batchMaxEntries.set(count(text, 1, 1_000_000, source, key), source);
        case "batchMaxBytes" ->
            d.batchMaxBytes.set(bytes(text, 1, 256 * 1024 * 1024, source, key), source);
        case "maxBatchesInFlight" -> d.maxBatchesInFlight.set(count(text, 1, 1024, source, key), source);
        case "compression" -> d.compression.set(bool(text, source, key), source);
        case "stallTimeout" -> d.stallTimeout.set(positive(text, source, key), source);
        case "antiEntropySettle" -> d.antiEntropySettle.set(notNegative(text, source, key), source);
        case "antiEntropyMinInterval" ->
            d.antiEntropyMinInterval.set(notNegative(text, source, key), source);
        case "repairMaxEntries" ->
            d.repairMaxEntries.set(count(text, 1, 1_000_000, source, key), source);
        case "maxProtocolVersion" ->
            d.maxProtocolVersion.set(
                count(
                    text,
                    dev.edgesync.engine.replication.wire.ProtocolVersion.MIN,
                    dev.edgesync.engine.replication.wire.ProtocolVersion.CURRENT,
                    source,
                    key),
                source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyLimits(ConfigDraft d, ObjectNode node, String source) {
    checkKeys(node, LIMIT_KEYS, "limits.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "limits." + e.getKey();
      String text = scalar(e.getValue(), source, key);
      switch (e.getKey()) {
        case "maxKeyBytes" -> d.maxKeyBytes.set(bytes(text, 1, 64 * 1024, source, key), source);
        case "maxValueBytes" ->
            d.maxValueBytes.set(bytes(text, 1, 64 * 1024 * 1024, source, key), source);
        case "writeQueueDepth" ->
            d.writeQueueDepth.set(count(text, 1, 10_000_000, source, key), source);
        case "httpMaxBodyBytes" ->
            d.httpMaxBodyBytes.set(bytes(text, 1, 1024 * 1024 * 1024, source, key), source);
        case "httpFeedWriteTimeout" ->
            d.httpFeedWriteTimeout.set(positive(text, source, key), source);
        case "maxInboundStreams" ->
            d.maxInboundStreams.set(count(text, 1, 100_000, source, key), source);
        case "maxStreamsPerPeer" ->
            d.maxStreamsPerPeer.set(count(text, 1, 100_000, source, key), source);
        case "handshakeTimeout" -> d.handshakeTimeout.set(positive(text, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyGc(ConfigDraft d, ObjectNode node, String source) {
    checkKeys(node, GC_KEYS, "gc.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "gc." + e.getKey();
      String text = scalar(e.getValue(), source, key);
      switch (e.getKey()) {
        case "interval" -> d.gcInterval.set(positive(text, source, key), source);
        case "minAge" -> d.gcMinAge.set(notNegative(text, source, key), source);
        case "batchSize" -> d.gcBatchSize.set(count(text, 1, 1_000_000, source, key), source);
        case "enabled" -> d.gcEnabled.set(bool(text, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyDiscovery(ConfigDraft d, ObjectNode node, String source) {
    checkKeys(node, DISCOVERY_KEYS, "discovery.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "discovery." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "dnsSrv" -> d.dnsSrv.set(ConfigValues.dnsName(scalar(v, source, key), source, key), source);
        case "dnsInterval" -> d.dnsInterval.set(positive(scalar(v, source, key), source, key), source);
        case "dnsServers" -> d.dnsServers.set(ConfigValues.hostPorts(v, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applySecurity(ConfigDraft d, ObjectNode node, String source) {
    checkKeys(node, SECURITY_KEYS, "security.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "security." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "tls" -> applyTls(d, mapping(v, source, key), source);
        case "token" -> d.token.set(inlineToken(scalar(v, source, key), source, key), source);
        case "tokenFile" ->
            d.token.set(new NodeConfig.Secret(null, file(scalar(v, source, key), source, key)), source);
        case "allowedPeers" -> d.allowedPeers.set(idList(v, source, key), source);
        case "reloadInterval" -> d.reloadInterval.set(positive(scalar(v, source, key), source, key), source);
        case "http" -> applyHttpSecurity(d, mapping(v, source, key), source);
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyTls(ConfigDraft d, ObjectNode node, String source) {
    checkKeys(node, TLS_KEYS, "security.tls.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "security.tls." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "cert" -> d.tlsCert.set(file(scalar(v, source, key), source, key), source);
        case "key" -> d.tlsKey.set(file(scalar(v, source, key), source, key), source);
        case "ca" -> d.tlsCa.set(file(scalar(v, source, key), source, key), source);
        case "peers" -> {
          ObjectNode peers = mapping(v, source, key);
          Map<String, NodeConfig.PeerTls> byId = new java.util.TreeMap<>();
          for (Map.Entry<String, JsonNode> p : peers.properties()) {
            String field = key + "." + p.getKey();
            String peerId = id(p.getKey(), source, field);
            ObjectNode o = mapping(p.getValue(), source, field);
            checkKeys(o, PEER_TLS_KEYS, field + ".", source);
            Path ca = o.has("ca") ? file(scalar(o.get("ca"), source, field + ".ca"), source, field + ".ca") : null;
            String serverName = o.has("serverName") ? serverName(scalar(o.get("serverName"), source, field + ".serverName"), source, field + ".serverName") : null;
            byId.put(peerId, new NodeConfig.PeerTls(ca, serverName));
          }
          d.peerTls.set(byId, source);
        }
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void applyHttpSecurity(ConfigDraft d, ObjectNode node, String source) {
    checkKeys(node, HTTP_SECURITY_KEYS, "security.http.", source);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = "security.http." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "token" -> d.httpToken.set(inlineToken(scalar(v, source, key), source, key), source);
        case "tokenFile" ->
            d.httpToken.set(new NodeConfig.Secret(null, file(scalar(v, source, key), source, key)), source);
        case "tls" -> {
          ObjectNode tls = mapping(v, source, key);
          checkKeys(tls, HTTP_TLS_KEYS, key + ".", source);
          for (Map.Entry<String, JsonNode> t : tls.properties()) {
            String k = key + "." + t.getKey();
            Path f = file(scalar(t.getValue(), source, k), source, k);
            if (t.getKey().equals("cert")) {
              d.httpTlsCert.set(f, source);
            } else {
              d.httpTlsKey.set(f, source);
            }
          }
        }
        default -> throw new IllegalStateException("unhandled key " + key);
      }
    }
  }

  private static void checkKeys(
      ObjectNode node, List<String> allowed, String prefix, String source) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!allowed.contains(e.getKey())) {
        String suggestion = closest(e.getKey(), allowed);
        throw new ConfigException(
            source,
            prefix + e.getKey(),
            e.getValue().toString(),
            "unknown key"
                + (suggestion == null ? "" : " (did you mean '" + prefix + suggestion + "'?)"),
            "one of " + String.join(", ", allowed.stream().map(k -> prefix + k).toList()));
      }
    }
  }

  private static ObjectNode mapping(JsonNode v, String source, String key) {
    if (v == null || !v.isObject()) {
      throw new ConfigException(
          source,
          key,
          String.valueOf(v),
          "value is not a mapping",
          "a mapping, e.g. "
              + key
              + ": {"
              + (key.equals("limits") ? "maxValueBytes: 1MiB" : "heartbeatInterval: 1s")
              + "}");
    }
    return (ObjectNode) v;
  }

  /** The allowed key closest to a misspelt one, if it is a plausible typo. */
  private static String closest(String key, List<String> allowed) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : allowed) {
      int d = distance(key.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return bestDistance <= Math.max(2, key.length() / 4) ? best : null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
