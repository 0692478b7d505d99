package dev.edgesync.bench.load;

import java.util.Arrays;

/**
 * Percentiles of a set of latencies in microseconds, by sorting a copy: exact, and cheap enough
 * for the few million samples of a run (no HdrHistogram needed).
 */
final class Percentiles {
  private final int[] sorted;

  Percentiles(int[] micros, int count) {
    this.sorted = Arrays.copyOf(micros, count);
    Arrays.sort(sorted);
  }

  int count() {
    return sorted.length;
  }

  /** The {@code q}-quantile (0 < q <= 1) in milliseconds: the smallest value with at least q of all at or below it. */
  double millis(double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1000.0;
  }

  double maxMillis() {
    return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1000.0;
  }

  double meanMillis() {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    long sum = 0;
    for (int v : sorted) {
      sum += v;
    }
    return sum / 1000.0 / sorted.length;
  }

  /** Rounds to 3 decimals for the JSON. */
  static double round(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? v : Math.round(v * 1000.0) / 1000.0;
  }
}
