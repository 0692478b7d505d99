package dev.edgesync.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The node program's HTTP API, as a test sees it. Every call fails the test on an unexpected status. */
final class NodeClient {
  static final ObjectMapper JSON = new ObjectMapper();

  // One client for the whole run: it is thread-safe and pools connections per address.
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final URI base;
  private final String bearerToken;

  NodeClient(String name, String hostPort) {
    this(name, hostPort, null);
  }

  /** A client that sends {@code Authorization: Bearer <bearerToken>} (null: none). */
  NodeClient(String name, String hostPort, String bearerToken) {
    this.name = name;
    this.base = URI.create("http://" + hostPort);
    this.bearerToken = bearerToken;
  }

  /** A response: status code and body. */
  record Response(int status, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (HTTP " + status + "): " + body, e);
      }
    }
  }

  static String encode(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  Response send(String method, String pathAndQuery, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(pathAndQuery)).timeout(Duration.ofSeconds(60));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (bearerToken != null) {
      b.header("Authorization", "Bearer " + bearerToken);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(name + ": " + method + " " + pathAndQuery + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private Response expect(int status, Response r, String what) {
    if (r.status() != status) {
      throw new AssertionError(name + ": " + what + " answered HTTP " + r.status() + " (expected " + status + "): " + r.body());
    }
    return r;
  }

  /** PUT, returning the write's JSON ({@code key, seq, hlc, origin, version}). */
  Write put(String key, String value) {
    JsonNode j = expect(200, send("PUT", "/kv/" + encode(key), value), "PUT " + key).json();
    return Write.of(key, value, j);
  }

  /** PUT with {@code ?acks=n&timeout=...}; the caller checks the status. */
  Response putAcked(String key, String value, int acks, String timeout) {
    return send("PUT", "/kv/" + encode(key) + "?acks=" + acks + "&timeout=" + timeout, value);
  }

  Write delete(String key) {
    Response r = send("DELETE", "/kv/" + encode(key), null);
    expect(200, r, "DELETE " + key);
    return Write.of(key, null, r.json());
  }

  /** The live value, or empty on 404. */
  Optional<String> get(String key) {
    Response r = send("GET", "/kv/" + encode(key), null);
    if (r.status() == 404) {
      return Optional.empty();
    }
    return Optional.of(expect(200, r, "GET " + key).body());
  }

  /** Bulk write: {@code value == null} deletes. At most 10,000 entries per request. */
  void bulk(Map<String, String> entries) {
    bulk(entries, null);
  }

  /** Bulk write whose puts expire after {@code ttl} (e.g. "3s"; null: never). */
  void bulk(Map<String, String> entries, String ttl) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("entries");
    entries.forEach(
        (k, v) -> {
          ObjectNode e = list.addObject().put("key", k);
          if (v == null) {
            e.put("delete", true);
          } else {
            e.put("value", v);
            if (ttl != null) {
              e.put("ttl", ttl);
            }
          }
        });
    expect(200, send("POST", "/kv", root.toString()), "POST /kv (" + entries.size() + " entries)");
  }

  /**
   * Every live key with its listing item minus the node-local {@code seq}, read page by page.
   * Two nodes hold the same state when these maps are equal.
   */
  Map<String, JsonNode> scanAll() {
    return scanAll("", 1000);
  }

  /** {@link #scanAll()} under {@code prefix} with pages of {@code limit} (small pages test the cursor). */
  Map<String, JsonNode> scanAll(String prefix, int limit) {
    Map<String, JsonNode> all = new LinkedHashMap<>();
    String after = null;
    while (true) {
      String q = "/kv?prefix=" + encode(prefix) + "&limit=" + limit + (after == null ? "" : "&afterBase64=" + encode(after));
      JsonNode page = expect(200, send("GET", q, null), "GET " + q).json();
      for (JsonNode item : page.path("items")) {
        ObjectNode copy = ((ObjectNode) item).deepCopy();
        copy.remove("seq");
        String key = item.path("key").isNull() ? "base64:" + item.path("keyBase64").asText() : item.path("key").asText();
        if (all.put(key, copy) != null) {
          throw new AssertionError(name + ": key " + key + " listed twice while paging (after=" + after + ")");
        }
      }
      // nextBase64 pages past any key, also one that is not UTF-8 (whose next is null).
      JsonNode next = page.path("nextBase64");
      if (next.isMissingNode() || next.isNull() || next.asText().isEmpty()) {
        return all;
      }
      if (next.asText().equals(after)) {
        throw new AssertionError(name + ": paging does not advance past " + after);
      }
      after = next.asText();
    }
  }

  JsonNode statusJson() {
    return expect(200, send("GET", "/status", null), "GET /status").json();
  }

  Status status() {
    return Status.of(statusJson());
  }

  int health() {
    return send("GET", "/health", null).status();
  }

  String metrics() {
    return expect(200, send("GET", "/metrics", null), "GET /metrics").body();
  }

  @Override
  public String toString() {
    return name + " " + base;
  }
}
