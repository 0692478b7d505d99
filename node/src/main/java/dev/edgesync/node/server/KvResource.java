package dev.edgesync.node.server;

import static dev.edgesync.node.server.HttpExchanges.await;
import static dev.edgesync.node.server.HttpExchanges.body;
import static dev.edgesync.node.server.HttpExchanges.duration;
import static dev.edgesync.node.server.HttpExchanges.number;
import static dev.edgesync.node.server.HttpExchanges.putText;
import static dev.edgesync.node.server.HttpExchanges.query;
import static dev.edgesync.node.server.HttpExchanges.send;
import static dev.edgesync.node.server.HttpExchanges.sendJson;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.edgesync.engine.Acks;
import dev.edgesync.engine.KeyValue;
import dev.edgesync.conflict.Version;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.storage.Precondition;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.node.config.NodeConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The key-value resource of the HTTP API: {@code GET|HEAD|PUT|DELETE /kv/{key}}, {@code GET /kv}
 * (scan) and {@code POST /kv} (bulk writes).
 */
final class KvResource {
  /** Query parameters of a single write. */
  static final Set<String> WRITE_PARAMETERS = Set.of("acks", "timeout");
  /** A put also takes {@code ttl}: the value expires that long after the write. */
  static final Set<String> PUT_PARAMETERS = Set.of("acks", "timeout", "ttl");
  /** The longest {@code ttl}: 100 years, as the engine allows. */
  static final Duration MAX_TTL = Duration.ofMillis(dev.edgesync.engine.storage.VersionedStore.MAX_TTL_MILLIS);

  /** Query parameters of a scan. */
  static final Set<String> SCAN_PARAMETERS = Set.of("prefix", "prefixBase64", "after", "afterBase64", "limit");

  private final SyncNode node;
  private final NodeConfig.Limits limits;
  private final BooleanSupplier acceptingWrites;
  private final BulkWrites bulk;

  KvResource(SyncNode node, NodeConfig.Limits limits, BooleanSupplier acceptingWrites) {
    this.node = node;
    this.limits = limits;
    this.acceptingWrites = acceptingWrites;
    this.bulk = new BulkWrites(node, limits, this, this::checkWritable);
  }

  /** {@code /kv/{raw}}: the key is the raw path after {@code /kv/}, percent-decoded. */
  void handleKey(HttpExchange ex, String method, String raw) throws IOException {
    handleKey(ex, method, key(raw));
  }

  /** {@code /kv64/{raw}}: the key's bytes as base64 (any bytes, also those that are not UTF-8). */
  void handleKey64(HttpExchange ex, String method, String raw) throws IOException {
    String text;
    try {
      text = new String(PercentDecoder.decode(raw, false), StandardCharsets.UTF_8);
    } catch (PercentDecoder.InvalidEncodingException e) {
      throw new HttpError(400, "key is not valid: " + e.getMessage(), Keys.BASE64_FIX);
    }
    byte[] key = Keys.fromBase64(text, "key");
    if (key.length == 0) {
      throw new HttpError(400, "key is empty", "PUT /kv64/{base64} with the base64 of a non-empty key");
    }
    checkKeySize(key, "key");
    handleKey(ex, method, key);
  }

  private void handleKey(HttpExchange ex, String method, byte[] key) throws IOException {
    switch (method) {
      case "GET", "HEAD" -> getKey(ex, key);
      case "PUT" -> putKey(ex, key);
      default -> deleteKey(ex, key);
    }
  }

  /** {@code /kv}: a scan, a bulk write, or a delete by prefix. */
  void handleCollection(HttpExchange ex, String method) throws IOException {
    switch (method) {
      case "POST" -> bulk.handle(ex);
      case "DELETE" -> deletePrefix(ex);
      default -> scan(ex);
    }
  }

  /** Keys read and deleted per round of a delete by prefix: the request's bound on memory and queue share. */
  static final int DELETE_PREFIX_PAGE = 500;

