package dev.edgesync.node.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.edgesync.engine.Acks;
import dev.edgesync.engine.KeyValue;
import dev.edgesync.engine.NodeStatus;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.replication.AckTimeoutException;
import dev.edgesync.engine.storage.LimitExceededException;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.node.config.Durations;
import dev.edgesync.node.config.NodeConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Over 500 lines: the HTTP API's handlers were not split in the engine redesign; splitting them
// by resource (kv, bulk, scan, status, metrics) is open work.
/**
 * The node's HTTP API on the JDK's built-in {@link HttpServer}: key-value reads and writes, {@code
 * /status}, {@code /health} and {@code /metrics}.
 *
 * <p>Requests run on a fixed pool of {@link #THREADS} threads with a bounded queue; when both are
 * full, the server's dispatcher thread runs the request itself, which stops it from accepting more
 * connections until a thread is free (backpressure instead of an unbounded queue). Request bodies
 * are bounded by {@code limits.httpMaxBodyBytes}.
 *
 * <p>Lifecycle: the constructor binds the port (so a port conflict is found before the database is
 * opened); {@link #start()} starts serving; {@link #stopAcceptingWrites()} makes every later write
 * answer 503 while reads go on; {@link #close()} stops the server, waiting up to a second for
 * requests in flight.
 */
