package dev.edgesync.node.server;

import static dev.edgesync.node.server.HttpExchanges.body;
import static dev.edgesync.node.server.HttpExchanges.query;
import static dev.edgesync.node.server.HttpExchanges.sendJson;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.edgesync.engine.Acks;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.node.config.NodeConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /kv}: bulk writes. The whole body is checked before anything is written; the writes
 * are then submitted in chunks, so one request's share of the write queue stays bounded.
 */
final class BulkWrites {
  private final SyncNode node;
  private final NodeConfig.Limits limits;
  private final KvResource kv;
  private final Runnable checkWritable;

  BulkWrites(SyncNode node, NodeConfig.Limits limits, KvResource kv, Runnable checkWritable) {
    this.node = node;
    this.limits = limits;
    this.kv = kv;
    this.checkWritable = checkWritable;
  }

  /** One write of the body; {@code ttl}: null, or the put's value expires that long after it. */
  record BulkEntry(byte[] key, byte[] value, java.time.Duration ttl) {}

  void handle(HttpExchange ex) throws IOException {
    query(ex, Set.of());
    if (ex.getRequestHeaders().containsKey("If-Match") || ex.getRequestHeaders().containsKey("If-None-Match")) {
      throw new HttpError(
          400,
          "a bulk request cannot be conditional (If-Match / If-None-Match)",
          "send conditional writes one by one: PUT /kv/{key} with If-Match or If-None-Match: *");
    }
    byte[] body = body(ex, limits.httpMaxBodyBytes());
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw new HttpError(
          400,
          "body is not valid JSON: " + e.getOriginalMessage(),
          "{\"entries\":[{\"key\":\"k\",\"value\":\"v\"},{\"key\":\"k2\",\"delete\":true}]}");
    }
    List<BulkEntry> entries = parseBulk(root);
    checkWritable.run();
    int chunk = Math.max(1, Math.min(1000, limits.writeQueueDepth() / 4));
    long lastSeq = 0;
    int done = 0;
    int deletes = 0;
    for (int start = 0; start < entries.size(); start += chunk) {
      // Submitting in chunks keeps this request's share of the write queue bounded, so a big bulk
      // request does not make concurrent single writes fail with a full queue.
      List<CompletableFuture<WriteResult>> futures = new ArrayList<>(chunk);
      for (BulkEntry e : entries.subList(start, Math.min(entries.size(), start + chunk))) {
        futures.add(
            e.value == null
                ? node.deleteAsync(e.key, Acks.none())
                : node.putAsync(e.key, e.value, e.ttl, Acks.none()));
      }
      lastSeq = Math.max(lastSeq, KvResource.awaitAll(futures, done));
      done += futures.size();
    }
    for (BulkEntry e : entries) {
      deletes += e.value == null ? 1 : 0;
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("committed", done);
    o.put("puts", done - deletes);
    o.put("deletes", deletes);
    o.put("lastSeq", lastSeq);
    sendJson(ex, 200, o);
  }

