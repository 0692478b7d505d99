package dev.edgesync.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * One run of the open-loop writer on A at a fixed rate, with B's lag measured for every entry.
 *
 * <p><b>Writer.</b> Entry {@code i} of the phase is scheduled at {@code t0 + i / rate}. The writer
 * sends, in one bulk {@code POST /kv} to A, every entry whose scheduled time has come and that is
 * not sent yet (at most {@link Workload#bulkMaxEntries()}), waits for the answer, and repeats; it
 * never waits for a slot when it is late, it just sends more at once. So a slow A does not slow
 * the schedule down: the delay shows up in every later entry's lag, which is measured from its
 * scheduled time (no coordinated omission). One request is in flight at a time, so the entries of
 * one request get consecutive seqs on A, ending at the {@code lastSeq} A answers: that is how each
 * entry's seq on A is known. (If the seqs of a request turn out not to be consecutive, every
 * entry of it is given the request's last seq: an over-estimate of its lag, never an
 * under-estimate. The JSON counts such requests.)
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
      long coverWaitNanos)
      throws IOException, InterruptedException {
    int total = (int) Math.min(Integer.MAX_VALUE - 8, rate * durationNanos / 1_000_000_000L);
    long headBefore = a.status().path("headSeq").asLong();
    Poller poller = new Poller(b, aId, pollIntervalNanos);
    Thread pollThread = new Thread(poller, "bench-poller");
    pollThread.setDaemon(true);
    pollThread.start();

    // Per request: first index, count, answer time, last seq.
    long[] reqFirst = new long[1024];
    long[] reqCount = new long[1024];
    long[] reqTime = new long[1024];
    long[] reqLastSeq = new long[1024];
    int reqs = 0;
    int maxBatch = workload.bulkMaxEntries();
    Result r = new Result();
    r.rate = rate;
    r.entries = total;
    long t0 = System.nanoTime() + 20_000_000L;
    long sent = 0;
    long lastAnswer = t0;
    long lastSeq = headBefore;
    try {
      while (sent < total) {
        long now = System.nanoTime();
        long due = now < t0 ? 0 : Math.min(total, (now - t0) * rate / 1_000_000_000L + 1);
        if (due <= sent) {
          LockSupport.parkNanos(scheduled(t0, sent, rate) - now);
          continue;
        }
        long to = Math.min(due, sent + maxBatch);
        byte[] body = workload.bulkBody("k", firstIndex + sent, firstIndex + to);
        HttpConnection.Response resp = a.http().post("/kv", body);
        long answered = System.nanoTime();
        JsonNode json = NodeProcess.json(resp, "POST /kv to " + a.id);
        long committed = json.path("committed").asLong();
        if (committed != to - sent) {
          throw new IOException("A committed " + committed + " of " + (to - sent) + " entries: " + resp.text());
        }
        if (reqs == reqFirst.length) {
          reqFirst = Arrays.copyOf(reqFirst, reqs * 2);
          reqCount = Arrays.copyOf(reqCount, reqs * 2);
          reqTime = Arrays.copyOf(reqTime, reqs * 2);
          reqLastSeq = Arrays.copyOf(reqLastSeq, reqs * 2);
        }
        reqFirst[reqs] = sent;
        reqCount[reqs] = to - sent;
        reqTime[reqs] = answered;
        reqLastSeq[reqs] = json.path("lastSeq").asLong();
        lastSeq = reqLastSeq[reqs];
        reqs++;
        sent = to;
        lastAnswer = answered;
      }
    } catch (IOException | RuntimeException e) {
      r.error = "writing to A failed after " + sent + " of " + total + " entries: " + e.getMessage();
    }
    r.committed = sent;
    r.seconds = (lastAnswer - t0) / 1e9;
    r.achievedRate = r.seconds > 0 ? sent / r.seconds : 0;
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

    // Entry -> seq on A -> first poll answer whose watermark covers it.
    int n = (int) sent;
    r.lagMicros = new int[n];
    r.writeMicros = new int[n];
    int p = 0;
    long prevLast = headBefore;
    for (int q = 0; q < reqs; q++) {
      boolean exact = reqLastSeq[q] - prevLast == reqCount[q];
      if (!exact) {
        r.inexactRequests++;
      }
      prevLast = reqLastSeq[q];
      for (long j = 0; j < reqCount[q]; j++) {
        int i = (int) (reqFirst[q] + j);
        long seq = exact ? reqLastSeq[q] - (reqCount[q] - 1 - j) : reqLastSeq[q];
        long sched = scheduled(t0, i, rate);
        while (p < poller.count && poller.watermarks[p] < seq) {
          p++;
        }
        long covered;
        if (p < poller.count) {
          covered = poller.times[p];
        } else {
          covered = measuredEnd;
          r.uncovered++;
        }
        r.lagMicros[i] = (int) Math.min(Integer.MAX_VALUE, (covered - sched) / 1000);
        r.writeMicros[i] = (int) Math.min(Integer.MAX_VALUE, (reqTime[q] - sched) / 1000);
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
