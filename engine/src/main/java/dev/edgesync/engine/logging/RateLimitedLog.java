package dev.edgesync.engine.logging;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * Logs one WARN line per key at most every {@link #INTERVAL_SECONDS} seconds (or another interval), and says with the
 * next line how many of the same kind were dropped in between, so that a flood of refused input
 * cannot fill the disk with the log. The metrics still count every one. Thread-safe.
 */
public final class RateLimitedLog {
  static final long INTERVAL_SECONDS = 10;
  /** Keys tracked at most; beyond it lines are logged without limit rather than state growing. */
  private static final int MAX_KEYS = 1024;

  private final Logger log;
  private final long intervalNanos;
  private final Map<String, long[]> byKey = new ConcurrentHashMap<>();

  public RateLimitedLog(Logger log) {
    this(log, INTERVAL_SECONDS);
  }

  /** One line per key at most every {@code intervalSeconds}. */
  public RateLimitedLog(Logger log, long intervalSeconds) {
    this.log = log;
    this.intervalNanos = TimeUnit.SECONDS.toNanos(intervalSeconds);
  }

  /** Logs {@code message} unless a line of {@code key} was logged in the last interval. */
  public void warn(String key, String message) {
    long now = System.nanoTime();
    long[] state = byKey.size() < MAX_KEYS ? byKey.computeIfAbsent(key, k -> new long[] {now - intervalNanos, 0}) : byKey.get(key);
    if (state == null) {
      log.warn("{}", message);
      return;
    }
    long suppressed;
    synchronized (state) {
      if (now - state[0] < intervalNanos) {
        state[1]++;
        return;
      }
      suppressed = state[1];
      state[0] = now;
      state[1] = 0;
    }
    if (suppressed > 0) {
      log.warn("{} ({} more like it in the last {} s)", message, suppressed, TimeUnit.NANOSECONDS.toSeconds(intervalNanos));
    } else {
      log.warn("{}", message);
    }
  }
}