  /**
   * {@code DELETE /kv?prefix=P}: tombstones for every key live under {@code P} on this node, in
   * rounds of {@link #DELETE_PREFIX_PAGE} (a scan page, then its deletes committed), so neither
   * memory nor the write queue grows with the number of keys. Keys written under the prefix while
   * it runs may or may not be deleted. Answers how many keys were deleted.
   */
  private void deletePrefix(HttpExchange ex) throws IOException {
    Map<String, String> q = query(ex, Set.of("prefix", "prefixBase64"));
    byte[] prefix = Keys.param(q, "prefix");
    if (prefix == null || prefix.length == 0) {
      throw new HttpError(
          400,
          "DELETE /kv needs a non-empty prefix",
          "DELETE /kv?prefix=orders/ deletes the keys under orders/; delete keys one by one with DELETE /kv/{key}");
    }
    checkWritable();
    byte[] after = null;
    int deleted = 0;
    long lastSeq = 0;
    while (true) {
      List<byte[]> page = new ArrayList<>(DELETE_PREFIX_PAGE);
      try (Stream<KeyValue> s = node.scan(prefix, after)) {
        Iterator<KeyValue> it = s.iterator();
        while (it.hasNext() && page.size() < DELETE_PREFIX_PAGE) {
          page.add(it.next().key());
        }
      }
      if (page.isEmpty()) {
        break;
      }
      List<CompletableFuture<WriteResult>> futures = new ArrayList<>(page.size());
      for (byte[] key : page) {
        futures.add(node.deleteAsync(key, Acks.none()));
      }
      lastSeq = Math.max(lastSeq, awaitAll(futures, deleted));
      deleted += futures.size();
      after = page.get(page.size() - 1);
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    putText(o, "prefix", prefix);
    o.put("deleted", deleted);
    o.put("lastSeq", lastSeq);
    sendJson(ex, 200, o);
  }

  /**
   * Waits for one round of a multi-write request; returns its highest seq. A failure is a {@link
   * BulkFailure} counting the {@code committedBefore} writes of earlier rounds and those of this
   * round that committed before it.
   */
  static long awaitAll(List<CompletableFuture<WriteResult>> futures, int committedBefore) {
    long lastSeq = 0;
    int done = committedBefore;
    for (CompletableFuture<WriteResult> f : futures) {
      try {
        lastSeq = Math.max(lastSeq, await(f).seq());
      } catch (RuntimeException e) {
        throw new BulkWrites.BulkFailure(done, e);
      }
      done++;
    }
    return lastSeq;
  }

  private void getKey(HttpExchange ex, byte[] key) throws IOException {
    query(ex, Set.of());
    KeyValue kv = node.get(key).orElse(null);
    if (kv == null) {
      throw new HttpError(404, "key '" + Keys.display(key) + "' not found (absent, deleted or expired)", null);
    }
    ex.getResponseHeaders().set("X-Edgesync-Version", Json.version(kv.version()));
    ex.getResponseHeaders().set("X-Edgesync-Seq", Long.toString(kv.seq()));
    ex.getResponseHeaders().set("ETag", "\"" + Json.version(kv.version()) + "\"");
    if (kv.expiresHlc() != 0) {
      ex.getResponseHeaders().set("X-Edgesync-Expires", Json.hlcTime(kv.expiresHlc()));
    }
    send(ex, 200, "application/octet-stream", kv.value());
  }

  private void putKey(HttpExchange ex, byte[] key) throws IOException {
    Map<String, String> query = query(ex, PUT_PARAMETERS);
    Acks acks = acks(query);
    Duration ttl = ttl(query);
    Precondition precondition = precondition(ex);
    byte[] value = body(ex, limits.httpMaxBodyBytes());
    checkWritable();
    WriteResult r =
        await(
            precondition == null
                ? node.putAsync(key, value, ttl, acks)
                : node.writeIf(key, value, precondition, ttl, acks));
    ObjectNode o = writeJson(key, r, false);
    if (ttl != null) {
      o.put(
          "expiresAt",
          Json.hlcTime(dev.edgesync.engine.storage.StoredEntry.expiryOf(r.version().hlc(), ttl.toMillis())));
    }
    sendJson(ex, 200, o);
  }

  /** {@code ?ttl=30s}: the value expires that long after the write; null without it. */
  static Duration ttl(Map<String, String> q) {
    return q.containsKey("ttl") ? duration(q, "ttl", Duration.ofMinutes(5), Duration.ofMillis(1), MAX_TTL) : null;
  }

  private void deleteKey(HttpExchange ex, byte[] key) throws IOException {
    Map<String, String> query = query(ex, WRITE_PARAMETERS);
    Acks acks = acks(query);
    Precondition precondition = precondition(ex);
    if (precondition instanceof Precondition.Absent) {
      throw new HttpError(
          400,
          "If-None-Match: * on DELETE would write a tombstone for a key that is not there",
          "DELETE with If-Match: \"<version>\" to delete only that version, or without a condition");
    }
    checkWritable();
    // Read before the write, for the answer only: a tombstone is written either way, so that an
    // older write of the key that has not arrived here yet stays deleted when it does.
    boolean existed = node.get(key).isPresent();
    WriteResult r = await(precondition == null ? node.deleteAsync(key, acks) : node.writeIf(key, null, precondition, acks));
    ObjectNode o = writeJson(key, r, true);
    o.put("existed", existed);
    sendJson(ex, 200, o);
  }

  /**
   * The precondition of a write from {@code If-Match: "<version>"} (the {@code ETag} of a GET) or
   * {@code If-None-Match: *} (create only); null without either.
   */
  private static Precondition precondition(HttpExchange ex) {
    String match = ex.getRequestHeaders().getFirst("If-Match");
    String noneMatch = ex.getRequestHeaders().getFirst("If-None-Match");
    if (match != null && noneMatch != null) {
      throw new HttpError(400, "If-Match and If-None-Match given together", "send one: If-Match: \"<version>\" or If-None-Match: *");
    }
    if (noneMatch != null) {
      if (!noneMatch.strip().equals("*")) {
        throw new HttpError(400, "If-None-Match '" + noneMatch + "' is not supported", "If-None-Match: * (write only if the key is absent)");
      }
      return Precondition.absent();
    }
    if (match == null) {
      return null;
    }
    String v = match.strip();
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    int at = v.indexOf('@');
    try {
      String origin = v.substring(at + 1);
      if (at < 1 || !PeerSpec.isValidId(origin)) {
        throw new IllegalArgumentException("not <hlc>@<node id>");
      }
      return Precondition.version(new Version(Long.parseLong(v.substring(0, at)), origin));
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new HttpError(
          400,
          "If-Match '" + match + "' is not a version",
          "send one ETag of a GET (not a list, not * or W/), e.g. If-Match: \"117745367466835968@site-a\"");
    }
  }

  private static ObjectNode writeJson(byte[] key, WriteResult r, boolean deleted) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    putText(o, "key", key);
    o.put("seq", r.seq());
    o.put("hlc", r.version().hlc());
    o.put("origin", r.version().origin());
    o.put("version", Json.version(r.version()));
    if (deleted) {
      o.put("deleted", true);
    }
    return o;
  }

