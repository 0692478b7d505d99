package dev.edgesync.node.server;

import static dev.edgesync.node.server.HttpExchanges.duration;
import static dev.edgesync.node.server.HttpExchanges.number;
import static dev.edgesync.node.server.HttpExchanges.putText;
import static dev.edgesync.node.server.HttpExchanges.query;
import static dev.edgesync.node.server.HttpExchanges.sendJson;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.edgesync.engine.ChangeListener;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.storage.ChangeBatch;
import dev.edgesync.engine.storage.StoredEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /changes?since=SEQ&prefix=P&limit=N[&feed=longpoll&timeout=30s]} (and {@code
 * feed=sse}, served by {@link ChangesEventStream}): the node's changes
 * after {@code since} in commit order, read from the compacted change log (like CouchDB's {@code
 * _changes}): each key appears at most once, at its newest version, so a client that resumes with
 * the {@code next} it was given misses no key's final version, across its own disconnects and the
 * node's restarts. {@code next} advances past entries the prefix filtered out, so a client never
 * re-reads them.
 *
 * <p>Bounds: at most {@link #MAX_LIMIT} entries per answer, at most {@link #SCAN_BUDGET} log
 * entries read per request (a narrow prefix over a long log answers with fewer entries and a
 * {@code next} to go on from), and at most {@link #MAX_WAITING} long polls waiting at once (they
 * hold a request thread; one more is answered 503 with Retry-After).
 */
final class ChangesResource {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;
  static final int SCAN_BUDGET = 10_000;
  static final int MAX_WAITING = 4;
  static final long MAX_BYTES = 4L << 20;
  static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);
  static final Duration MIN_WAIT = Duration.ofMillis(1);
  static final Duration MAX_WAIT = Duration.ofMinutes(5);

  private final SyncNode node;
  private final Semaphore waiting = new Semaphore(MAX_WAITING);
  private final ChangesEventStream events;

  ChangesResource(SyncNode node, Duration feedWriteTimeout) {
    this.node = node;
    this.events = new ChangesEventStream(node, this, feedWriteTimeout);
  }

  /** The event streams ({@code feed=sse}). */
  ChangesEventStream events() {
    return events;
  }

  /**
   * Answers one request.
   *
   * @return true when the exchange was handed off to an event stream, which closes it at its end
   */
  boolean handle(HttpExchange ex) throws IOException {
    Map<String, String> q = query(ex, Set.of("since", "prefix", "prefixBase64", "limit", "feed", "timeout", "heartbeat", "logId"));
    long since = number(q, "since", 0, 0, Long.MAX_VALUE);
    byte[] prefix = Keys.param(q, "prefix");
    if (prefix == null) {
      prefix = new byte[0];
    }
    String feed = q.getOrDefault("feed", "normal");
    if (!feed.equals("normal") && !feed.equals("longpoll") && !feed.equals("sse")) {
      throw new HttpError(
          400, "feed '" + feed + "' is not supported", "feed=normal (default), feed=longpoll or feed=sse");
    }
    for (String p : List.of("heartbeat", "logId")) {
      if (q.containsKey(p) && !feed.equals("sse")) {
        throw new HttpError(400, p + " is only for feed=sse", "?feed=sse&" + p + "=...");
      }
    }
    if (feed.equals("sse")) {
      for (String p : List.of("limit", "timeout")) {
        if (q.containsKey(p)) {
          throw new HttpError(
              400, p + " is not for feed=sse (a stream has no pages and no end)", "leave " + p + " out, or use feed=longpoll");
        }
      }
      String lastEventId = ex.getRequestHeaders().getFirst("Last-Event-ID");
      if (lastEventId != null && !lastEventId.isBlank()) {
        try {
          since = Long.parseLong(lastEventId.strip());
        } catch (NumberFormatException e) {
          since = -1;
        }
        if (since < 0) {
          throw new HttpError(
              400, "Last-Event-ID '" + lastEventId + "' is not a seq of this feed", "send the id of the last event received, or none");
        }
      }
      Duration heartbeat =
          duration(
              q, "heartbeat", ChangesEventStream.DEFAULT_HEARTBEAT, ChangesEventStream.MIN_HEARTBEAT, ChangesEventStream.MAX_HEARTBEAT);
      events.serve(ex, since, q.get("logId"), prefix, heartbeat);
      return true;
    }
    int limit = (int) number(q, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    if (q.containsKey("timeout") && !feed.equals("longpoll")) {
      throw new HttpError(400, "timeout is only for feed=longpoll", "?feed=longpoll&timeout=30s");
    }
    Duration wait = duration(q, "timeout", DEFAULT_WAIT, MIN_WAIT, MAX_WAIT);
    String reset = missedDeletes(node, since);
    if (reset != null) {
      since = 0; // from the start again: the client rebuilds what it derived from the feed
    }
    Page page = read(since, limit, prefix);
    if (feed.equals("longpoll") && page.results().isEmpty()) {
      if (!waiting.tryAcquire()) {
        ex.getResponseHeaders().set("Retry-After", "1");
        throw new HttpError(
            503, MAX_WAITING + " long polls are already waiting on this node", "retry shortly, or poll without feed=longpoll");
      }
      try {
        page = awaitChange(page.next(), limit, prefix, wait);
      } finally {
        waiting.release();
      }
    }
    ObjectNode answer = json(page);
    if (reset != null) {
      answer.put("reset", true);
      answer.put("reason", reset);
      answer.put("fix", "this answer starts again from seq 0; rebuild what was derived from the feed");
    }
    sendJson(ex, 200, answer);
    return false;
  }

  /**
   * Why a client resuming after {@code since} must start again from 0, or null: deletes it has not
   * seen were collected (their tombstones left the log), so reading on would miss them.
   */
  static String missedDeletes(SyncNode node, long since) {
    long collected = node.gcStatus().store().purgedMaxSeq();
    if (since <= 0 || since >= collected) {
      return null;
    }
    return "deletes committed after seq " + since + " (up to seq " + collected + ") were collected, so the client,"
        + " behind by more than the tombstone horizon (gc.minAge), would miss them";
  }

  /** Waits until a change under the prefix commits after {@code from}, or {@code wait} passes. */
  private Page awaitChange(long from, int limit, byte[] prefix, Duration wait) {
    CountDownLatch changed = new CountDownLatch(1);
    try (var unused = node.subscribe(prefix, ChangeListener.writesOnly(change -> changed.countDown()))) {
      // A change committed between the read and the subscription is found by reading again.
      Page page = read(from, limit, prefix);
      if (!page.results().isEmpty()) {
        return page;
      }
      changed.await(wait.toMillis(), TimeUnit.MILLISECONDS);
      return read(from, limit, prefix);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return read(from, limit, prefix);
    }
  }

  /** One answer of the feed: the matching entries, where to resume, and the log's head. */
  record Page(List<StoredEntry> results, long next, long head) {}

  /**
   * Reads up to {@code limit} entries under {@code prefix} committed after {@code since}, within
   * the scan budget.
   */
  Page read(long since, int limit, byte[] prefix) {
    List<StoredEntry> results = new ArrayList<>();
    long bytes = 0;
    long next = since;
    long head;
    int read = 0;
    while (true) {
      // Without a prefix every entry counts; with one, read ahead within the budget.
      int ask = prefix.length == 0 ? limit - results.size() : Math.min(MAX_LIMIT, SCAN_BUDGET - read);
      ChangeBatch batch = node.changes(next, ask, Math.max(1, MAX_BYTES - bytes));
      head = batch.headSeq();
      boolean full = false;
      for (StoredEntry e : batch.entries()) {
        read++;
        // Entries come in seq order and the seqs between them were compacted away: everything up
        // to this entry is covered.
        next = e.seq();
        if (matches(e.key(), prefix)) {
          results.add(e);
          bytes += e.key().length + e.value().length;
          // A page holds at most limit entries and about MAX_BYTES (at least one entry).
          if (results.size() == limit || bytes >= MAX_BYTES) {
            full = true;
            break;
          }
        }
      }
      if (full) {
        break;
      }
      next = Math.max(next, batch.lastSeq());
      if (batch.entries().isEmpty() || next >= head || read >= SCAN_BUDGET) {
        break;
      }
    }
    return new Page(results, next, head);
  }

  private ObjectNode json(Page page) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("logId", node.status().logId());
    ArrayNode results = o.putArray("results");
    for (StoredEntry e : page.results()) {
      results.add(entry(e));
    }
    o.put("next", page.next());
    o.put("headSeq", page.head());
    return o;
  }

  private static boolean matches(byte[] key, byte[] prefix) {
    return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  /**
   * One change as the feed shows it: {@code {"seq","key","value"|"deleted","version","origin"}},
   * and {@code "expiresAt"} for a value that expires (it reads as absent from then on; the feed has
   * no entry for the expiry itself).
   */
  static ObjectNode entry(StoredEntry e) {
    ObjectNode r = Json.MAPPER.createObjectNode();
    r.put("seq", e.seq());
    putText(r, "key", e.key());
    if (e.tombstone()) {
      r.put("deleted", true);
    } else {
      putText(r, "value", e.value());
    }
    r.put("version", Json.version(e.version()));
    r.put("origin", e.version().origin());
    if (e.expires()) {
      r.put("expiresAt", Json.hlcTime(e.expiresHlc()));
    }
    return r;
  }
}