  List<BulkEntry> parseBulk(JsonNode root) {
    String example =
        "{\"entries\":[{\"key\":\"k\",\"value\":\"v\"},{\"key\":\"k2\",\"delete\":true}]}";
    if (!root.isObject()
        || !root.has("entries")
        || root.size() != 1
        || !root.get("entries").isArray()) {
      throw new HttpError(400, "body must be an object with only an 'entries' list", example);
    }
    JsonNode list = root.get("entries");
    if (list.size() > HttpApi.BULK_MAX_ENTRIES) {
      throw new HttpError(
          413,
          "bulk request has " + list.size() + " entries, more than " + HttpApi.BULK_MAX_ENTRIES,
          "split it into requests of at most " + HttpApi.BULK_MAX_ENTRIES + " entries");
    }
    List<BulkEntry> entries = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      JsonNode e = list.get(i);
      String where = "entries[" + i + "]";
      if (!e.isObject()) {
        throw new HttpError(400, where + " is not an object", example);
      }
      Iterator<String> names = e.fieldNames();
      while (names.hasNext()) {
        String name = names.next();
        if (!Set.of("key", "keyBase64", "value", "valueBase64", "delete", "ttl").contains(name)) {
          throw new HttpError(
              400,
              where + " has an unknown field '" + name + "'",
              "only key (or keyBase64), value (or valueBase64), ttl and delete");
        }
      }
      JsonNode k = e.get("key");
      JsonNode k64 = e.get("keyBase64");
      if (k != null && k64 != null) {
        throw new HttpError(400, where + " has both key and keyBase64", "one of them: keyBase64 for a key that is not UTF-8 text");
      }
      byte[] key;
      if (k64 != null) {
        if (!k64.isTextual()) {
          throw new HttpError(400, where + ".keyBase64 is not a string", Keys.BASE64_FIX);
        }
        key = Keys.fromBase64(k64.textValue(), where + ".keyBase64");
      } else if (k == null || !k.isTextual()) {
        throw new HttpError(400, where + ".key is missing or not a string", example);
      } else {
        key = Keys.utf8(k.textValue(), where + ".key");
      }
      if (key.length == 0) {
        throw new HttpError(400, where + ".key is empty", example);
      }
      kv.checkKeySize(key, where + ".key");
      boolean delete = e.has("delete") && e.get("delete").asBoolean(false);
      JsonNode v = e.get("value");
      JsonNode v64 = e.get("valueBase64");
      int given = (delete ? 1 : 0) + (v != null ? 1 : 0) + (v64 != null ? 1 : 0);
      if (given > 1) {
        throw new HttpError(
            400, where + " has more than one of value, valueBase64 and delete: not both", example);
      }
      if (given == 0) {
        throw new HttpError(
            400, where + " needs a string 'value', a 'valueBase64' or \"delete\": true", example);
      }
      byte[] value = null;
      if (!delete) {
        if (v64 != null) {
          // The form GET /kv gives a value that is not UTF-8, so a scan's output can be written back.
          try {
            value = Base64.getDecoder().decode(v64.isTextual() ? v64.textValue() : "!");
          } catch (IllegalArgumentException bad) {
            throw new HttpError(400, where + ".valueBase64 is not a base64 string", "standard base64 (RFC 4648), e.g. \"AP8=\"");
          }
        } else if (!v.isTextual()) {
          throw new HttpError(400, where + ".value is not a string", example);
        } else {
          value = Keys.utf8(v.textValue(), where + ".value");
        }
        if (value.length > limits.maxValueBytes()) {
          throw new HttpError(
              413,
              where
                  + ".value is "
                  + value.length
                  + " bytes, more than limits.maxValueBytes ("
                  + limits.maxValueBytes()
                  + ")",
              "write smaller values or raise limits.maxValueBytes");
        }
      }
      java.time.Duration ttl = null;
      if (e.has("ttl")) {
        if (delete || !e.get("ttl").isTextual()) {
          throw new HttpError(
              400,
              where + ".ttl " + (delete ? "is given with a delete" : "is not a string"),
              "a put's time to live as a string, e.g. \"ttl\": \"30s\"; a delete takes none");
        }
        try {
          ttl = KvResource.ttl(java.util.Map.of("ttl", e.get("ttl").textValue()));
        } catch (HttpError bad) {
          throw new HttpError(400, where + "." + bad.getMessage(), "a duration from 1ms to 36500d, e.g. \"ttl\": \"30s\"");
        }
        if (!node.acceptsTtl()) {
          // Checked before anything is written: a bulk request is refused whole.
          throw new HttpError(
              400,
              where + ".ttl: node '" + node.nodeId() + "' speaks replication protocol version " + node.maxProtocolVersion()
                  + " (replication.maxProtocolVersion), which cannot carry a ttl to its peers",
              "write without a ttl, or raise replication.maxProtocolVersion once every site runs a build that speaks 2");
        }
      }
      entries.add(new BulkEntry(key, value, ttl));
    }
    return entries;
  }

  /** A bulk (or delete-by-prefix) request failed after {@code committed} of its writes were committed. */
  static final class BulkFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int committed;
    final RuntimeException cause;

    BulkFailure(int committed, RuntimeException cause) {
      super(cause.getMessage(), cause, false, false);
      this.committed = committed;
      this.cause = cause;
    }
  }
}
