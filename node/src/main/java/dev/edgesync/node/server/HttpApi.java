package dev.edgesync.node.server;

import static dev.edgesync.node.server.HttpExchanges.PROMETHEUS;
import static dev.edgesync.node.server.HttpExchanges.allow;
import static dev.edgesync.node.server.HttpExchanges.query;
import static dev.edgesync.node.server.HttpExchanges.send;
import static dev.edgesync.node.server.HttpExchanges.sendJson;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.edgesync.engine.NodeStatus;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.replication.AckTimeoutException;
import dev.edgesync.engine.storage.LimitExceededException;
import dev.edgesync.engine.storage.PreconditionFailedException;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.node.config.NodeConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP API on the JDK's built-in {@link HttpServer}: routing, the bearer token, {@code
 * /status}, {@code /health}, {@code /metrics} and the answer to a failure; the key-value resource
 * is {@link KvResource}, the shared request and response helpers {@link HttpExchanges}. Every
 * endpoint refuses query parameters it does not know, answers {@code HEAD} where it answers
 * {@code GET} (except the scan), and tolerates a trailing slash.
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

  private PeersResource peers;
  private final AdminResource admin;
  private final SyncNode node;
  private final NodeConfig.Limits limits;
  private final PrometheusMeterRegistry registry;
  private final HttpServer server;
  private final ThreadPoolExecutor executor;
  private final HttpAccess access;
  private final Map<String, long[]> refusalLog = new java.util.concurrent.ConcurrentHashMap<>();
  private final KvResource kv;
  private final ChangesResource changes;
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
    this.kv = new KvResource(node, limits, () -> acceptingWrites);
    this.admin = new AdminResource(node);
    this.changes = new ChangesResource(node, limits.httpFeedWriteTimeout());
    io.micrometer.core.instrument.Gauge.builder(
            "edgesync.http.feed.streams", changes.events(), ChangesEventStream::openCount)
        .description("changes-feed event streams (GET /changes?feed=sse) open now")
        .register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder(
            "edgesync.http.feed.cutoffs", changes.events(), ChangesEventStream::cutOffCount)
        .description(
            "changes-feed event streams disconnected because the client took no bytes for"
                + " limits.httpFeedWriteTimeout")
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder("edgesync.build.info", () -> 1)
        .description("Always 1; the version label is the edgesync build this node runs")
        .tag("version", dev.edgesync.node.Main.version())
        .register(registry);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
  }

  /** Serves {@code /peers} with {@code resource}; before {@link #start()}. */
  void servePeers(PeersResource resource) {
    this.peers = resource;
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
    // Event streams end with a close event first; stop() then waits for them.
    changes.events().close();
    server.stop(1);
    executor.shutdownNow();
    changes.events().stopThreads();
  }

  // ---- routing ----

  private void handle(HttpExchange ex) {
    // An event stream is handed off to a thread of its own, which closes the exchange at its end.
    boolean handedOff = false;
    try {
      String rawPath = ex.getRequestURI().getRawPath();
      String method = ex.getRequestMethod();
      // A trailing slash is tolerated on the fixed endpoints; under /kv/ it belongs to the key.
      String path =
          !rawPath.startsWith("/kv/") && !rawPath.startsWith("/kv64/") && rawPath.length() > 1 && rawPath.endsWith("/")
              ? rawPath.substring(0, rawPath.length() - 1)
              : rawPath;
      try {
        // The status page holds no data (it asks /status, with the token): a browser can load it.
        if (!path.equals("/health") && !path.equals("/ui") && !path.equals("/")) {
          authorize(ex);
        }
        if (path.startsWith("/kv64/")) {
          allow(ex, method, Set.of("GET", "HEAD", "PUT", "DELETE"));
          kv.handleKey64(ex, method, path.substring("/kv64/".length()));
        } else if (path.startsWith("/kv/")) {
          allow(ex, method, Set.of("GET", "HEAD", "PUT", "DELETE"));
          kv.handleKey(ex, method, path.substring("/kv/".length()));
        } else if (path.equals("/kv")) {
          allow(ex, method, Set.of("GET", "POST", "DELETE"));
          kv.handleCollection(ex, method);
        } else if (path.equals("/changes")) {
          allow(ex, method, Set.of("GET"));
          handedOff = changes.handle(ex);
        } else if (path.equals("/status")) {
          allow(ex, method, Set.of("GET", "HEAD"));
          query(ex, Set.of());
          NodeStatus now = node.status();
          ObjectNode status = Json.status(now, address().getPort());
          status.put("keys", node.keyCount());
          status.set("gc", Json.gc(node.gcStatus(), java.time.Instant.now()));
          status.set(
              "subscribers",
              PeersResource.subscribers(
                  node, now.peers().stream().map(dev.edgesync.engine.replication.PeerStatus::id).collect(java.util.stream.Collectors.toSet())));
          sendJson(ex, 200, status);
        } else if (path.equals("/peers") || path.startsWith("/peers/")) {
          if (peers == null) {
            throw new HttpError(404, "this server does not manage peers", "use the node program");
          }
          peers.handle(ex, method, path.substring("/peers".length()));
        } else if (AdminResource.serves(path)) {
          admin.handle(ex, method, path);
        } else if (path.equals("/ui") || path.equals("/")) {
          allow(ex, method, Set.of("GET", "HEAD"));
          query(ex, Set.of());
          if (path.equals("/")) {
            ex.getResponseHeaders().set("Location", "/ui");
            send(ex, 302, "text/plain; charset=utf-8", "see /ui\n".getBytes(StandardCharsets.UTF_8));
          } else {
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.getResponseHeaders()
                .set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
            send(ex, 200, "text/html; charset=utf-8", StatusPage.html());
          }
        } else if (path.equals("/health")) {
          allow(ex, method, Set.of("GET", "HEAD"));
          query(ex, Set.of());
          health(ex);
        } else if (path.equals("/metrics")) {
          allow(ex, method, Set.of("GET", "HEAD"));
          query(ex, Set.of());
          send(ex, 200, PROMETHEUS, registry.scrape().getBytes(StandardCharsets.UTF_8));
        } else {
          throw new HttpError(
              404,
              "no such endpoint: " + path,
              "use /ui, /kv/{key}, /kv64/{base64}, /kv, /changes, /status, /health, /metrics, /peers, /admin/backup or /admin/forget/{id}");
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
    } finally {
      if (!handedOff) {
        ex.close();
      }
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

  // ---- responses ----

  private void sendFailure(HttpExchange ex, RuntimeException e) throws IOException {
    int committed = -1;
    RuntimeException cause = e;
    if (e instanceof BulkWrites.BulkFailure bf) {
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
    } else if (cause instanceof PreconditionFailedException pf) {
      status = 412;
      fix =
          ex.getRequestHeaders().containsKey("If-None-Match")
              ? "the key exists here: read it (GET gives its version as ETag) and write with If-Match, or choose another key"
              : "read the key again (GET gives its current version as ETag) and retry with that version";
      if (pf.current() != null && !pf.currentIsTombstone()) {
        ex.getResponseHeaders().set("ETag", "\"" + Json.version(pf.current()) + "\"");
      }
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
    if (cause instanceof PreconditionFailedException pf) {
      body.put("currentVersion", pf.current() == null ? null : Json.version(pf.current()));
      body.put("currentDeleted", pf.currentIsTombstone());
    }
    if (committed >= 0) {
      body.put("committed", committed);
    }
    if (status == 503 && cause instanceof LimitExceededException) {
      ex.getResponseHeaders().set("Retry-After", "1");
    }
    sendJson(ex, status, body);
  }
}
