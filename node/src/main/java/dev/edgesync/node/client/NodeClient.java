package dev.edgesync.node.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * A small client of a running node's HTTP API, used by the CLI commands and the demo.
 *
 * <p>Every failure is a {@link NodeClientException} whose message says what went wrong and, for an
 * unreachable node, how to point the client at the right one. Thread safety: instances may be
 * shared between threads.
 */
public final class NodeClient {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final URI base;
  private final HttpClient http;
  private final Duration timeout;
  private final String bearerToken;

  /**
   * Creates a client.
   *
   * @param base the node's HTTP address, e.g. {@code http://127.0.0.1:7480}
   * @param timeout how long one request may take
   */
  public NodeClient(URI base, Duration timeout) {
    this(base, timeout, null, null);
  }

  /**
   * Creates a client of a node whose API needs a bearer token and/or is served over HTTPS.
   *
   * @param bearerToken sent as {@code Authorization: Bearer <token>}, or null
   * @param ssl the TLS context for an {@code https://} address (its trust decides which
   *     certificates are accepted), or null for the JDK's default trust
   */
  public NodeClient(URI base, Duration timeout, String bearerToken, javax.net.ssl.SSLContext ssl) {
    String s = Objects.requireNonNull(base, "base").toString();
    this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    this.timeout = timeout;
    this.bearerToken = bearerToken;
    HttpClient.Builder b =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1);
    if (ssl != null) {
      b.sslContext(ssl);
    }
    this.http = b.build();
  }

  /** The node's address. */
  public URI base() {
    return base;
  }

  /** A response: status code, body and the version header when there is one. */
  public record Response(int status, byte[] body, String version, String seq) {
    /** The body as UTF-8. */
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** The body parsed as JSON. */
    public JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        throw new NodeClientException(
            "the node answered " + status + " with a body that is not JSON: " + text(), e);
      }
    }

    /** The {@code error} of a JSON error body, with its {@code fix} when present. */
    public String errorMessage() {
      try {
        JsonNode j = MAPPER.readTree(body);
        String error = j.path("error").asText(text());
        String fix = j.path("fix").asText(null);
        return fix == null ? error : error + " (fix: " + fix + ")";
      } catch (IOException e) {
        return text();
      }
    }
  }

  /** {@code PUT /kv/{key}}, with optional acks and timeout. */
  public Response put(String key, byte[] value, Integer acks, String ackTimeout) {
    return put(key, value, acks, ackTimeout, null);
  }

  /** {@code PUT /kv/{key}?ttl=}: as {@link #put(String, byte[], Integer, String)}, the value expiring after {@code ttl} (null: never). */
  public Response put(String key, byte[] value, Integer acks, String ackTimeout, String ttl) {
    java.util.List<String> params = new java.util.ArrayList<>();
    if (acks != null) {
      params.add("acks=" + acks);
      if (ackTimeout != null) {
        params.add("timeout=" + enc(ackTimeout));
      }
    }
    if (ttl != null) {
      params.add("ttl=" + enc(ttl));
    }
    String q = params.isEmpty() ? "" : "?" + String.join("&", params);
    return send(
        HttpRequest.newBuilder(uri("/kv/" + encodePath(key) + q))
            .PUT(HttpRequest.BodyPublishers.ofByteArray(value)));
  }

  /** {@code GET /kv/{key}}. */
  public Response get(String key) {
    return send(HttpRequest.newBuilder(uri("/kv/" + encodePath(key))).GET());
  }

  /** {@code DELETE /kv/{key}}. */
  public Response delete(String key) {
    return send(HttpRequest.newBuilder(uri("/kv/" + encodePath(key))).DELETE());
  }

  /** {@code DELETE /kv?prefix=}: deletes every live key under the prefix on the node. */
  public Response deletePrefix(String prefix) {
    return send(HttpRequest.newBuilder(uri("/kv?prefix=" + enc(prefix))).DELETE());
  }

  /**
   * {@code GET /kv?prefix=&limit=&afterBase64=}: {@code afterBase64} is the {@code nextBase64} of
   * the previous page (it round-trips any key), or null for the first page.
   */
  public Response scan(String prefix, int limit, String afterBase64) {
    String q =
        "?prefix="
            + enc(prefix)
            + "&limit="
            + limit
            + (afterBase64 == null ? "" : "&afterBase64=" + enc(afterBase64));
    return send(HttpRequest.newBuilder(uri("/kv" + q)).GET());
  }

  /** {@code POST /kv} with a bulk JSON body. */
  public Response bulk(byte[] json) {
    return send(
        HttpRequest.newBuilder(uri("/kv"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(json)));
  }

  /**
   * {@code POST /admin/backup}: the node's backup, streamed into {@code out}; {@code progress}
   * hears the bytes copied so far every 16 MiB. Returns the status; on another status than 200
   * {@code out} holds the error body.
   */
  public int backup(java.io.OutputStream out, java.util.function.LongConsumer progress) {
    HttpResponse<java.io.InputStream> r =
        exchange(HttpRequest.newBuilder(uri("/admin/backup")).POST(HttpRequest.BodyPublishers.noBody()), HttpResponse.BodyHandlers.ofInputStream());
    byte[] buffer = new byte[64 * 1024];
    long copied = 0;
    long reported = 0;
    try (java.io.InputStream in = r.body()) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        out.write(buffer, 0, n);
        copied += n;
        if (copied - reported >= 16 << 20) {
          reported = copied;
          progress.accept(copied);
        }
      }
    } catch (IOException e) {
      throw new NodeClientException("the backup from " + base + " broke off after " + copied + " bytes: " + e, e);
    }
    return r.statusCode();
  }

  /** {@code GET /peers}: peers with their source and link, and the inbound subscribers. */
  public Response peers() {
    return send(HttpRequest.newBuilder(uri("/peers")).GET());
  }

  /** {@code PUT /peers/{id}}: adds the peer or changes its address, kept across restarts. */
  public Response putPeer(String id, String address) {
    byte[] body;
    try {
      body = MAPPER.writeValueAsBytes(MAPPER.createObjectNode().put("address", address));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return send(
        HttpRequest.newBuilder(uri("/peers/" + encodePath(id)))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  /** {@code DELETE /peers/{id}}: removes the peer, kept across restarts. */
  public Response removePeer(String id) {
    return send(HttpRequest.newBuilder(uri("/peers/" + encodePath(id))).DELETE());
  }

  /** {@code POST /peers/{id}/reset}: drops the run-time change of the peer. */
  public Response resetPeer(String id) {
    return send(HttpRequest.newBuilder(uri("/peers/" + encodePath(id) + "/reset")).POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** {@code POST /admin/forget/{id}}: decommissions node {@code id}. */
  public Response forget(String id) {
    return send(HttpRequest.newBuilder(uri("/admin/forget/" + encodePath(id))).POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** {@code GET <path>}, e.g. {@code /status}. */
  public Response getPath(String path) {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  /** {@code GET /status} as JSON; fails unless the node answers 200. */
  public JsonNode status() {
    Response r = getPath("/status");
    if (r.status() != 200) {
      throw new NodeClientException(
          "GET " + base + "/status answered " + r.status() + ": " + r.errorMessage());
    }
    return r.json();
  }

  /**
   * {@code GET /changes?feed=sse}: opens the node's changes feed as an event stream, from {@code
   * since} or, when {@code lastEventId} is given, after that event. The caller reads events from
   * the returned reader and closes it.
   *
   * @throws NodeClientException if the node cannot be reached or does not answer 200 (the
   *     message has the node's error and fix)
   */
  public EventStreamReader openChanges(String prefix, long since, String lastEventId) {
    return openChanges(prefix, since, lastEventId, null);
  }

  /**
   * {@link #openChanges(String, long, String)} for a client that saw the node's log id {@code
   * logId} before: when the node's log is another one (its data dir was replaced), the stream
   * starts with a {@code reset} event and from seq 0.
   */
  public EventStreamReader openChanges(String prefix, long since, String lastEventId, String logId) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                uri("/changes?feed=sse&since=" + since
                    + (prefix == null || prefix.isEmpty() ? "" : "&prefix=" + enc(prefix))
                    + (logId == null ? "" : "&logId=" + enc(logId))))
            .header("Accept", "text/event-stream")
            .GET();
    if (lastEventId != null) {
      b.header("Last-Event-ID", lastEventId);
    }
    HttpResponse<InputStream> r = exchange(b, HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() != 200) {
      byte[] body;
      try (InputStream in = r.body()) {
        body = in.readNBytes(64 * 1024);
      } catch (IOException e) {
        body = new byte[0];
      }
      throw new NodeClientException(
          "GET "
              + base
              + "/changes?feed=sse answered "
              + r.statusCode()
              + ": "
              + new Response(r.statusCode(), body, null, null).errorMessage());
    }
    return new EventStreamReader(r.body());
  }

  private Response send(HttpRequest.Builder b) {
    HttpResponse<byte[]> r = exchange(b, HttpResponse.BodyHandlers.ofByteArray());
    return new Response(
        r.statusCode(),
        r.body(),
        r.headers().firstValue("X-Edgesync-Version").orElse(null),
        r.headers().firstValue("X-Edgesync-Seq").orElse(null));
  }

  /** Sends a request; every failure becomes a {@link NodeClientException} that says why. */
  private <T> HttpResponse<T> exchange(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler) {
    if (bearerToken != null) {
      b.header("Authorization", "Bearer " + bearerToken);
    }
    HttpRequest request = b.timeout(timeout).build();
    try {
      return http.send(request, handler);
    } catch (ConnectException e) {
      throw new NodeClientException(
          "cannot reach a node at "
              + base
              + " (connection refused): start one"
              + " with 'edgesync run', or point to it with --node or EDGESYNC_NODE",
          e);
    } catch (HttpTimeoutException e) {
      throw new NodeClientException(
          "the node at "
              + base
              + " did not answer "
              + request.method()
              + " "
              + request.uri().getRawPath()
              + " within "
              + timeout.toMillis()
              + " ms",
          e);
    } catch (IOException e) {
      throw new NodeClientException("request to " + base + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NodeClientException("interrupted while waiting for " + base, e);
    }
  }

  private URI uri(String pathAndQuery) {
    return URI.create(base + pathAndQuery);
  }

  /** Percent-encodes a key for a URL path: UTF-8, every byte outside unreserved characters. */
  public static String encodePath(String key) {
    return enc(key).replace("+", "%20");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** A request failed or the node could not be reached; the message says which and why. */
  public static final class NodeClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NodeClientException(String message) {
      super(message);
    }

    public NodeClientException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
