package dev.edgesync.node.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the durations of the configuration: ISO-8601 ({@code PT5S}) or a whole number with a unit
 * ({@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d}).
 */
public final class Durations {

  /** What a duration looks like, for error messages. */
  public static final String FORMAT = "a duration such as 500ms, 5s, 2m, 1h or ISO-8601 PT5S";

  private static final Pattern SHORT = Pattern.compile("([+-]?)(\\d{1,12})(ms|s|m|h|d)");

  private Durations() {}

  /**
   * Parses {@code text}.
   *
   * @return the duration, or null if the text is not a duration (the caller reports it with its own
   *     source and key)
   */
  public static Duration parseOrNull(String text) {
    if (text == null) {
      return null;
    }
    String s = text.strip().toLowerCase(Locale.ROOT);
    Matcher m = SHORT.matcher(s);
    if (m.matches()) {
      long n = Long.parseLong(m.group(2));
      if (m.group(1).equals("-")) {
        n = -n;
      }
      return switch (m.group(3)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    try {
      return Duration.parse(text.strip());
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** Formats a duration the short way when it is a whole number of a unit: {@code 5s}. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (!d.equals(Duration.ofMillis(ms))) {
      return d.toString();
    }
    if (ms != 0 && ms % 86_400_000L == 0) {
      return ms / 86_400_000L + "d";
    }
    if (ms != 0 && ms % 3_600_000L == 0) {
      return ms / 3_600_000L + "h";
    }
    if (ms != 0 && ms % 60_000L == 0) {
      return ms / 60_000L + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