public final class HttpApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

  /** Request threads. */
  static final int THREADS = 16;

  /** Requests waiting for a thread before the dispatcher runs them itself. */
  static final int QUEUE = 256;

  /** Entries in one bulk request. */
  public static final int BULK_MAX_ENTRIES = 10_000;

  /** Default and largest page of {@code GET /kv}. */
  public static final int SCAN_DEFAULT_LIMIT = 100;

  static final int SCAN_MAX_LIMIT = 1000;
  static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofSeconds(5);
  static final Duration MAX_ACK_TIMEOUT = Duration.ofMinutes(5);

  /** How long one bulk request may wait for its writes to commit. */
  static final Duration BULK_COMMIT_TIMEOUT = Duration.ofSeconds(60);

  /** A refused body is read and dropped up to this much, so the client sees the status code. */
  static final long DRAIN_MAX_BYTES = 64L * 1024 * 1024;

  private static final String JSON = "application/json; charset=utf-8";
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  private final SyncNode node;
  private final NodeConfig.Limits limits;
  private final PrometheusMeterRegistry registry;
  private final HttpServer server;
  private final ThreadPoolExecutor executor;
  private final HttpAccess access;
  private final Map<String, long[]> refusalLog = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean acceptingWrites = true;

  /**
   * Binds the HTTP port.
   *
   * @param bind address to bind (port 0 picks a free one)
   * @param node the node to serve; it must be started before {@link #start()}
   * @throws IOException if the address cannot be bound (in use, not local)
   */
  public HttpApi(
      InetSocketAddress bind,
      SyncNode node,
      NodeConfig.Limits limits,
      PrometheusMeterRegistry registry)
      throws IOException {
    this(bind, node, limits, registry, HttpAccess.open());
  }

  /** The JDK server's switch for {@code TCP_NODELAY} on accepted connections (default off). */
  static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

  /**
   * Turns Nagle's algorithm off for the JDK's HTTP server unless the JVM was told otherwise. The
   * server writes a response's headers and body separately, so with Nagle on every small answer
   * waits for the client's delayed ACK: about 40 ms per status call or bulk write on Linux. The
   * server reads the property once, when its first instance is made, so this runs before that.
   */
  static void disableNagle() {
    if (System.getProperty(NODELAY_PROPERTY) == null) {
      System.setProperty(NODELAY_PROPERTY, "true");
    }
  }

  /**
   * Binds the HTTP (or, with a certificate in {@code access}, HTTPS) port; requests other than
   * {@code /health} need the bearer token of {@code access} when it has one.
   */
  HttpApi(
      InetSocketAddress bind,
      SyncNode node,
      NodeConfig.Limits limits,
      PrometheusMeterRegistry registry,
      HttpAccess access)
      throws IOException {
    disableNagle();
    this.node = node;
    this.limits = limits;
    this.registry = registry;
    this.access = access;
    if (access.sslContext() != null) {
      HttpsServer https = HttpsServer.create(bind, 128);
      https.setHttpsConfigurator(new HttpsConfigurator(access.sslContext()));
      this.server = https;
    } else {
      this.server = HttpServer.create(bind, 128);
    }
    AtomicInteger n = new AtomicInteger();
    this.executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            r -> {
              Thread t = new Thread(r, "edgesync-http-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.CallerRunsPolicy());
    server.setExecutor(executor);
    server.createContext("/", this::handle);
  }

  /** Starts serving. */
  public void start() {
    server.start();
  }

  /** The bound address (with the real port when port 0 was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** From now on every write is answered with 503; reads, status and metrics still work. */
  public void stopAcceptingWrites() {
    acceptingWrites = false;
  }

  /** Stops the server, waiting up to one second for requests in flight. */
  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
  }

  // ---- routing ----

  private void handle(HttpExchange ex) {
    try (ex) {
      String path = ex.getRequestURI().getRawPath();
      String method = ex.getRequestMethod();
      try {
        if (!path.equals("/health")) {
          authorize(ex);
        }
        if (path.startsWith("/kv/")) {
          route(ex, method, Set.of("GET", "PUT", "DELETE"));
          byte[] key = key(path.substring("/kv/".length()));
          switch (method) {
            case "GET" -> getKey(ex, key);
            case "PUT" -> putKey(ex, key);
            default -> deleteKey(ex, key);
          }
        } else if (path.equals("/kv")) {
          route(ex, method, Set.of("GET", "POST"));
          if (method.equals("GET")) {
            scan(ex);
          } else {
            bulk(ex);
          }
        } else if (path.equals("/status")) {
          route(ex, method, Set.of("GET"));
          sendJson(ex, 200, Json.status(node.status(), address().getPort()));
        } else if (path.equals("/health")) {
          route(ex, method, Set.of("GET"));
          health(ex);
        } else if (path.equals("/metrics")) {
          route(ex, method, Set.of("GET"));
          send(ex, 200, PROMETHEUS, registry.scrape().getBytes(StandardCharsets.UTF_8));
        } else {
          throw new HttpError(
              404, "no such endpoint: " + path, "use /kv/{key}, /kv, /status, /health or /metrics");
        }
      } catch (HttpError e) {
        if (e.status == 405) {
          ex.getResponseHeaders().set("Allow", e.fix.substring(e.fix.indexOf(':') + 2));
        }
        sendJson(ex, e.status, Json.error(e.getMessage(), e.fix));
      } catch (RuntimeException e) {
        sendFailure(ex, e);
      }
    } catch (IOException e) {
      // The client went away mid-response; nothing to answer.
      log.debug("HTTP exchange failed", e);
    }
  }

  /** Refuses a request without the API's bearer token (when one is configured) with 401. */
  private void authorize(HttpExchange ex) {
    String problem = access.check(ex.getRequestHeaders().getFirst("Authorization"));
    if (problem == null) {
      return;
    }
    registry.counter("edgesync.http.refused", "reason", problem).increment();
    logRefusal(problem, ex);
    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"edgesync\"");
    throw new HttpError(
        401,
        problem.equals("missing_token")
            ? "this node's HTTP API needs a bearer token"
            : "the bearer token is not accepted",
        "send 'Authorization: Bearer <token>' with the token in EDGESYNC_HTTP_TOKEN or"
            + " security.http.token(File) of the node");
  }

  /** One line per reason at most every 10 s, so a flood of bad requests cannot fill the log. */
  private void logRefusal(String reason, HttpExchange ex) {
    long now = System.nanoTime();
    long[] state = refusalLog.computeIfAbsent(reason, r -> new long[] {now - 10_000_000_000L, 0});
    long suppressed;
    synchronized (state) {
      if (now - state[0] < 10_000_000_000L) {
        state[1]++;
        return;
      }
      suppressed = state[1];
      state[0] = now;
      state[1] = 0;
    }
    log.warn(
        "refused {} {} from {}: {}{}",
        ex.getRequestMethod(),
        ex.getRequestURI().getRawPath(),
        ex.getRemoteAddress(),
        reason.equals("missing_token") ? "no bearer token" : "wrong bearer token",
        suppressed > 0 ? " (" + suppressed + " more in the last 10 s)" : "");
  }

  /** Re-reads the token and HTTPS files when they changed. */
  void reloadAccess() {
    access.reload();
  }

  private static void route(HttpExchange ex, String method, Set<String> allowed) {
    if (!allowed.contains(method)) {
      throw new HttpError(
          405,
          "method " + method + " is not allowed on " + ex.getRequestURI().getRawPath(),
          "allowed: " + String.join(", ", allowed.stream().sorted().toList()));
    }
  }

  // ---- key-value ----

  private void getKey(HttpExchange ex, byte[] key) throws IOException {
    KeyValue kv = node.get(key).orElse(null);
    if (kv == null) {
      throw new HttpError(404, "key '" + utf8(key) + "' not found (absent or deleted)", null);
    }
    ex.getResponseHeaders().set("X-Edgesync-Version", Json.version(kv.version()));
    ex.getResponseHeaders().set("X-Edgesync-Seq", Long.toString(kv.seq()));
    send(ex, 200, "application/octet-stream", kv.value());
  }

  private void putKey(HttpExchange ex, byte[] key) throws IOException {
    Map<String, String> query = query(ex);
    Acks acks = acks(query);
    byte[] value = body(ex);
    checkWritable();
    WriteResult r = await(node.putAsync(key, value, acks));
    sendJson(ex, 200, writeJson(key, r, false));
  }

  private void deleteKey(HttpExchange ex, byte[] key) throws IOException {
    Map<String, String> query = query(ex);
    Acks acks = acks(query);
    checkWritable();
    WriteResult r = await(node.deleteAsync(key, acks));
    sendJson(ex, 200, writeJson(key, r, true));
  }

  private static ObjectNode writeJson(byte[] key, WriteResult r, boolean deleted) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("key", utf8(key));
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
    Map<String, String> q = query(ex);
    byte[] prefix = q.getOrDefault("prefix", "").getBytes(StandardCharsets.UTF_8);
    byte[] after = q.containsKey("after") ? q.get("after").getBytes(StandardCharsets.UTF_8) : null;
    int limit = SCAN_DEFAULT_LIMIT;
    if (q.containsKey("limit")) {
      try {
        limit = Integer.parseInt(q.get("limit"));
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > SCAN_MAX_LIMIT) {
        throw new HttpError(
            400,
            "limit '" + q.get("limit") + "' is not valid",
            "a whole number from 1 to " + SCAN_MAX_LIMIT);
      }
    }
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
    }
    o.put("next", page.size() > limit ? utf8(page.get(limit - 1).key()) : null);
    sendJson(ex, 200, o);
  }

  /** Puts a UTF-8 text field, or null and a {@code <name>Base64} field when it is not UTF-8. */
  private static void putText(ObjectNode o, String name, byte[] bytes) {
    try {
      o.put(
          name,
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString());
    } catch (CharacterCodingException e) {
      o.putNull(name);
      o.put(name + "Base64", Base64.getEncoder().encodeToString(bytes));
    }
  }

  private record BulkEntry(byte[] key, byte[] value) {}

  private void bulk(HttpExchange ex) throws IOException {
    byte[] body = body(ex);
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
    checkWritable();
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
                : node.putAsync(e.key, e.value, Acks.none()));
      }
      for (CompletableFuture<WriteResult> f : futures) {
        WriteResult r;
        try {
          r = await(f);
        } catch (RuntimeException e) {
          throw new BulkFailure(done, e);
        }
        lastSeq = Math.max(lastSeq, r.seq());
        done++;
      }
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

  private List<BulkEntry> parseBulk(JsonNode root) {
    String example =
        "{\"entries\":[{\"key\":\"k\",\"value\":\"v\"},{\"key\":\"k2\",\"delete\":true}]}";
    if (!root.isObject()
        || !root.has("entries")
        || root.size() != 1
        || !root.get("entries").isArray()) {
      throw new HttpError(400, "body must be an object with only an 'entries' list", example);
    }
    JsonNode list = root.get("entries");
    if (list.size() > BULK_MAX_ENTRIES) {
      throw new HttpError(
          413,
          "bulk request has " + list.size() + " entries, more than " + BULK_MAX_ENTRIES,
          "split it into requests of at most " + BULK_MAX_ENTRIES + " entries");
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
        if (!Set.of("key", "value", "delete").contains(name)) {
          throw new HttpError(
              400, where + " has an unknown field '" + name + "'", "only key, value and delete");
        }
      }
      JsonNode k = e.get("key");
      if (k == null || !k.isTextual() || k.textValue().isEmpty()) {
        throw new HttpError(400, where + ".key is missing, empty or not a string", example);
      }
      byte[] key = k.textValue().getBytes(StandardCharsets.UTF_8);
      checkKeySize(key, where + ".key");
      boolean delete = e.has("delete") && e.get("delete").asBoolean(false);
      JsonNode v = e.get("value");
      if (delete == (v != null)) {
        throw new HttpError(
            400, where + " needs either a string 'value' or \"delete\": true", example);
      }
      byte[] value = null;
      if (!delete) {
        if (!v.isTextual()) {
          throw new HttpError(400, where + ".value is not a string", example);
        }
        value = v.textValue().getBytes(StandardCharsets.UTF_8);
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
      entries.add(new BulkEntry(key, value));
    }
    return entries;
  }

  // ---- status ----

  private void health(HttpExchange ex) throws IOException {
    NodeStatus s = node.status();
    ObjectNode o = Json.MAPPER.createObjectNode();
    if (s.state() == NodeStatus.State.RUNNING && acceptingWrites) {
      o.put("status", "serving");
      sendJson(ex, 200, o);
      return;
    }
    if (!acceptingWrites) {
      o.put("status", "stopping");
      o.put("reason", "the node is shutting down");
    } else {
      o.put("status", s.state().name().toLowerCase(java.util.Locale.ROOT));
      o.put("reason", s.failure() != null ? s.failure() : "the node is " + s.state());
    }
    sendJson(ex, 503, o);
  }

  // ---- request parts ----

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

  private void checkKeySize(byte[] key, String what) {
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

  private static Map<String, String> query(HttpExchange ex) {
    Map<String, String> q = new LinkedHashMap<>();
    String raw = ex.getRequestURI().getRawQuery();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String part : raw.split("&", -1)) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      try {
        String name = new String(PercentDecoder.decode(eq < 0 ? part : part.substring(0, eq), true), StandardCharsets.UTF_8);
        String value = eq < 0 ? "" : new String(PercentDecoder.decode(part.substring(eq + 1), true), StandardCharsets.UTF_8);
        q.put(name, value);
      } catch (PercentDecoder.InvalidEncodingException e) {
        throw new HttpError(
            400,
            "query parameter '" + part + "' is not valid: " + e.getMessage(),
            "URL-encode query values as UTF-8, e.g. prefix=a%2Fb");
      }
    }
    return q;
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
    Duration timeout = DEFAULT_ACK_TIMEOUT;
    if (q.containsKey("timeout")) {
      timeout = Durations.parseOrNull(q.get("timeout"));
      if (timeout == null
          || timeout.isNegative()
          || timeout.isZero()
          || timeout.compareTo(MAX_ACK_TIMEOUT) > 0) {
        throw new HttpError(
            400,
            "timeout '" + q.get("timeout") + "' is not valid",
            "a positive duration of at most 5m, e.g. 500ms or 2s");
      }
    }
    return n == 0 ? Acks.none() : Acks.of(n, timeout);
  }

  private byte[] body(HttpExchange ex) throws IOException {
    int max = limits.httpMaxBodyBytes();
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    InputStream in = ex.getRequestBody();
    if (length != null) {
      long declared;
      try {
        declared = Long.parseLong(length.strip());
      } catch (NumberFormatException e) {
        throw new HttpError(400, "Content-Length '" + length + "' is not a number", null);
      }
      if (declared > max) {
        drain(in);
        throw tooLarge(declared, max);
      }
    }
    byte[] data = in.readNBytes(max + 1);
    if (data.length > max) {
      drain(in);
      throw tooLarge(data.length, max);
    }
    return data;
  }

  private static HttpError tooLarge(long size, int max) {
    return new HttpError(
        413,
        "request body is " + size + " bytes, more than limits.httpMaxBodyBytes (" + max + ")",
        "send a smaller body, or raise limits.httpMaxBodyBytes (and limits.maxValueBytes for"
            + " values)");
  }

  private static void drain(InputStream in) throws IOException {
    long dropped = 0;
    byte[] buf = new byte[64 * 1024];
    int n;
    while (dropped < DRAIN_MAX_BYTES && (n = in.read(buf)) >= 0) {
      dropped += n;
    }
  }

  private void checkWritable() {
    // A failed node is not checked here: the engine fails the write with the storage error,
    // which is answered with 503 and the reason, without a status snapshot per write.
    if (!acceptingWrites) {
      throw new HttpError(
          503,
          "node " + node.nodeId() + " is shutting down and takes no more writes",
          "retry on another node, or on this one after it restarts");
    }
  }

  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(
          BULK_COMMIT_TIMEOUT.toMillis() + MAX_ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the write", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause() instanceof CompletionException ce ? ce.getCause() : e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new StorageException("write failed: " + c, c);
    } catch (TimeoutException e) {
      throw new HttpError(503, "the write did not commit in time", "check the node's log and disk");
    }
  }

  // ---- responses ----

  private void sendFailure(HttpExchange ex, RuntimeException e) throws IOException {
    int committed = -1;
    RuntimeException cause = e;
    if (e instanceof BulkFailure bf) {
      committed = bf.committed;
      cause = bf.cause;
    }
    int status;
    String fix;
    if (cause instanceof HttpError he) {
      status = he.status;
      fix = he.fix;
    } else if (cause instanceof LimitExceededException le) {
      boolean queue = le.limitName() != null && le.limitName().contains("Queue");
      status = queue ? 503 : 413;
      fix =
          queue
              ? "retry shortly; the node is busy"
              : "stay within " + le.limitName() + ", or raise it";
    } else if (cause instanceof AckTimeoutException) {
      status = 504;
      fix =
          "the write will still replicate; retry with a longer timeout or fewer acks to be told"
              + " sooner";
    } else if (cause instanceof StorageException || cause instanceof IllegalStateException) {
      status = 503;
      fix = "see the node's log; the node does not take writes until the problem is fixed";
    } else if (cause instanceof IllegalArgumentException) {
      status = 400;
      fix = null;
    } else {
      status = 500;
      fix = "see the node's log";
    }
    if (status >= 500 && status != 504) {
      // A 504 is an answer about peers, not a fault of this node; the client is told.
      log.warn(
          "{} {} failed with {}: {}",
          ex.getRequestMethod(),
          ex.getRequestURI(),
          status,
          cause.toString());
    }
    ObjectNode body = Json.error(String.valueOf(cause.getMessage()), fix);
    if (committed >= 0) {
      body.put("committed", committed);
    }
    if (status == 503 && cause instanceof LimitExceededException) {
      ex.getResponseHeaders().set("Retry-After", "1");
    }
    sendJson(ex, status, body);
  }

  private static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
    send(ex, status, JSON, bytes);
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** An answer other than 200, with the message and an optional fix for the JSON body. */
  static final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String fix;

    HttpError(int status, String message, String fix) {
      super(message, null, false, false);
      this.status = status;
      this.fix = fix;
    }
  }

  /** A bulk request failed after {@code committed} of its writes were committed. */
  private static final class BulkFailure extends RuntimeException {
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
