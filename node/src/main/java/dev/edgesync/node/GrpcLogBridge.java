package dev.edgesync.node;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.logging.Filter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.regex.Pattern;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * grpc-java logs through {@code java.util.logging}: in its own two-line format on stderr, with a
 * stack trace, every few seconds for as long as a peer's name does not resolve. This carries its
 * records into the node program's SLF4J log instead (jul-to-slf4j), in the node's format, as one
 * line each, and at most once per {@link #WINDOW} per cause; the next one says how many were left
 * out. The engine reports the same failures in its own words (rate-limited per peer), so nothing
 * is lost but the repetition.
 */
final class GrpcLogBridge {
  /** How long a cause stays quiet after it was logged. */
  static final Duration WINDOW = Duration.ofMinutes(10);

  /** Longest message kept (the first line of grpc's text). */
  static final int MAX_CHARS = 500;

  // Held: java.util.logging keeps loggers only by weak reference, which would lose the settings.
  private static final Logger GRPC = Logger.getLogger("io.grpc");

  // A stream error (a malformed HTTP/2 frame from the other side) is logged by grpc at WARNING;
  // the engine counts the streams such errors end.
  private static final Logger GRPC_STREAM_ERRORS =
      Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler");

  private GrpcLogBridge() {}

  /** Routes grpc's records at WARNING and above through SLF4J, once per cause; idempotent. */
  static synchronized void install() {
    // At INFO grpc would log a stack trace for every connection that sends garbage or fails its
    // TLS handshake; the engine counts those and logs them rate-limited.
    GRPC.setLevel(Level.WARNING);
    GRPC_STREAM_ERRORS.setLevel(Level.SEVERE);
    for (Handler h : GRPC.getHandlers()) {
      if (h instanceof SLF4JBridgeHandler) {
        return;
      }
    }
    SLF4JBridgeHandler bridge = new Filtered(new OncePerCause(System::nanoTime));
    GRPC.addHandler(bridge);
    GRPC.setUseParentHandlers(false);
  }

  /** The bridge with its filter applied ({@link SLF4JBridgeHandler#publish} does not consult it). */
  private static final class Filtered extends SLF4JBridgeHandler {
    private final Filter filter;

    Filtered(Filter filter) {
      this.filter = filter;
    }

    @Override
    public void publish(LogRecord record) {
      if (record != null && filter.isLoggable(record)) {
        super.publish(record);
      }
    }
  }

  /**
   * Lets a record through when its cause (logger and first line, without channel numbers and the
   * exception's own text) was
   * not logged within {@link #WINDOW}, shortened to that one line; remembers at most 1,000 causes.
   */
  static final class OncePerCause implements Filter {
    private static final Pattern NUMBERED = Pattern.compile("<\\d+>");
    private final LongSupplier nanos;
    private final Cache<String, long[]> seen = Caffeine.newBuilder().maximumSize(1000).build();

    OncePerCause(LongSupplier nanos) {
      this.nanos = nanos;
    }

    @Override
    public boolean isLoggable(LogRecord record) {
      String text = record.getMessage() == null ? "" : new SimpleFormatter().formatMessage(record);
      int newline = text.indexOf('\n');
      String line = (newline < 0 ? text : text.substring(0, newline)).strip();
      if (line.length() > MAX_CHARS) {
        line = line.substring(0, MAX_CHARS) + "...";
      }
      if (record.getThrown() != null && newline < 0) {
        line += " (" + record.getThrown() + ")";
      }
      // The cause's own text varies (the JDK caches a failed lookup with a shorter message).
      int cause = line.indexOf(", cause=");
      String key = record.getLoggerName() + "|" + NUMBERED.matcher(cause < 0 ? line : line.substring(0, cause)).replaceAll("<#>");
      long now = nanos.getAsLong();
      long window = WINDOW.toNanos();
      long[] state = seen.get(key, k -> new long[] {now - window, 0});
      long suppressed;
      synchronized (state) {
        if (now - state[0] < window) {
          state[1]++;
          return false;
        }
        suppressed = state[1];
        state[0] = now;
        state[1] = 0;
      }
      record.setMessage(
          "grpc: " + line
              + (suppressed > 0 ? " (" + suppressed + " more like it since it was last logged)" : "")
              + " [logged at most once per " + WINDOW.toMinutes() + " min]");
      record.setParameters(null);
      if (record.getLevel().intValue() < Level.SEVERE.intValue()) {
        // A SEVERE record (a defect in grpc, not a peer's trouble) keeps its stack trace.
        record.setThrown(null);
      }
      return true;
    }
  }
}
