package dev.edgesync.node.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.edgesync.engine.NodeStatus;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.Change;
import dev.edgesync.engine.ChangeListener;
import dev.edgesync.engine.Subscription;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /changes?feed=sse}: the changes feed as Server-Sent Events, live.
 *
 * <p>Each change is an event {@code change} whose {@code id} is its seq, so a client that
 * reconnects sends {@code Last-Event-ID} and resumes after it (the browser's {@code EventSource}
 * does this by itself). The stream reads the compacted change log at the client's pace, one page of
 * at most {@link ChangesResource#MAX_LIMIT} entries (and {@link ChangesResource#MAX_BYTES}) at a
 * time; nothing is queued per client, so a slow client costs the node one page, never a backlog.
 * When the feed has skipped entries that the prefix filtered out, an event with only an {@code id}
 * moves the client's resume point past them without dispatching anything. An idle feed gets a
 * {@code : heartbeat} comment every {@code heartbeat} (default 15 s).
 *
 * <p>Bounds: at most {@link #MAX_STREAMS} streams at once, each on a thread of its own (started on
 * demand, so the request threads stay free for the rest of the API); one more is answered 503
 * with Retry-After. A client that has gone is noticed at the stream's next write, a heartbeat at
 * the latest. A client that leaves the node's bytes untaken for {@code
 * limits.httpFeedWriteTimeout} (its socket buffers are full) is disconnected: the write is
 * interrupted, which closes the connection, and the node logs it. No event can reach a client whose
 * socket is full, so the cut-off is the closed connection; the client reconnects with its
 * Last-Event-ID and loses nothing. When the node stops, each stream ends with an event {@code
 * close} that says so.
 */
