package dev.edgesync.node.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.EventStreamReader;
import dev.edgesync.node.client.NodeClient;
import dev.edgesync.node.config.ConfigLoader;
import dev.edgesync.node.config.ConfigOverrides;
import dev.edgesync.node.config.NodeConfig;
import dev.edgesync.testing.Sockets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /changes?feed=sse} of one in-process node: events in commit order with seqs as ids,
 * resume with Last-Event-ID, live changes, heartbeats, the bounds, a client that stops reading cut
 * off, and the CLI's {@code watch}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChangesEventStreamTest {
  private Path dir;
  private NodeServer server;
  private String base;
  private NodeClient client;

  static NodeServer start(Path dir, String name) throws IOException {
    Path config = dir.resolve(name + ".yaml");
    Files.writeString(
        config,
        """
        id: site-a
        cluster: test
        listen: 127.0.0.1:0
        http: 127.0.0.1:0
        durability: buffered
        limits:
          maxValueBytes: 64KiB
          httpMaxBodyBytes: 16MiB
          httpFeedWriteTimeout: 1s
        """);
    NodeConfig c =
        ConfigLoader.load(
            new ConfigOverrides(config.toString(), null, null, null, null, dir.resolve(name + "-data").toString(), null, null, null),
            Map.of());
    return NodeServer.start(c);
  }

  @BeforeAll
  void startNode(@TempDir Path tmp) throws IOException {
    dir = tmp;
    server = start(dir, "a");
    base = "http://127.0.0.1:" + server.httpAddress().getPort();
    client = new NodeClient(URI.create(base), Duration.ofSeconds(30));
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private long head() {
    return client.status().get("headSeq").asLong();
  }

  private void put(String key, String value) {
    assertEquals(200, client.put(key, value.getBytes(StandardCharsets.UTF_8), null, null).status());
  }

  private static JsonNode data(EventStreamReader.Event e) throws IOException {
    return Json.MAPPER.readTree(e.data());
  }

  /** The next event that is not {@code open}. */
  private static EventStreamReader.Event nextChange(EventStreamReader r) throws IOException {
    EventStreamReader.Event e = r.next();
    while (e != null && e.name().equals("open")) {
      e = r.next();
    }
    assertNotNull(e, "the stream ended");
    return e;
  }

  @Test
  void eventsCarryEachKeysNewestVersionInSeqOrderGoLiveAndResumeAfterLastEventId() throws Exception {
    put("s/a", "1");
    put("other", "x");
    put("s/b", "2");
    put("s/a", "3");
    assertEquals(200, client.delete("s/b").status());
    List<String> seen = new ArrayList<>();
    String lastId;
    try (EventStreamReader r = client.openChanges("s/", 0, null)) {
      EventStreamReader.Event open = r.next();
      assertEquals("open", open.name());
      assertEquals(client.status().get("logId").asText(), data(open).get("logId").asText());
      long lastSeq = 0;
      for (int i = 0; i < 2; i++) {
        EventStreamReader.Event e = nextChange(r);
        assertEquals("change", e.name());
        JsonNode d = data(e);
        assertEquals(Long.toString(d.get("seq").asLong()), e.id(), "the id is the seq");
        assertTrue(d.get("seq").asLong() > lastSeq, "seq order");
        lastSeq = d.get("seq").asLong();
        seen.add(d.get("key").asText() + "=" + (d.has("deleted") ? "deleted" : d.get("value").asText()));
      }
      assertEquals(List.of("s/a=3", "s/b=deleted"), seen, "each key once, at its newest version");
      // Live: a change committed now arrives on the open stream.
      put("s/live", "now");
      EventStreamReader.Event live = nextChange(r);
      assertEquals("s/live", data(live).get("key").asText());
      lastId = r.lastEventId();
    }
    put("s/after", "reconnect");
    put("other2", "y");
    try (EventStreamReader r = client.openChanges("s/", 0, lastId)) {
      EventStreamReader.Event e = nextChange(r);
      assertEquals("s/after", data(e).get("key").asText(), "Last-Event-ID resumes after the last event seen");
    }
    // A stream caught up under a narrow prefix moves its resume point past the filtered entries
    // with an event that has only an id (it dispatches nothing).
    try (Socket s = new Socket(server.httpAddress().getAddress(), server.httpAddress().getPort())) {
      s.setSoTimeout(20_000);
      s.getOutputStream()
          .write(("GET /changes?feed=sse&prefix=nothing-here/&heartbeat=1s HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      readUntil(s.getInputStream(), "event: open");
      put("s/x", "1");
      long h = head();
      String text = readUntil(s.getInputStream(), "id: " + h + "\n\n");
      assertTrue(!text.contains("event: change"), text);
    }
  }

  @Test
  void aSinceBeyondTheLogIsResetToZeroWithAnEventThatSaysWhy() throws Exception {
    put("r/1", "v");
    long h = head();
    try (EventStreamReader r = client.openChanges("r/", h + 1000, null)) {
      assertEquals("open", r.next().name());
      EventStreamReader.Event reset = r.next();
      assertEquals("reset", reset.name());
      assertTrue(data(reset).get("reason").asText().contains("beyond this node's head seq " + h), reset.data());
      EventStreamReader.Event e = r.next();
      assertEquals("r/1", data(e).get("key").asText(), "from seq 0 again");
    }
  }

  @Test
  void anIdleStreamGetsHeartbeats() throws Exception {
    try (Socket s = new Socket(server.httpAddress().getAddress(), server.httpAddress().getPort())) {
      s.setSoTimeout(20_000);
      s.getOutputStream()
          .write(("GET /changes?feed=sse&prefix=idle/&heartbeat=1s HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String text = readUntil(s.getInputStream(), ": heartbeat");
      assertTrue(text.startsWith("HTTP/1.1 200"), text);
      assertTrue(text.toLowerCase(java.util.Locale.ROOT).contains("content-type: text/event-stream"), text);
    }
  }

  private static String readUntil(InputStream in, String marker) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      if (b.toString(StandardCharsets.UTF_8).endsWith(marker)) {
        return b.toString(StandardCharsets.UTF_8);
      }
    }
    throw new AssertionError("the stream ended before '" + marker + "': " + b.toString(StandardCharsets.UTF_8));
  }

  @Test
  void badRequestsAreRefusedAndStreamsAreBounded() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    for (String q : List.of("feed=sse&limit=5", "feed=sse&timeout=1s", "feed=sse&heartbeat=0s", "feed=longpoll&heartbeat=5s", "feed=bogus")) {
      var r = http.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/changes?" + q)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(400, r.statusCode(), q + ": " + r.body());
      assertTrue(Json.MAPPER.readTree(r.body()).has("fix"), r.body());
    }
    NodeClient.NodeClientException badId = assertThrows(NodeClient.NodeClientException.class, () -> client.openChanges("", 0, "abc"));
    assertTrue(badId.getMessage().contains("Last-Event-ID 'abc' is not a seq"), badId.getMessage());

    // On a node of its own, so that the streams of the other tests do not count.
    NodeServer other = start(dir, "bounded");
    String otherBase = "http://127.0.0.1:" + other.httpAddress().getPort();
    NodeClient otherClient = new NodeClient(URI.create(otherBase), Duration.ofSeconds(30));
    List<EventStreamReader> open = new ArrayList<>();
    try {
      for (int i = 0; i < ChangesEventStream.MAX_STREAMS; i++) {
        // Heartbeats every second: the node finds a closed stream at its next write.
        var response =
            http.send(
                java.net.http.HttpRequest.newBuilder(URI.create(otherBase + "/changes?feed=sse&prefix=bounded/&heartbeat=1s")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        EventStreamReader r = new EventStreamReader(response.body());
        open.add(r);
        assertEquals("open", r.next().name());
      }
      NodeClient.NodeClientException full = assertThrows(NodeClient.NodeClientException.class, () -> otherClient.openChanges("bounded/", 0, null));
      assertTrue(full.getMessage().contains("answered 503") && full.getMessage().contains(ChangesEventStream.MAX_STREAMS + " event streams are already open"), full.getMessage());
      // The streams have threads of their own: the rest of the API is served as before.
      assertEquals(200, otherClient.getPath("/status").status());
      assertEquals(200, otherClient.put("bounded/k", new byte[] {1}, null, null).status());
      for (EventStreamReader r : open) {
        r.close();
      }
      // The node notices the closed streams at their next writes and frees the slots.
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals("0.0", metric(otherClient, "edgesync_http_feed_streams")));
      try (EventStreamReader r = otherClient.openChanges("bounded/", 0, null)) {
        assertEquals("open", r.next().name());
      }
    } finally {
      for (EventStreamReader r : open) {
        r.close();
      }
      other.close();
    }
  }

  private String metric(String name) {
    return metric(client, name);
  }

  private static String metric(NodeClient client, String name) {
    String text = client.getPath("/metrics").text();
    return text.lines()
        .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .map(l -> l.substring(l.lastIndexOf(' ') + 1))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + name + " in " + text));
  }

  @Test
  void aClientThatStopsReadingIsCutOffAndNothingIsBufferedForIt() throws Exception {
    double before = Double.parseDouble(metric("edgesync_http_feed_cutoffs_total"));
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(4096);
      s.connect(server.httpAddress());
      s.getOutputStream()
          .write(("GET /changes?feed=sse&prefix=slow/&since=" + head() + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      // 32 MiB of changes for a client that reads nothing: far more than the sockets hold.
      String value = "v".repeat(16 * 1024);
      for (int round = 0; round < 8; round++) {
        StringBuilder bulk = new StringBuilder("{\"entries\":[");
        for (int i = 0; i < 256; i++) {
          bulk.append(i == 0 ? "" : ",").append("{\"key\":\"slow/").append(round).append('/').append(i).append("\",\"value\":\"").append(value).append("\"}");
        }
        NodeClient.Response r = client.bulk(bulk.append("]}").toString().getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.status(), r.text());
      }
      await("the stuck stream cut off")
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertEquals(before + 1, Double.parseDouble(metric("edgesync_http_feed_cutoffs_total"))));
      // The connection is closed: what the sockets held, then the end (or a reset), never a hang.
      long read = Sockets.readUntilClosed(s, 30_000);
      assertTrue(read < 32L * 1024 * 1024, "the client got less than was written: " + read);
    }
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals("0.0", metric("edgesync_http_feed_streams")));
    // The node goes on serving streams.
    try (EventStreamReader r = client.openChanges("slow/0/", 0, null)) {
      assertEquals("slow/0/0", data(nextChange(r)).get("key").asText());
    }
  }

  @Test
  void theWatchCommandPrintsChangesWithReadableVersions() throws Exception {
    put("w/a", "1");
    put("w/b", "2");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.execute(
            new String[] {"watch", "w/", "--count", "2", "--node", base},
            Map.of(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(2, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches("\\d+\tw/a\t1\t\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z#\\d+@site-a"), lines.get(0));
    assertTrue(lines.get(1).matches("\\d+\tw/b\t2\t.*@site-a"), lines.get(1));
    int bad =
        Main.execute(
            new String[] {"watch", "--node", "http://127.0.0.1:1"},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(1, bad, "an unreachable node at the start is an error");
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot reach a node"), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aStoppingNodeEndsItsStreamsWithACloseEvent() throws Exception {
    NodeServer other = start(dir, "closing");
    try {
      NodeClient c = new NodeClient(URI.create("http://127.0.0.1:" + other.httpAddress().getPort()), Duration.ofSeconds(30));
      try (EventStreamReader r = c.openChanges("", 0, null)) {
        assertEquals("open", r.next().name());
        other.close();
        EventStreamReader.Event close = r.next();
        assertNotNull(close, "a close event before the end");
        assertEquals("close", close.name());
        assertTrue(data(close).get("reason").asText().contains("shutting down"), close.data());
      }
    } finally {
      other.close();
    }
  }

  @Test
  void aClientThatSawAnotherLogIdIsResetToZero() throws Exception {
    put("l/1", "v");
    try (EventStreamReader r = client.openChanges("l/", head(), null, "not-this-nodes-log")) {
      assertEquals("open", r.next().name());
      EventStreamReader.Event reset = r.next();
      assertEquals("reset", reset.name());
      assertTrue(data(reset).get("reason").asText().contains("log id not-this-nodes-log is not this node's"), reset.data());
      assertEquals("l/1", data(r.next()).get("key").asText(), "from seq 0 again");
    }
  }

  @Test
  void aPageHoldsAboutFourMebibytesWhateverItsEntryLimit() throws Exception {
    long since = head();
    String value = "b".repeat(60 * 1024);
    StringBuilder bulk = new StringBuilder("{\"entries\":[");
    for (int i = 0; i < 100; i++) {
      bulk.append(i == 0 ? "" : ",").append("{\"key\":\"big/").append(String.format("%03d", i)).append("\",\"value\":\"").append(value).append("\"}");
    }
    assertEquals(200, client.bulk(bulk.append("]}").toString().getBytes(StandardCharsets.UTF_8)).status());
    int seen = 0;
    long next = since;
    for (int page = 0; page < 10 && seen < 100; page++) {
      JsonNode p = client.getPath("/changes?prefix=big/&limit=1000&since=" + next).json();
      int n = p.get("results").size();
      assertTrue(n >= 1 && (long) (n - 1) * value.length() < ChangesResource.MAX_BYTES, "page " + page + " has " + n + " entries of 60 KiB");
      seen += n;
      next = p.get("next").asLong();
    }
    assertEquals(100, seen, "the pages together hold every entry");
  }
}
