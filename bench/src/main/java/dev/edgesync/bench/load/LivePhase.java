package dev.edgesync.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * One run of the open-loop writer on A at a fixed rate, with B's lag measured for every entry.
 *
 * <p><b>Writer.</b> Entry {@code i} of the phase is scheduled at {@code t0 + i / rate}. A writer
 * thread sends, in one bulk {@code POST /kv} to A, every entry whose scheduled time has come and
 * that no request has taken yet (at most {@link Workload#bulkMaxEntries()}), waits for the answer,
 * and repeats; it never waits for a slot when it is late, it just sends more at once. So a slow A
 * does not slow the schedule down: the delay shows up in every later entry's lag, which is
 * measured from its scheduled time (no coordinated omission). With one connection (the default)
 * one request is in flight at a time, so the entries of one request get consecutive seqs on A,
 * ending at the {@code lastSeq} A answers: that is how each entry's seq on A is known. With
 * {@code --connections N} requests overlap and their seqs interleave; every entry is then given
 * its request's last seq, an over-estimate of its lag by at most its request's own commit time,
 * never an under-estimate (as for any request whose seqs turn out not to be consecutive; the
 * JSON counts such requests).
 *
 * <p><b>Poller.</b> Another thread asks B for {@code GET /status} every {@code pollInterval} on its
 * own keep-alive connection and notes the time each answer arrived whenever B's watermark for A
 * (the highest seq of A's log that B has committed) went up. The lag of an entry is the arrival
 * time of the first answer whose watermark covers the entry's seq, minus the entry's scheduled
 * send time: one machine, one monotonic clock (this JVM's {@code System.nanoTime}). It is an
 * upper bound that over-states the true lag by at most one poll gap plus one status round trip;
 * the JSON reports the gaps measured.
 */
final class LivePhase {
  private LivePhase() {}

  /** Everything measured in one phase. */
  static final class Result {
    long rate;
    double seconds;
    long entries;
    long committed;
    double achievedRate;
    int[] lagMicros;
    int[] writeMicros;
    int measured;
    long uncovered;
    long inexactRequests;
    long requests;
    Percentiles lag;
    Percentiles write;
    Percentiles pollGap;
    long polls;
    String error;
    boolean keptUp;
    String verdict;
    com.fasterxml.jackson.databind.node.ObjectNode cpu;

    double lagMillis(double q) {
      return lag == null ? Double.NaN : lag.millis(q);
    }
  }

  /**
   * Runs one phase.
   *
   * @param firstIndex index of the phase's first key (keys stay unique across phases)
   * @param coverWaitNanos how long after the last write B may take to cover everything
   * @param connections bulk requests in flight at once (1: each entry's seq on A is exact)
   */
  static Result run(
      NodeProcess a,
      NodeProcess b,
      String aId,
      Workload workload,
      long rate,
      long durationNanos,
      long firstIndex,
      long pollIntervalNanos,
      long coverWaitNanos,
      int connections)
      throws IOException, InterruptedException {
    int total = (int) Math.min(Integer.MAX_VALUE - 8, rate * durationNanos / 1_000_000_000L);
    long headBefore = a.status().path("headSeq").asLong();
    Poller poller = new Poller(b, aId, pollIntervalNanos);
    Thread pollThread = new Thread(poller, "bench-poller");
    pollThread.setDaemon(true);
    pollThread.start();

    Result r = new Result();
    r.rate = rate;
    r.entries = total;
    long t0 = System.nanoTime() + 20_000_000L;
    Writers w = new Writers(a, workload, rate, total, firstIndex, t0, connections);
    w.run();
    if (w.error != null) {
      r.error = "writing to A failed after " + w.committed + " of " + total + " entries: " + w.error;
    }
    int reqs = w.count;
    // Sort the requests by their first entry (with several connections they finish out of order).
    Integer[] order = new Integer[reqs];
    for (int q = 0; q < reqs; q++) {
      order[q] = q;
    }
    Arrays.sort(order, (x, y) -> Long.compare(w.first[x], w.first[y]));
    long lastSeq = headBefore;
    long lastAnswer = t0;
    long committed = 0;
    for (int q = 0; q < reqs; q++) {
      lastSeq = Math.max(lastSeq, w.lastSeq[q]);
      lastAnswer = Math.max(lastAnswer, w.time[q]);
      committed += w.countOf[q];
    }
    r.committed = committed;
    r.seconds = (lastAnswer - t0) / 1e9;
    r.achievedRate = r.seconds > 0 ? committed / r.seconds : 0;
    r.requests = reqs;

    poller.target = lastSeq;
    long coverDeadline = System.nanoTime() + coverWaitNanos;
    while (pollThread.isAlive() && System.nanoTime() < coverDeadline) {
      pollThread.join(50);
    }
    poller.stop = true;
    pollThread.join(10_000);
    long measuredEnd = System.nanoTime();
    if (poller.error != null && r.error == null) {
      r.error = "polling B failed: " + poller.error;
    }

    // Entry -> seq on A -> first poll answer whose watermark covers it. Entries of requests that
    // failed were never written and are left out.
    int n = (int) committed;
    r.lagMicros = new int[n];
    r.writeMicros = new int[n];
    long prevLast = headBefore;
    int i = 0;
    for (int k = 0; k < reqs; k++) {
      int q = order[k];
      boolean exact = connections == 1 && w.lastSeq[q] - prevLast == w.countOf[q];
      if (!exact) {
        r.inexactRequests++;
      }
      prevLast = w.lastSeq[q];
      for (long j = 0; j < w.countOf[q]; j++, i++) {
        long seq = exact ? w.lastSeq[q] - (w.countOf[q] - 1 - j) : w.lastSeq[q];
        long sched = scheduled(t0, w.first[q] + j, rate);
        int p = firstCovering(poller.watermarks, poller.count, seq);
        long covered;
        if (p < poller.count) {
          covered = poller.times[p];
        } else {
          covered = measuredEnd;
          r.uncovered++;
        }
        r.lagMicros[i] = (int) Math.min(Integer.MAX_VALUE, (covered - sched) / 1000);
        r.writeMicros[i] = (int) Math.min(Integer.MAX_VALUE, (w.time[q] - sched) / 1000);
      }
    }
    r.measured = n;
    r.lag = new Percentiles(r.lagMicros, n);
    r.write = new Percentiles(r.writeMicros, n);
    r.pollGap = new Percentiles(poller.gaps, poller.gapCount);
    r.polls = poller.gapCount + 1L;
    return r;
  }

  static long scheduled(long t0, long i, long rate) {
    return t0 + i * 1_000_000_000L / rate;
  }

  /** Index of the first of {@code count} rising watermarks that is at least {@code seq}, or count. */
  static int firstCovering(long[] watermarks, int count, long seq) {
    int lo = 0;
    int hi = count;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (watermarks[mid] < seq) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * The open-loop writer: {@code connections} threads, each with its own keep-alive connection to
   * A, take the next range of due entries in schedule order and send it as one bulk request.
   */
  private static final class Writers {
    private final NodeProcess a;
    private final Workload workload;
    private final long rate;
    private final long total;
    private final long firstIndex;
    private final long t0;
    private final int connections;
    private final int maxBatch;
    private long sent; // guarded by this
    long committed; // guarded by this
    String error; // guarded by this
    // Per request, guarded by this: first entry (phase index), count, answer time, A's last seq.
    long[] first = new long[1024];
    long[] countOf = new long[1024];
    long[] time = new long[1024];
    long[] lastSeq = new long[1024];
    int count;

    Writers(NodeProcess a, Workload workload, long rate, long total, long firstIndex, long t0, int connections) {
      this.a = a;
      this.workload = workload;
      this.rate = rate;
      this.total = total;
      this.firstIndex = firstIndex;
      this.t0 = t0;
      this.connections = connections;
      this.maxBatch = workload.bulkMaxEntries();
    }

    void run() throws InterruptedException {
      Thread[] threads = new Thread[connections];
      for (int c = 0; c < connections; c++) {
        threads[c] = new Thread(this::write, "bench-writer-" + c);
        threads[c].setDaemon(true);
        threads[c].start();
      }
      for (Thread t : threads) {
        t.join();
      }
    }

    private void write() {
      try (HttpConnection http = new HttpConnection(a.http, 120_000)) {
        while (true) {
          long from;
          long to;
          long wait = 0;
          synchronized (this) {
            if (sent >= total || error != null) {
              return;
            }
            long now = System.nanoTime();
            long due = now < t0 ? 0 : Math.min(total, (now - t0) * rate / 1_000_000_000L + 1);
            from = sent;
            to = Math.min(due, sent + maxBatch);
            if (to <= from) {
              wait = scheduled(t0, sent, rate) - now;
            } else {
              sent = to;
            }
          }
          if (wait > 0 || to <= from) {
            LockSupport.parkNanos(Math.max(wait, 1000));
            continue;
          }
          try {
            HttpConnection.Response resp = http.post("/kv", workload.bulkBody("k", firstIndex + from, firstIndex + to));
            long answered = System.nanoTime();
            JsonNode json = NodeProcess.json(resp, "POST /kv to " + a.id);
            if (json.path("committed").asLong() != to - from) {
              throw new IOException("A committed " + json.path("committed") + " of " + (to - from) + " entries: " + resp.text());
            }
            record(from, to - from, answered, json.path("lastSeq").asLong());
          } catch (IOException | RuntimeException e) {
            synchronized (this) {
              if (error == null) {
                error = e.getMessage();
              }
            }
            return;
          }
        }
      }
    }

    private synchronized void record(long from, long n, long answered, long last) {
      if (count == first.length) {
        first = Arrays.copyOf(first, count * 2);
        countOf = Arrays.copyOf(countOf, count * 2);
        time = Arrays.copyOf(time, count * 2);
        lastSeq = Arrays.copyOf(lastSeq, count * 2);
      }
      first[count] = from;
      countOf[count] = n;
      time[count] = answered;
      lastSeq[count] = last;
      count++;
      committed += n;
    }
  }

  /** Polls B's watermark for A; records (answer time, watermark) whenever it rises. */
  private static final class Poller implements Runnable {
    private final HttpConnection connection;
    private final String aId;
    private final long intervalNanos;
    volatile long target = Long.MAX_VALUE;
    volatile boolean stop;
    volatile String error;
    long[] times = new long[4096];
    long[] watermarks = new long[4096];
    volatile int count;
    int[] gaps = new int[4096];
    int gapCount;

    Poller(NodeProcess b, String aId, long intervalNanos) {
      this.connection = new HttpConnection(b.http, 30_000);
      this.aId = aId;
      this.intervalNanos = intervalNanos;
    }

    @Override
    public void run() {
      long last = -1;
      long prevAnswer = 0;
      try {
        while (!stop) {
          long sentAt = System.nanoTime();
          JsonNode status = NodeProcess.json(connection.get("/status"), "GET /status");
          long answered = System.nanoTime();
          JsonNode peer = NodeProcess.peer(status, aId);
          long wm = peer == null ? -1 : peer.path("watermark").asLong();
          if (prevAnswer != 0) {
            if (gapCount == gaps.length) {
              gaps = Arrays.copyOf(gaps, gapCount * 2);
            }
            gaps[gapCount++] = (int) Math.min(Integer.MAX_VALUE, (answered - prevAnswer) / 1000);
          }
          prevAnswer = answered;
          if (wm > last) {
            int c = count;
            if (c == times.length) {
              times = Arrays.copyOf(times, c * 2);
              watermarks = Arrays.copyOf(watermarks, c * 2);
            }
            times[c] = answered;
            watermarks[c] = wm;
            count = c + 1;
            last = wm;
          }
          if (last >= target) {
            return;
          }
          long next = sentAt + intervalNanos - System.nanoTime();
          if (next > 0) {
            LockSupport.parkNanos(next);
          }
        }
      } catch (IOException | RuntimeException e) {
        error = e.toString();
      } finally {
        connection.close();
      }
    }
  }
}
