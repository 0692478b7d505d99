package dev.edgesync.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The lag-over-time chart of a live run as a self-contained SVG: per time bucket (by scheduled
 * send time) the p50, p99 and maximum lag, on a logarithmic millisecond axis, with the targets as
 * dashed lines. Hand-written SVG polylines; no charting library.
 */
final class LagChart {
  private static final int WIDTH = 960;
  private static final int HEIGHT = 420;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 50;
  private static final int BOTTOM = 50;

  /** One bucket: its start in seconds since the run began, and lags in milliseconds. */
  record Bucket(double startSeconds, double p50, double p99, double max) {}

  private LagChart() {}

  /** Buckets of {@code bucketSeconds} over per-entry lags (entry i scheduled at i / rate seconds). */
  static List<Bucket> buckets(int[] lagMicros, int count, long rate, double bucketSeconds) {
    List<Bucket> out = new ArrayList<>();
    int perBucket = (int) Math.max(1, Math.round(rate * bucketSeconds));
    for (int from = 0; from < count; from += perBucket) {
      int to = Math.min(count, from + perBucket);
      int[] slice = java.util.Arrays.copyOfRange(lagMicros, from, to);
      Percentiles p = new Percentiles(slice, slice.length);
      out.add(new Bucket((double) from / rate, p.millis(0.5), p.millis(0.99), p.maxMillis()));
    }
    return out;
  }

  static String svg(String title, String subtitle, List<Bucket> buckets, double[] targetsMillis) {
    double span = buckets.isEmpty() ? 1 : buckets.get(buckets.size() - 1).startSeconds() + (buckets.size() > 1
        ? buckets.get(1).startSeconds() - buckets.get(0).startSeconds() : 1);
    double maxLag = 1;
    for (Bucket b : buckets) {
      maxLag = Math.max(maxLag, b.max());
    }
    for (double t : targetsMillis) {
      maxLag = Math.max(maxLag, t);
    }
    double minLog = -1; // 0.1 ms
    double maxLog = Math.ceil(Math.log10(maxLag * 1.5));
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
        WIDTH, HEIGHT, WIDTH, HEIGHT));
    s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"15\" font-weight=\"bold\">%s</text>%n", LEFT, escape(title)));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"38\" fill=\"#555\">%s</text>%n", LEFT, escape(subtitle)));
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>%n", LEFT, TOP, plotW, plotH));
    for (int e = (int) minLog; e <= maxLog; e++) {
      double y = y(Math.pow(10, e), minLog, maxLog, plotH);
      s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n", LEFT, LEFT + plotW, y, y));
      String label = e < 0 ? "0.1 ms" : e < 3 ? (long) Math.pow(10, e) + " ms" : (long) Math.pow(10, e - 3) + " s";
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT - 6, y + 4, label));
    }
    int ticks = 10;
    for (int i = 0; i <= ticks; i++) {
      double t = span * i / ticks;
      double x = LEFT + plotW * (t / span);
      s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n", x, x, TOP + plotH, TOP + plotH + 5));
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x, TOP + plotH + 18, trim(t)));
    }
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds since the first scheduled write</text>%n", LEFT + plotW / 2, HEIGHT - 10));
    s.append(String.format(Locale.ROOT, "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">lag on B (log scale)</text>%n", TOP + plotH / 2));
    for (double t : targetsMillis) {
      double y = y(t, minLog, maxLog, plotH);
      s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c00\" stroke-dasharray=\"6,4\"/>%n", LEFT, LEFT + plotW, y, y));
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#c00\">target %s ms</text>%n", LEFT + plotW - 4, y - 4, trim(t)));
    }
    String[] colors = {"#1f77b4", "#ff7f0e", "#d62728"};
    String[] names = {"p50", "p99", "max"};
    for (int series = 0; series < 3; series++) {
      s.append("<polyline fill=\"none\" stroke=\"").append(colors[series]).append("\" stroke-width=\"1.5\" points=\"");
      for (Bucket b : buckets) {
        double v = series == 0 ? b.p50() : series == 1 ? b.p99() : b.max();
        double x = LEFT + plotW * (b.startSeconds() / span);
        s.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y(v, minLog, maxLog, plotH)));
      }
      s.append("\"/>\n");
      int lx = LEFT + 10 + series * 80;
      s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>%n", lx, lx + 20, TOP + 14, TOP + 14, colors[series]));
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", lx + 25, TOP + 18, names[series]));
    }
    s.append("</svg>\n");
    return s.toString();
  }

  private static double y(double millis, double minLog, double maxLog, int plotH) {
    double v = Math.log10(Math.max(Math.pow(10, minLog), millis));
    return TOP + plotH - plotH * (v - minLog) / (maxLog - minLog);
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