final class ChangesEventStream implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChangesEventStream.class);

  static final int MAX_STREAMS = 32;
  static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);
  static final Duration MIN_HEARTBEAT = Duration.ofSeconds(1);
  static final Duration MAX_HEARTBEAT = Duration.ofMinutes(5);

  /** The browser's reconnect delay, sent as {@code retry:}. */
  static final int RETRY_MILLIS = 2000;

  private final SyncNode node;
  private final ChangesResource pages;
  private final long writeTimeoutNanos;
  private final Semaphore slots = new Semaphore(MAX_STREAMS);
  private final Set<Stream> open = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService watchdog;
  private final ThreadPoolExecutor threads;
  private final AtomicLong cutOff = new AtomicLong();
  private volatile boolean closing;

  ChangesEventStream(SyncNode node, ChangesResource pages, Duration writeTimeout) {
    this.node = node;
    this.pages = pages;
    this.writeTimeoutNanos = writeTimeout.toNanos();
    this.watchdog =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edgesync-http-feed-watchdog");
              t.setDaemon(true);
              return t;
            });
    AtomicLong n = new AtomicLong();
    // No queue: the slots bound the streams, so a stream always finds a thread.
    this.threads =
        new ThreadPoolExecutor(
            0,
            // Twice the slots: a stream gives its slot back just before its thread is free.
            2 * MAX_STREAMS,
            60,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "edgesync-http-feed-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    long period = Math.max(50, Math.min(1000, writeTimeout.toMillis() / 4));
    watchdog.scheduleWithFixedDelay(this::cutOffStuck, period, period, TimeUnit.MILLISECONDS);
  }

  /** Streams that were disconnected because their client did not read. */
  long cutOffCount() {
    return cutOff.get();
  }

  /** Streams open now. */
  int openCount() {
    return open.size();
  }

  /** One client's stream: the thread that writes it and when its current write began. */
  private static final class Stream implements ChangeListener {
    volatile Thread thread;
    final Semaphore wake = new Semaphore(0);
    final String client;
    volatile boolean overflowed;
    Subscription subscription; // the stream thread's only
    long writingSince; // guarded by this; 0 when not writing
    boolean cut; // guarded by this

    Stream(String client) {
      this.client = client;
    }

    @Override
    public void onChange(Change change) {
      wake();
    }

    @Override
    public boolean wantsExpiries() {
      return false; // an expiry writes nothing to the log: nothing to send
    }

    /** The node dropped the subscription (its notifier fell behind): subscribe again, read now. */
    @Override
    public void onOverflow() {
      overflowed = true;
      wake();
    }

    void wake() {
      if (wake.availablePermits() == 0) {
        wake.release();
      }
    }
  }

  /**
   * Starts one stream: answers the headers on the calling request thread, then hands the exchange
   * to a stream thread, which closes it when the client goes, is cut off, or the node stops.
   *
   * @param logId the log id the client saw before, or null
   */
  void serve(HttpExchange ex, long since, String logId, byte[] prefix, Duration heartbeat) throws IOException {
    if (closing) {
      throw new HttpError(503, "the node is shutting down", "reconnect to a running node");
    }
    if (!slots.tryAcquire()) {
      ex.getResponseHeaders().set("Retry-After", "1");
      throw new HttpError(
          503,
          MAX_STREAMS + " event streams are already open on this node",
          "retry shortly, or poll with feed=longpoll");
    }
    Stream s = new Stream(String.valueOf(ex.getRemoteAddress()));
    boolean handedOff = false;
    try {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
      ex.getResponseHeaders().set("Cache-Control", "no-cache");
      ex.getResponseHeaders().set("X-Accel-Buffering", "no");
      ex.sendResponseHeaders(200, 0);
      threads.execute(() -> stream(ex, s, since, logId, prefix, heartbeat));
      handedOff = true;
    } finally {
      if (!handedOff) {
        slots.release();
        ex.close();
      }
    }
  }

  private void stream(HttpExchange ex, Stream s, long since, String logId, byte[] prefix, Duration heartbeat) {
    s.thread = Thread.currentThread();
    open.add(s);
    try (ex) {
      s.subscription = node.subscribe(prefix, s);
      OutputStream out = new BufferedOutputStream(new WatchedOutputStream(ex.getResponseBody(), s), 64 * 1024);
      run(s, out, since, logId, prefix, heartbeat);
    } catch (IOException e) {
      if (isCut(s)) {
        cutOff.incrementAndGet();
        log.warn(
            "changes feed: client {} took no bytes for {} ms; disconnected (it resumes with"
                + " Last-Event-ID; limits.httpFeedWriteTimeout)",
            s.client,
            TimeUnit.NANOSECONDS.toMillis(writeTimeoutNanos));
      } else {
        log.debug("changes feed: client {} went away", s.client, e);
      }
    } catch (InterruptedException e) {
      // Cut off between two writes, or the server is stopping: the stream ends.
      log.debug("changes feed to {} interrupted", s.client);
    } catch (RuntimeException e) {
      log.warn("changes feed to {} failed", s.client, e);
    } finally {
      // The thread goes back to the pool: it must not carry the watchdog's interrupt along.
      Thread.interrupted();
      if (s.subscription != null) {
        s.subscription.close();
      }
      open.remove(s);
      slots.release();
    }
  }

  private void run(Stream s, OutputStream out, long since, String logId, byte[] prefix, Duration heartbeat)
      throws IOException, InterruptedException {
    NodeStatus status = node.status();
    long head = status.headSeq();
    long pos = since;
    ObjectNode open = Json.MAPPER.createObjectNode();
    open.put("logId", status.logId());
    open.put("since", since);
    open.put("headSeq", head);
    emit(out, "retry: " + RETRY_MILLIS + "\n");
    event(out, null, "open", open);
    String reason = null;
    if (logId != null && !logId.equals(status.logId())) {
      reason = "the client's log id " + logId + " is not this node's " + status.logId() + ": its data dir was replaced";
    } else if (since > head) {
      reason = "since " + since + " is beyond this node's head seq " + head + ": its data dir was replaced or restored";
    } else {
      reason = ChangesResource.missedDeletes(node, since);
    }
    if (reason != null) {
      // The client's position belongs to another log: from 0 again, so it misses nothing (every
      // key's current version comes once more).
      ObjectNode reset = Json.MAPPER.createObjectNode();
      reset.put("since", since);
      reset.put("headSeq", head);
      reset.put("logId", status.logId());
      reset.put("reason", reason);
      reset.put("fix", "the feed starts again from seq 0; drop what was derived from the old seqs");
      event(out, "0", "reset", reset);
      pos = 0;
    }
    out.flush();
    while (!closing) {
      if (s.overflowed) {
        s.overflowed = false;
        s.subscription.close();
        s.subscription = node.subscribe(prefix, s);
      }
      ChangesResource.Page p = pages.read(pos, ChangesResource.MAX_LIMIT, prefix);
      long lastId = pos;
      for (StoredEntry e : p.results()) {
        event(out, Long.toString(e.seq()), "change", ChangesResource.entry(e));
        lastId = e.seq();
      }
      if (p.next() > lastId) {
        // Entries the prefix filtered out: move the client's resume point past them.
        emit(out, "id: " + p.next() + "\n\n");
      }
      out.flush();
      boolean progressed = p.next() > pos;
      pos = p.next();
      if (progressed && pos < p.head()) {
        continue;
      }
      // Caught up: wait for a commit under the prefix, or send a heartbeat.
      if (!s.wake.tryAcquire(heartbeat.toMillis(), TimeUnit.MILLISECONDS) && !closing) {
        emit(out, ": heartbeat\n\n");
        out.flush();
      }
      s.wake.drainPermits();
    }
    ObjectNode close = Json.MAPPER.createObjectNode();
    close.put("reason", "the node is shutting down");
    close.put("fix", "reconnect with Last-Event-ID to this node when it is back, or to another");
    event(out, null, "close", close);
    out.flush();
  }

  private static void event(OutputStream out, String id, String name, ObjectNode data) throws IOException {
    StringBuilder b = new StringBuilder();
    if (id != null) {
      b.append("id: ").append(id).append('\n');
    }
    b.append("event: ").append(name).append('\n');
    // One line of JSON: Jackson escapes the newlines inside strings.
    b.append("data: ").append(data.toString()).append("\n\n");
    emit(out, b.toString());
  }

  private static void emit(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The response body under the watchdog's eye: each write to the socket (at most {@link #CHUNK}
   * bytes) is timed, so the timeout measures a time without progress, not the time a big page
   * takes on a slow link.
   */
  private final class WatchedOutputStream extends FilterOutputStream {
    static final int CHUNK = 64 * 1024;
    private final Stream s;

    WatchedOutputStream(OutputStream out, Stream s) {
      super(out);
      this.s = s;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      for (int at = off; at < off + len; at += CHUNK) {
        int from = at;
        int n = Math.min(CHUNK, off + len - at);
        watched(() -> out.write(b, from, n));
      }
    }

    @Override
    public void write(int b) throws IOException {
      watched(() -> out.write(b));
    }

    @Override
    public void flush() throws IOException {
      watched(out::flush);
    }

    private void watched(IoAction action) throws IOException {
      synchronized (s) {
        if (s.cut) {
          throw new IOException("cut off");
        }
        s.writingSince = System.nanoTime();
      }
      try {
        action.run();
      } finally {
        synchronized (s) {
          s.writingSince = 0;
        }
      }
      if (isCut(s)) {
        throw new IOException("cut off");
      }
    }
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private static boolean isCut(Stream s) {
    synchronized (s) {
      return s.cut;
    }
  }

  /**
   * Interrupts each write that has been blocked longer than the write timeout: the socket channel
   * under the JDK's server is interruptible, so the interrupt closes the connection.
   */
  private void cutOffStuck() {
    // Runs on a scheduled executor, which would stop for good on an exception: none may escape.
    long now = System.nanoTime();
    for (Stream s : open) {
      synchronized (s) {
        if (s.writingSince != 0 && now - s.writingSince > writeTimeoutNanos && !s.cut) {
          s.cut = true;
          s.thread.interrupt();
        }
      }
    }
  }

  /**
   * Ends every stream with a {@code close} event; later requests are answered 503. The server's
   * stop then waits for the streams to end and closes the connections of those that do not.
   */
  @Override
  public void close() {
    closing = true;
    open.forEach(Stream::wake);
    threads.shutdown();
  }

  /** After the server stopped: interrupts what is left of the streams and the watchdog. */
  void stopThreads() {
    threads.shutdownNow();
    watchdog.shutdownNow();
  }
}
