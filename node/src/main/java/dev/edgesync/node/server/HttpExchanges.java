package dev.edgesync.node.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.node.config.Durations;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What every handler of the HTTP API does with an exchange: read its query (strictly: unknown
 * parameters are refused) and its bounded body, wait for a write, send JSON or bytes (and nothing
 * but the headers for {@code HEAD}).
 */
final class HttpExchanges {
  private HttpExchanges() {}

  static final String JSON = "application/json; charset=utf-8";
  static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  /** A refused body is read and dropped up to this much, so the client sees the status code. */
  static final long DRAIN_MAX_BYTES = 64L * 1024 * 1024;

  /**
   * The query parameters of {@code ex}, each percent-decoded strictly as UTF-8. A parameter not in
   * {@code known} is refused with 400 naming the known ones: a misspelt {@code ?ack=1} must not
   * silently wait for nobody.
   */
  static Map<String, String> query(HttpExchange ex, Set<String> known) {
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
    for (String name : q.keySet()) {
      if (!known.contains(name)) {
        throw new HttpError(
            400,
            "unknown query parameter '" + name + "' on " + ex.getRequestMethod() + " " + ex.getRequestURI().getRawPath(),
            known.isEmpty() ? "this endpoint takes no query parameters" : "known parameters: " + String.join(", ", new TreeSet<>(known)));
      }
    }
    return q;
  }

  /** Query parameter {@code name} as a whole number in {@code [min, max]}, or {@code dflt}; else 400. */
  static long number(Map<String, String> q, String name, long dflt, long min, long max) {
    if (!q.containsKey(name)) {
      return dflt;
    }
    long v;
    try {
      v = Long.parseLong(q.get(name));
    } catch (NumberFormatException e) {
      v = min - 1;
    }
    if (v < min || v > max) {
      throw new HttpError(400, name + " '" + q.get(name) + "' is not valid", "a whole number from " + min + " to " + max);
    }
    return v;
  }

  /**
   * Query parameter {@code name} as a duration ({@code 500ms}, {@code 30s}, {@code 5m}) in {@code
   * [min, max]}, or {@code dflt}; else 400.
   */
  static Duration duration(Map<String, String> q, String name, Duration dflt, Duration min, Duration max) {
    if (!q.containsKey(name)) {
      return dflt;
    }
    Duration d = Durations.parseOrNull(q.get(name));
    if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw new HttpError(
          400,
          name + " '" + q.get(name) + "' is not valid",
          "a duration from " + Durations.format(min) + " to " + Durations.format(max) + ", e.g. " + Durations.format(dflt));
    }
    return d;
  }

  static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
    send(ex, status, JSON, bytes);
  }

  static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    if (ex.getRequestMethod().equals("HEAD")) {
      // The headers a GET would get, without the body.
      ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
      ex.sendResponseHeaders(status, -1);
      return;
    }
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** Puts a UTF-8 text field, or null and a {@code <name>Base64} field when it is not UTF-8. */
  static void putText(ObjectNode o, String name, byte[] bytes) {
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


  static byte[] body(HttpExchange ex, int max) throws IOException {
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

  static HttpError tooLarge(long size, int max) {
    return new HttpError(
        413,
        "request body is " + size + " bytes, more than limits.httpMaxBodyBytes (" + max + ")",
        "send a smaller body, or raise limits.httpMaxBodyBytes (and limits.maxValueBytes for"
            + " values)");
  }

  static void drain(InputStream in) throws IOException {
    long dropped = 0;
    byte[] buf = new byte[64 * 1024];
    int n;
    while (dropped < DRAIN_MAX_BYTES && (n = in.read(buf)) >= 0) {
      dropped += n;
    }
  }

  static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(
          HttpApi.BULK_COMMIT_TIMEOUT.toMillis() + HttpApi.MAX_ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
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

  /** Refuses {@code method} with 405 (and the allowed ones, which become the {@code Allow} header) unless allowed. */
  static void allow(HttpExchange ex, String method, Set<String> allowed) {
    if (!allowed.contains(method)) {
      throw new HttpError(
          405,
          "method " + method + " is not allowed on " + ex.getRequestURI().getRawPath(),
          "allowed: " + String.join(", ", allowed.stream().sorted().toList()));
    }
  }
}