  private void scan(HttpExchange ex) throws IOException {
    Map<String, String> q = query(ex, SCAN_PARAMETERS);
    byte[] prefix = Keys.param(q, "prefix");
    if (prefix == null) {
      prefix = new byte[0];
    }
    byte[] after = Keys.param(q, "after");
    int limit = (int) number(q, "limit", HttpApi.SCAN_DEFAULT_LIMIT, 1, HttpApi.SCAN_MAX_LIMIT);
    List<KeyValue> page = new ArrayList<>(limit + 1);
    // One key more than the page tells whether there is a next page.
    try (Stream<KeyValue> s = node.scan(prefix, after)) {
      Iterator<KeyValue> it = s.iterator();
      while (it.hasNext() && page.size() <= limit) {
        page.add(it.next());
      }
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    ArrayNode items = o.putArray("items");
    for (KeyValue kv : page.subList(0, Math.min(limit, page.size()))) {
      ObjectNode item = items.addObject();
      putText(item, "key", kv.key());
      putText(item, "value", kv.value());
      item.put("version", Json.version(kv.version()));
      item.put("seq", kv.seq());
      if (kv.expiresHlc() != 0) {
        item.put("expiresAt", Json.hlcTime(kv.expiresHlc()));
      }
    }
    if (page.size() > limit) {
      // The next page starts after this key: as text (null when it is not UTF-8) and always as
      // base64, which round-trips any key through afterBase64.
      byte[] next = page.get(limit - 1).key();
      putText(o, "next", next);
      o.put("nextBase64", Base64.getEncoder().encodeToString(next));
    } else {
      o.putNull("next");
    }
    sendJson(ex, 200, o);
  }

  private byte[] key(String raw) {
    byte[] key;
    try {
      key = PercentDecoder.decode(raw, false);
    } catch (PercentDecoder.InvalidEncodingException e) {
      throw new HttpError(
          400,
          "key is not valid: " + e.getMessage(),
          "keys are UTF-8 text: percent-encode each byte of the key's UTF-8 form, e.g. a%2Fb for a/b and %C3%A9 for \u00e9");
    }
    if (key.length == 0) {
      throw new HttpError(400, "key is empty", "PUT /kv/{key} with a non-empty key");
    }
    checkKeySize(key, "key");
    return key;
  }

  void checkKeySize(byte[] key, String what) {
    if (key.length > limits.maxKeyBytes()) {
      throw new HttpError(
          413,
          what
              + " is "
              + key.length
              + " bytes, more than limits.maxKeyBytes ("
              + limits.maxKeyBytes()
              + ")",
          "use shorter keys or raise limits.maxKeyBytes");
    }
  }

  private Acks acks(Map<String, String> q) {
    if (!q.containsKey("acks")) {
      if (q.containsKey("timeout")) {
        throw new HttpError(400, "timeout is given without acks", "?acks=1&timeout=2s");
      }
      return Acks.none();
    }
    int n;
    try {
      n = Integer.parseInt(q.get("acks"));
    } catch (NumberFormatException e) {
      n = -1;
    }
    int peers = node.status().peers().size();
    if (n < 0 || n > peers) {
      throw new HttpError(
          400,
          "acks '" + q.get("acks") + "' is not valid: this node has " + peers + " peer(s)",
          "a whole number from 0 to " + peers);
    }
    Duration timeout = duration(q, "timeout", HttpApi.DEFAULT_ACK_TIMEOUT, Duration.ofMillis(1), HttpApi.MAX_ACK_TIMEOUT);
    return n == 0 ? Acks.none() : Acks.of(n, timeout);
  }

  void checkWritable() {
    // A failed node is not checked here: the engine fails the write with the storage error,
    // which is answered with 503 and the reason, without a status snapshot per write.
    if (!acceptingWrites.getAsBoolean()) {
      throw new HttpError(
          503,
          "node " + node.nodeId() + " is shutting down and takes no more writes",
          "retry on another node, or on this one after it restarts");
    }
  }

}
