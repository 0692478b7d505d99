package dev.edgesync.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgesync.node.client.NodeClient;
import dev.edgesync.node.config.ConfigLoader;
import dev.edgesync.node.config.ConfigOverrides;
import dev.edgesync.node.config.NodeConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Round trips through the HTTP API of one in-process node on ephemeral loopback ports. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiTest {
  private NodeServer server;
  private String base;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start(@TempDir Path dir) throws IOException {
    Path config = dir.resolve("node.yaml");
    Files.writeString(
        config,
        """
        id: site-a
        cluster: test
        listen: 127.0.0.1:0
        http: 127.0.0.1:0
        durability: buffered
        limits:
          maxKeyBytes: 64
          maxValueBytes: 4KiB
          httpMaxBodyBytes: 512KiB
        """);
    NodeConfig c =
        ConfigLoader.load(
            new ConfigOverrides(
                config.toString(),
                null,
                null,
                null,
                null,
                dir.resolve("data").toString(),
                null,
                null,
                null),
            Map.of());
    server = NodeServer.start(c);
    base = "http://127.0.0.1:" + server.httpAddress().getPort();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private HttpResponse<byte[]> send(String method, String path, byte[] body) throws Exception {
    HttpRequest.BodyPublisher p =
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body);
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path)).method(method, p).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private HttpResponse<byte[]> send(String method, String path) throws Exception {
    return send(method, path, null);
  }

  /** Sends a request line the JDK's URI class would refuse to build. */
  private String rawStatusLine(String requestLine) throws IOException {
    try (java.net.Socket s = new java.net.Socket(server.httpAddress().getAddress(), server.httpAddress().getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              (requestLine + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .findFirst()
          .orElse("");
    }
  }

  private static JsonNode json(HttpResponse<byte[]> r) throws IOException {
    return Json.MAPPER.readTree(r.body());
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void theJdkServerRunsWithNagleOff() {
    // Read by the JDK server once, when its first instance is made; on by default it delays
    // every small answer by the client's delayed ACK.
    assertEquals("true", System.getProperty(HttpApi.NODELAY_PROPERTY));
  }

  @Test
  void aPutWithATimeToLiveTellsItsExpiryEverywhereAndBadOnesAreRefused() throws Exception {
    HttpResponse<byte[]> put = send("PUT", "/kv/ttl/k1?ttl=1h", "v".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, put.statusCode(), text(put));
    java.time.Instant expires = java.time.Instant.parse(json(put).get("expiresAt").asText());
    java.time.Duration left = java.time.Duration.between(java.time.Instant.now(), expires);
    assertTrue(left.compareTo(java.time.Duration.ofMinutes(59)) > 0 && left.compareTo(java.time.Duration.ofMinutes(61)) < 0, left.toString());

    HttpResponse<byte[]> get = send("GET", "/kv/ttl/k1");
    assertEquals(expires.toString(), get.headers().firstValue("X-Edgesync-Expires").orElseThrow());
    JsonNode scan = json(send("GET", "/kv?prefix=ttl/"));
    assertEquals(expires.toString(), scan.get("items").get(0).get("expiresAt").asText());
    JsonNode feed = json(send("GET", "/changes?since=0&limit=1000"));
    boolean told = false;
    for (JsonNode c : feed.get("results")) {
      told |= c.get("key").asText().equals("ttl/k1") && c.path("expiresAt").asText().equals(expires.toString());
    }
    assertTrue(told, feed.toString());

    HttpResponse<byte[]> zero = send("PUT", "/kv/ttl/k2?ttl=0s", "v".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, zero.statusCode());
    assertTrue(text(zero).contains("ttl '0s' is not valid"), text(zero));
    HttpResponse<byte[]> onDelete = send("DELETE", "/kv/ttl/k1?ttl=5s");
    assertEquals(400, onDelete.statusCode(), text(onDelete));
    HttpResponse<byte[]> bulk =
        send("POST", "/kv", "{\"entries\":[{\"key\":\"ttl/b\",\"value\":\"v\",\"ttl\":\"2m\"}]}".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, bulk.statusCode(), text(bulk));
    assertTrue(send("GET", "/kv/ttl/b").headers().firstValue("X-Edgesync-Expires").isPresent());
  }

  @Test
  void putGetDeleteRoundTrip() throws Exception {
    HttpResponse<byte[]> put = send("PUT", "/kv/rt/k1", "v1".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, put.statusCode(), text(put));
    JsonNode j = json(put);
    assertEquals("rt/k1", j.get("key").asText());
    assertTrue(j.get("seq").asLong() > 0);
    assertEquals("site-a", j.get("origin").asText());
    assertEquals(j.get("hlc").asLong() + "@site-a", j.get("version").asText());

    HttpResponse<byte[]> get = send("GET", "/kv/rt/k1");
    assertEquals(200, get.statusCode());
    assertEquals("v1", text(get));
    assertEquals(
        j.get("version").asText(), get.headers().firstValue("X-Edgesync-Version").orElseThrow());
    assertEquals(j.get("seq").asText(), get.headers().firstValue("X-Edgesync-Seq").orElseThrow());

    HttpResponse<byte[]> del = send("DELETE", "/kv/rt/k1");
    assertEquals(200, del.statusCode(), text(del));
    assertTrue(json(del).get("deleted").asBoolean());
    assertTrue(json(del).get("seq").asLong() > j.get("seq").asLong());

    HttpResponse<byte[]> gone = send("GET", "/kv/rt/k1");
    assertEquals(404, gone.statusCode());
    assertTrue(json(gone).get("error").asText().contains("not found"));
    assertEquals(404, send("GET", "/kv/rt/never-written").statusCode());
  }

  @Test
  void urlEncodedKeysWithSlashesSpacesPlusAndUnicode() throws Exception {
    String[] keys = {"dir/sub/key", "with space", "a+b", "ünïcødé/日本", "50%", "q?x=1&y"};
    for (String key : keys) {
      String path = "/kv/" + NodeClient.encodePath(key);
      HttpResponse<byte[]> put =
          send("PUT", path, ("value of " + key).getBytes(StandardCharsets.UTF_8));
      assertEquals(200, put.statusCode(), key + ": " + text(put));
      assertEquals(key, json(put).get("key").asText());
      HttpResponse<byte[]> get = send("GET", path);
      assertEquals("value of " + key, text(get), key);
    }
    // A literal '/' in the path is part of the key, same as %2F.
    assertEquals("value of dir/sub/key", text(send("GET", "/kv/dir/sub/key")));
    // A literal '+' in a path is a plus, not a space.
    assertEquals("value of a+b", text(send("GET", "/kv/a+b")));
  }

  @Test
  void emptyOrBadlyEncodedKeyIs400() throws Exception {
    HttpResponse<byte[]> r = send("PUT", "/kv/", "x".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, r.statusCode());
    assertTrue(json(r).get("error").asText().contains("empty"));
    assertTrue(rawStatusLine("GET /kv/%zz").contains(" 400 "), "a bad escape is a client error");
  }

  /**
   * Regression (issue 16): keys were percent-decoded with U+FFFD replacement, so {@code x%FFy} and
   * {@code x%FEy} both stored {@code x\uFFFDy} and the second PUT silently replaced the first.
   */
  @Test
  void keysThatAreNotValidUtf8AreRefusedNotMerged() throws Exception {
    for (String bad : List.of("/kv/x%FFy", "/kv/x%FEy", "/kv/x%C3", "/kv/%C3%28", "/kv/%ED%A0%80")) {
      HttpResponse<byte[]> r = send("PUT", bad, "v".getBytes(StandardCharsets.UTF_8));
      assertEquals(400, r.statusCode(), bad + ": " + text(r));
      assertTrue(json(r).get("error").asText().contains("not valid UTF-8"), text(r));
      assertTrue(json(r).get("fix").asText().contains("percent-encode"), text(r));
    }
    assertEquals(404, send("GET", "/kv/x%EF%BF%BDy").statusCode(), "nothing was stored under the replacement character");
    // The replacement character itself, correctly encoded, is an ordinary key.
    assertEquals(200, send("PUT", "/kv/x%EF%BF%BDy", "r".getBytes(StandardCharsets.UTF_8)).statusCode());
    assertEquals("r", text(send("GET", "/kv/x%EF%BF%BDy")));
    // A bad escape in a query value is refused the same way, not turned into another prefix.
    HttpResponse<byte[]> scan = send("GET", "/kv?prefix=%FF");
    assertEquals(400, scan.statusCode(), text(scan));
    assertTrue(json(scan).get("error").asText().contains("prefix"), text(scan));
  }

  private HttpResponse<byte[]> sendWith(String method, String path, String header, String value, String body) throws Exception {
    HttpRequest.BodyPublisher p = body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path)).header(header, value).method(method, p).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void conditionalWritesWithETagIfMatchAndIfNoneMatch() throws Exception {
    assertEquals(200, sendWith("PUT", "/kv/cas", "If-None-Match", "*", "1").statusCode(), "create-only on an absent key");
    HttpResponse<byte[]> again = sendWith("PUT", "/kv/cas", "If-None-Match", "*", "2");
    assertEquals(412, again.statusCode(), text(again));
    String etag = send("GET", "/kv/cas").headers().firstValue("ETag").orElseThrow();
    assertEquals(etag, again.headers().firstValue("ETag").orElseThrow(), "a 412 carries the current version");
    assertEquals(etag.replace("\"", ""), json(again).get("currentVersion").asText());

    HttpResponse<byte[]> ok = sendWith("PUT", "/kv/cas", "If-Match", etag, "3");
    assertEquals(200, ok.statusCode(), text(ok));
    HttpResponse<byte[]> stale = sendWith("PUT", "/kv/cas", "If-Match", etag, "4");
    assertEquals(412, stale.statusCode(), "the old ETag no longer matches: " + text(stale));
    assertEquals("3", text(send("GET", "/kv/cas")), "the refused writes changed nothing");

    String current = send("GET", "/kv/cas").headers().firstValue("ETag").orElseThrow();
    assertEquals(412, sendWith("DELETE", "/kv/cas", "If-Match", etag, null).statusCode());
    assertEquals(200, sendWith("DELETE", "/kv/cas", "If-Match", current, null).statusCode());
    assertEquals(404, send("GET", "/kv/cas").statusCode());
    HttpResponse<byte[]> bad = sendWith("PUT", "/kv/cas", "If-Match", "not-a-version", "5");
    assertEquals(400, bad.statusCode());
    assertTrue(json(bad).get("fix").asText().contains("ETag"), text(bad));
    sendWith("PUT", "/kv/cas2", "If-None-Match", "*", "a");
    String tag = send("GET", "/kv/cas2").headers().firstValue("ETag").orElseThrow();
    assertEquals(400, sendWith("PUT", "/kv/cas2", "If-Match", tag + ", \"1@x\"", "b").statusCode(), "a list is refused, not misread");
    assertEquals(400, sendWith("DELETE", "/kv/never", "If-None-Match", "*", null).statusCode(), "delete-if-absent makes no sense");
    assertEquals(404, send("GET", "/kv/never").statusCode());
    HttpResponse<byte[]> bulk = sendWith("POST", "/kv", "If-Match", tag, "{\"entries\":[{\"key\":\"cas2\",\"value\":\"c\"}]}");
    assertEquals(400, bulk.statusCode(), "a conditional bulk is refused, not made unconditional: " + text(bulk));
    assertEquals("a", text(send("GET", "/kv/cas2")));
  }

  @Test
  void deleteByPrefixDeletesEveryLiveKeyUnderItInPagesAndSaysHowMany() throws Exception {
    int n = KvResource.DELETE_PREFIX_PAGE * 2 + 7; // more than two pages
    StringBuilder bulk = new StringBuilder("{\"entries\":[");
    for (int i = 0; i < n; i++) {
      bulk.append(i == 0 ? "" : ",").append("{\"key\":\"sess/").append(i).append("\",\"value\":\"x\"}");
    }
    bulk.append(",{\"key\":\"sessx\",\"value\":\"kept\"}]}");
    assertEquals(200, send("POST", "/kv", bulk.toString().getBytes(StandardCharsets.UTF_8)).statusCode());
    send("DELETE", "/kv/sess/3");
    HttpResponse<byte[]> r = send("DELETE", "/kv?prefix=sess/");
    assertEquals(200, r.statusCode(), text(r));
    assertEquals(n - 1, json(r).get("deleted").asInt(), "live keys only: sess/3 was already deleted");
    assertEquals(0, json(send("GET", "/kv?prefix=sess/")).get("items").size());
    assertEquals("kept", text(send("GET", "/kv/sessx")), "a key outside the prefix stays");
    HttpResponse<byte[]> empty = send("DELETE", "/kv?prefix=");
    assertEquals(400, empty.statusCode(), "an empty prefix would delete everything: " + text(empty));
    HttpResponse<byte[]> absent = send("DELETE", "/kv/never-written");
    assertEquals(200, absent.statusCode());
    assertFalse(json(absent).get("existed").asBoolean(), text(absent));
    assertTrue(json(send("DELETE", "/kv/sessx")).get("existed").asBoolean());
  }

  @Test
  void bulkTakesValueBase64SoAScanOfBinaryValuesCanBeWrittenBack() throws Exception {
    byte[] binary = {0, (byte) 0xFF, 'x'};
    assertEquals(200, send("PUT", "/kv/bin/1", binary).statusCode());
    JsonNode item = json(send("GET", "/kv?prefix=bin/")).get("items").get(0);
    String b64 = item.get("valueBase64").asText();
    String body = "{\"entries\":[{\"key\":\"bin/2\",\"valueBase64\":\"" + b64 + "\"}]}";
    assertEquals(200, send("POST", "/kv", body.getBytes(StandardCharsets.UTF_8)).statusCode());
    assertArrayEquals(binary, send("GET", "/kv/bin/2").body());
    HttpResponse<byte[]> both = send("POST", "/kv", "{\"entries\":[{\"key\":\"k\",\"value\":\"v\",\"delete\":true}]}".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, both.statusCode());
    assertTrue(json(both).get("error").asText().startsWith("entries[0] has more than one of value, valueBase64 and delete: not both"), text(both));
    HttpResponse<byte[]> bad = send("POST", "/kv", "{\"entries\":[{\"key\":\"k\"},{\"key\":\"k\",\"valueBase64\":\"%%\"}]}".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, bad.statusCode());
    assertTrue(json(bad).get("error").asText().startsWith("entries[0] needs"), text(bad));
  }

  @Test
  void changesFeedGivesEachKeysNewestVersionInCommitOrderAndResumesFromNext() throws Exception {
    long start = json(send("GET", "/status")).get("headSeq").asLong();
    send("PUT", "/kv/feed/c/a", "1".getBytes(StandardCharsets.UTF_8));
    send("PUT", "/kv/feed/other", "x".getBytes(StandardCharsets.UTF_8));
    send("PUT", "/kv/feed/c/b", "2".getBytes(StandardCharsets.UTF_8));
    send("PUT", "/kv/feed/c/a", "3".getBytes(StandardCharsets.UTF_8)); // replaces its first seq
    send("DELETE", "/kv/feed/c/b");
    JsonNode all = json(send("GET", "/changes?since=" + start));
    List<String> seen = new ArrayList<>();
    long lastSeq = start;
    for (JsonNode r : all.get("results")) {
      assertTrue(r.get("seq").asLong() > lastSeq, "commit order: " + all);
      lastSeq = r.get("seq").asLong();
      seen.add(r.get("key").asText() + "=" + (r.has("deleted") ? "deleted" : r.get("value").asText()));
    }
    assertEquals(List.of("feed/other=x", "feed/c/a=3", "feed/c/b=deleted"), seen, "each key once, at its newest version");
    assertEquals(start + 5, all.get("next").asLong());
    assertEquals(all.get("logId").asText(), json(send("GET", "/status")).get("logId").asText());

    // Paging one entry at a time under a prefix, from the start of the log, visits the same keys
    // and never goes back.
    List<String> paged = new ArrayList<>();
    long since = 0;
    for (int i = 0; i < 10; i++) {
      JsonNode page = json(send("GET", "/changes?prefix=feed/c/&limit=1&since=" + since));
      for (JsonNode r : page.get("results")) {
        paged.add(r.get("key").asText());
      }
      assertTrue(page.get("next").asLong() >= since);
      if (page.get("next").asLong() == since) {
        break;
      }
      since = page.get("next").asLong();
    }
    assertEquals(List.of("feed/c/a", "feed/c/b"), paged);
    assertEquals(0, json(send("GET", "/changes?since=" + (start + 5))).get("results").size());
    assertEquals(400, send("GET", "/changes?since=-1").statusCode());
    assertEquals(400, send("GET", "/changes?feed=continuous").statusCode());
  }

  @Test
  void aLongPollAnswersWhenAChangeUnderItsPrefixCommits() throws Exception {
    send("PUT", "/kv/lp/0", "0".getBytes(StandardCharsets.UTF_8));
    long since = json(send("GET", "/status")).get("headSeq").asLong();
    java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> poll =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(base + "/changes?feed=longpoll&timeout=60s&prefix=lp/&since=" + since)).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
    send("PUT", "/kv/elsewhere", "e".getBytes(StandardCharsets.UTF_8)); // not under the prefix
    send("PUT", "/kv/lp/1", "1".getBytes(StandardCharsets.UTF_8));
    HttpResponse<byte[]> r = poll.get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), text(r));
    JsonNode results = json(r).get("results");
    assertEquals(1, results.size(), text(r));
    assertEquals("lp/1", results.get(0).get("key").asText());
    JsonNode empty = json(send("GET", "/changes?feed=longpoll&timeout=200ms&since=" + json(r).get("next").asLong()));
    assertEquals(0, empty.get("results").size(), "a long poll with nothing new ends empty at its timeout");
  }

  @Test
  void anUnknownQueryParameterIs400NamingTheKnownOnes() throws Exception {
    // ?ack=1 (not acks) used to be ignored: the write waited for nobody and answered 200.
    HttpResponse<byte[]> r = send("PUT", "/kv/typo?ack=1", "v".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, r.statusCode(), text(r));
    assertTrue(json(r).get("error").asText().contains("unknown query parameter 'ack'"), text(r));
    assertEquals("known parameters: acks, timeout, ttl", json(r).get("fix").asText());
    assertEquals(404, send("GET", "/kv/typo").statusCode(), "the refused write did not happen");
    HttpResponse<byte[]> scan = send("GET", "/kv?prefx=a");
    assertEquals(400, scan.statusCode(), text(scan));
    assertEquals("known parameters: after, afterBase64, limit, prefix, prefixBase64", json(scan).get("fix").asText());
    HttpResponse<byte[]> status = send("GET", "/status?verbose=1");
    assertEquals(400, status.statusCode(), text(status));
    assertEquals("this endpoint takes no query parameters", json(status).get("fix").asText());
  }

  @Test
  void headAnswersLikeGetWithoutABodyAndATrailingSlashIsTolerated() throws Exception {
    send("PUT", "/kv/h", "twelve bytes".getBytes(StandardCharsets.UTF_8));
    HttpResponse<byte[]> head = send("HEAD", "/kv/h");
    assertEquals(200, head.statusCode());
    assertEquals(0, head.body().length);
    assertEquals("12", head.headers().firstValue("Content-Length").orElse(null));
    assertTrue(head.headers().firstValue("X-Edgesync-Version").isPresent());
    assertEquals(404, send("HEAD", "/kv/absent").statusCode());
    assertEquals(200, send("HEAD", "/health").statusCode());
    assertEquals(200, send("HEAD", "/status").statusCode());
    assertEquals(200, send("GET", "/status/").statusCode());
    assertEquals(200, send("GET", "/health/").statusCode());
  }

  @Test
  void oversizeKeyAndValueAre413NamingTheLimit() throws Exception {
    HttpResponse<byte[]> key =
        send("PUT", "/kv/" + "k".repeat(65), "v".getBytes(StandardCharsets.UTF_8));
    assertEquals(413, key.statusCode());
    assertTrue(json(key).get("error").asText().contains("limits.maxKeyBytes"), text(key));

    HttpResponse<byte[]> value = send("PUT", "/kv/big", new byte[4097]);
    assertEquals(413, value.statusCode());
    assertTrue(json(value).get("error").asText().contains("maxValueBytes"), text(value));
    assertNotNull(json(value).get("fix"));

    HttpResponse<byte[]> body = send("PUT", "/kv/huge", new byte[600 * 1024]);
    assertEquals(413, body.statusCode());
    assertTrue(json(body).get("error").asText().contains("limits.httpMaxBodyBytes"), text(body));

    assertEquals(
        200, send("PUT", "/kv/exact", new byte[4096]).statusCode(), "a value at the limit fits");
  }

  @Test
  void scanPagesThroughAPrefixInKeyOrder() throws Exception {
    ArrayNode entries = Json.MAPPER.createArrayNode();
    for (int i = 0; i < 250; i++) {
      entries.addObject().put("key", String.format("scan/%03d", i)).put("value", "v" + i);
    }
    entries.addObject().put("key", "scanx/other").put("value", "not under scan/");
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.set("entries", entries);
    assertEquals(200, send("POST", "/kv", Json.MAPPER.writeValueAsBytes(body)).statusCode());

    List<String> seen = new ArrayList<>();
    String after = null;
    int pages = 0;
    do {
      String q =
          "/kv?prefix=scan/&limit=100"
              + (after == null ? "" : "&after=" + NodeClient.encodePath(after));
      JsonNode page = json(send("GET", q));
      for (JsonNode item : page.get("items")) {
        seen.add(item.get("key").asText());
        assertEquals(
            "v" + Integer.parseInt(item.get("key").asText().substring(5)),
            item.get("value").asText());
        assertTrue(item.get("version").asText().endsWith("@site-a"));
        assertTrue(item.get("seq").asLong() > 0);
      }
      after = page.get("next").isNull() ? null : page.get("next").asText();
      pages++;
    } while (after != null);
    assertEquals(3, pages);
    assertEquals(250, seen.size());
    List<String> sorted = new ArrayList<>(seen);
    sorted.sort(null);
    assertEquals(sorted, seen);
    assertEquals("scan/000", seen.get(0));

    JsonNode dflt = json(send("GET", "/kv?prefix=scan/"));
    assertEquals(100, dflt.get("items").size(), "default limit");
    assertEquals(400, send("GET", "/kv?prefix=scan/&limit=1001").statusCode());
    assertEquals(400, send("GET", "/kv?prefix=scan/&limit=zero").statusCode());
  }

  @Test
  void scanShowsNonUtf8ValuesAsBase64() throws Exception {
    byte[] bad = {(byte) 0xff, (byte) 0xfe, 0x41};
    assertEquals(200, send("PUT", "/kv/bin/x", bad).statusCode());
    JsonNode item = json(send("GET", "/kv?prefix=bin/")).get("items").get(0);
    assertTrue(item.get("value").isNull());
    assertEquals("//5B", item.get("valueBase64").asText());
    assertTrue(Arrays.equals(bad, send("GET", "/kv/bin/x").body()), "GET returns the raw bytes");
  }

  @Test
  void bulkWritesPutsAndDeletes() throws Exception {
    ArrayNode entries = Json.MAPPER.createArrayNode();
    for (int i = 0; i < 1000; i++) {
      entries.addObject().put("key", "bulk/" + i).put("value", "v" + i);
    }
    entries.addObject().put("key", "bulk/0").put("delete", true);
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.set("entries", entries);
    HttpResponse<byte[]> r = send("POST", "/kv", Json.MAPPER.writeValueAsBytes(body));
    assertEquals(200, r.statusCode(), text(r));
    JsonNode j = json(r);
    assertEquals(1001, j.get("committed").asInt());
    assertEquals(1000, j.get("puts").asInt());
    assertEquals(1, j.get("deletes").asInt());
    assertTrue(j.get("lastSeq").asLong() >= 1001);
    assertEquals(
        404, send("GET", "/kv/bulk/0").statusCode(), "deleted after being put in the same bulk");
    assertEquals("v999", text(send("GET", "/kv/bulk/999")));
  }

  @Test
  void malformedBulkIs400AndWritesNothing() throws Exception {
    String[] bodies = {
      "not json",
      "[]",
      "{\"entries\": [{\"key\": \"bad/1\", \"value\": \"v\"}, {\"key\": \"\", \"value\": \"v\"}]}",
      "{\"entries\": [{\"key\": \"bad/2\"}]}",
      "{\"entries\": [{\"key\": \"bad/3\", \"value\": \"v\", \"delete\": true}]}",
      "{\"entries\": [{\"key\": \"bad/4\", \"valu\": \"v\"}]}",
      "{\"entries\": [], \"extra\": 1}",
    };
    for (String b : bodies) {
      HttpResponse<byte[]> r = send("POST", "/kv", b.getBytes(StandardCharsets.UTF_8));
      assertEquals(400, r.statusCode(), b + " -> " + text(r));
      assertNotNull(json(r).get("error"));
    }
    assertEquals(
        404, send("GET", "/kv/bad/1").statusCode(), "a bad entry fails the whole request first");
    HttpResponse<byte[]> big =
        send(
            "POST",
            "/kv",
            ("{\"entries\": [{\"key\": \"big\", \"value\": \"" + "x".repeat(5000) + "\"}]}")
                .getBytes(StandardCharsets.UTF_8));
    assertEquals(413, big.statusCode());
    assertTrue(text(big).contains("limits.maxValueBytes"));
  }

  @Test
  void acksBeyondThePeerCountAre400() throws Exception {
    HttpResponse<byte[]> r =
        send("PUT", "/kv/acks/x?acks=1&timeout=1s", "v".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, r.statusCode());
    assertTrue(json(r).get("error").asText().contains("0 peer"), text(r));
    assertEquals(400, send("PUT", "/kv/acks/y?acks=0&timeout=never", new byte[1]).statusCode());
    assertEquals(200, send("PUT", "/kv/acks/z?acks=0", new byte[1]).statusCode());
  }

  @Test
  void unknownPathIs404AndWrongMethodIs405() throws Exception {
    HttpResponse<byte[]> r = send("GET", "/nope");
    assertEquals(404, r.statusCode());
    assertTrue(json(r).get("fix").asText().contains("/status"));
    HttpResponse<byte[]> m = send("POST", "/kv/some-key", new byte[1]);
    assertEquals(405, m.statusCode());
    assertEquals("DELETE, GET, HEAD, PUT", m.headers().firstValue("Allow").orElseThrow());
    assertEquals(405, send("DELETE", "/status").statusCode());
    assertEquals(405, send("PUT", "/kv", new byte[1]).statusCode());
  }

  @Test
  void statusCarriesTheNodeFields() throws Exception {
    send("PUT", "/kv/status/x", "v".getBytes(StandardCharsets.UTF_8));
    HttpResponse<byte[]> r = send("GET", "/status");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"));
    JsonNode s = json(r);
    assertEquals("site-a", s.get("nodeId").asText());
    assertEquals("test", s.get("cluster").asText());
    assertFalse(s.get("logId").asText().isEmpty());
    assertTrue(s.get("headSeq").asLong() >= 1);
    assertEquals(32, s.get("digest").asText().length());
    assertEquals("RUNNING", s.get("state").asText());
    assertTrue(s.get("failure").isNull());
    assertEquals(server.grpcPort(), s.get("grpcPort").asInt());
    assertEquals(server.httpAddress().getPort(), s.get("httpPort").asInt());
    assertTrue(s.get("peers").isArray());
  }

  @Test
  void healthIsServing() throws Exception {
    HttpResponse<byte[]> r = send("GET", "/health");
    assertEquals(200, r.statusCode());
    assertEquals("serving", json(r).get("status").asText());
  }

  @Test
  void metricsAreServedInPrometheusTextFormat() throws Exception {
    send("PUT", "/kv/metrics/x", "v".getBytes(StandardCharsets.UTF_8));
    HttpResponse<byte[]> r = send("GET", "/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
    String m = text(r);
    for (String name :
        List.of(
            "edgesync_local_writes_total",
            "edgesync_conflicts_total",
            "edgesync_head_seq",
            "jvm_memory_used_bytes",
            "process_uptime_seconds",
            "system_cpu_count")) {
      assertTrue(m.contains(name), name + " missing from /metrics");
    }
  }

  @Test
  void nextIsNullOnTheLastPage() throws Exception {
    send("PUT", "/kv/one/only", "v".getBytes(StandardCharsets.UTF_8));
    JsonNode page = json(send("GET", "/kv?prefix=one/&limit=1"));
    assertEquals(1, page.get("items").size());
    assertTrue(page.get("next").isNull());
  }

  @Test
  void binaryKeysRoundTripThroughKv64ScanBulkAndTheFeed() throws Exception {
    // 0xFB 0xFF is "+/8=" in base64 and "-_8" in its URL-safe form: both name the same key.
    assertEquals(200, send("PUT", "/kv64/-_8", "bin".getBytes(StandardCharsets.UTF_8)).statusCode());
    HttpResponse<byte[]> got = send("GET", "/kv64/%2B%2F8%3D");
    assertEquals(200, got.statusCode(), text(got));
    assertEquals("bin", text(got));
    // A key that differs only in an invalid UTF-8 byte is another key.
    HttpResponse<byte[]> put = send("PUT", "/kv64/-_4", "other".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, put.statusCode(), text(put));
    assertTrue(json(put).get("key").isNull(), text(put));
    assertEquals("+/4=", json(put).get("keyBase64").asText());
    assertEquals("bin", text(send("GET", "/kv64/-_8")));

    // Bulk with keyBase64; the scan lists binary keys as keyBase64 and pages with nextBase64.
    HttpResponse<byte[]> bulk =
        send("POST", "/kv", "{\"entries\":[{\"keyBase64\":\"+/0=\",\"value\":\"third\"}]}".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, bulk.statusCode(), text(bulk));
    List<String> keys = new ArrayList<>();
    String after = null;
    for (int i = 0; i < 5; i++) {
      JsonNode page = json(send("GET", "/kv?prefixBase64=-w&limit=1" + (after == null ? "" : "&afterBase64=" + after)));
      for (JsonNode item : page.get("items")) {
        assertTrue(item.get("key").isNull(), page.toString());
        keys.add(item.get("keyBase64").asText());
      }
      if (page.get("nextBase64") == null) {
        assertTrue(page.get("next").isNull(), page.toString());
        break;
      }
      assertTrue(page.get("next").isNull(), "a binary next key has no text form: " + page);
      after = java.net.URLEncoder.encode(page.get("nextBase64").asText(), StandardCharsets.UTF_8);
    }
    assertEquals(List.of("+/0=", "+/4=", "+/8="), keys, "every binary key once, in byte order");

    // The changes feed shows them as keyBase64 too, and filters by prefixBase64.
    JsonNode changes = json(send("GET", "/changes?prefixBase64=%2B%2F8"));
    assertEquals(1, changes.get("results").size(), changes.toString());
    assertEquals("+/8=", changes.get("results").get(0).get("keyBase64").asText());

    HttpResponse<byte[]> del = send("DELETE", "/kv64/-_8");
    assertEquals(200, del.statusCode(), text(del));
    assertTrue(json(del).get("existed").asBoolean());
    HttpResponse<byte[]> gone = send("GET", "/kv64/-_8");
    assertEquals(404, gone.statusCode());
    assertTrue(json(gone).get("error").asText().contains("base64:+/8="), text(gone));

    for (String bad : List.of("/kv64/a", "/kv64/A*B", "/kv64/AB=C", "/kv64/", "/kv64/AP9")) {
      HttpResponse<byte[]> r = send("GET", bad);
      assertEquals(400, r.statusCode(), bad + ": " + text(r));
      assertTrue(json(r).get("fix").asText().contains("base64"), text(r));
    }
    HttpResponse<byte[]> both = send("GET", "/kv?prefix=a&prefixBase64=YQ");
    assertEquals(400, both.statusCode(), text(both));
    // A JSON string with an unpaired surrogate is not text: refused, not stored with a '?'.
    HttpResponse<byte[]> lone = send("POST", "/kv", "{\"entries\":[{\"key\":\"s\\ud800\",\"value\":\"v\"}]}".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, lone.statusCode(), text(lone));
    assertTrue(json(lone).get("error").asText().contains("unpaired surrogate"), text(lone));
    assertEquals(404, send("GET", "/kv/s%3F").statusCode(), "nothing was stored under a replacement");
  }
}
