package dev.edgesync.discovery;

import java.util.Objects;

/**
 * A configuration value is wrong. Thrown for every configuration error, whatever its source, so
 * that a program can report it in one place (the node prints {@link #getMessage()} and exits with
 * code 2).
 *
 * <p>The message is always one line of the form
 *
 * <pre>{@code <source>: <field>: <problem> (got '<value>'); expected <expected>}</pre>
 *
 * <p>for example {@code file /etc/edgesync/site-a.yaml: peers[2].address: port is not a number
 * (got 'host:74OO'); expected host:port or [ipv6]:port with port 1-65535}. Line breaks and other
 * control characters in the parts are escaped and a long value is shortened, so one error is
 * always one line of a log.
 *
 * <p>The parts are:
 *
 * <ul>
 *   <li>{@code source}: where the value came from, e.g. {@code "file /etc/edgesync/site-a.yaml"},
 *       {@code "environment variable EDGESYNC_PEERS"}, {@code "flag --peers"}, {@code "API"};
 *   <li>{@code field}: the path of the value inside that source, e.g. {@code "peers[2].address"}
 *       (list indexes count from 0), or {@code "line 3, column 7"} for a syntax error;
 *   <li>{@code value}: the offending text as given, or null when the value is missing;
 *   <li>{@code problem}: what is wrong with it;
 *   <li>{@code expected}: what would be accepted, ideally with an example.
 * </ul>
 */
public final class ConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Values longer than this are shortened in the message; {@link #getValue()} keeps them. */
  static final int MAX_VALUE_CHARS = 120;

  private final String source;
  private final String field;
  private final String value;
  private final String problem;
  private final String expected;

  /**
   * Creates an exception for one wrong configuration value.
   *
   * @param source where the configuration came from
   * @param field the path of the value inside the source
   * @param value the value as given, or null if it is missing
   * @param problem what is wrong, as a phrase that starts in lower case
   * @param expected what would be accepted
   */
  public ConfigException(
      String source, String field, String value, String problem, String expected) {
    this(source, field, value, problem, expected, null);
  }

  /**
   * Creates an exception for one wrong configuration value, keeping the low-level cause (for
   * example a parser's exception) for the stack trace.
   *
   * @param source where the configuration came from
   * @param field the path of the value inside the source
   * @param value the value as given, or null if it is missing
   * @param problem what is wrong, as a phrase that starts in lower case
   * @param expected what would be accepted
   * @param cause the underlying exception, or null
   */
  public ConfigException(
      String source,
      String field,
      String value,
      String problem,
      String expected,
      Throwable cause) {
    super(format(source, field, value, problem, expected), cause);
    this.source = Objects.requireNonNull(source, "source");
    this.field = Objects.requireNonNull(field, "field");
    this.value = value;
    this.problem = Objects.requireNonNull(problem, "problem");
    this.expected = Objects.requireNonNull(expected, "expected");
  }

  /** Returns where the configuration came from, e.g. {@code "file /etc/edgesync/a.yaml"}. */
  public String getSource() {
    return source;
  }

  /** Returns the path of the wrong value inside its source, e.g. {@code "peers[2].address"}. */
  public String getField() {
    return field;
  }

  /** Returns the wrong value as given, unshortened, or null if the value is missing. */
  public String getValue() {
    return value;
  }

  /** Returns what is wrong with the value. */
  public String getProblem() {
    return problem;
  }

  /** Returns what would have been accepted. */
  public String getExpected() {
    return expected;
  }

  private static String format(
      String source, String field, String value, String problem, String expected) {
    String got = value == null ? "got nothing" : "got '" + shorten(oneLine(value)) + "'";
    return oneLine(source)
        + ": "
        + oneLine(field)
        + ": "
        + oneLine(problem)
        + " ("
        + got
        + "); expected "
        + oneLine(expected);
  }

  /** Escapes control characters so that the text cannot break the message into lines. */
  static String oneLine(String text) {
    if (text == null) {
      return "null";
    }
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      String replacement = null;
      if (c == '\n') {
        replacement = "\\n";
      } else if (c == '\r') {
        replacement = "\\r";
      } else if (c == '\t') {
        replacement = "\\t";
      } else if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
        replacement = String.format("\\u%04x", (int) c);
      }
      if (replacement != null && out == null) {
        out = new StringBuilder(text.length() + 8).append(text, 0, i);
      }
      if (out != null) {
        if (replacement != null) {
          out.append(replacement);
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? text : out.toString();
  }

  private static String shorten(String text) {
    if (text.length() <= MAX_VALUE_CHARS) {
      return text;
    }
    int end = MAX_VALUE_CHARS;
    // Never cut a character outside the basic plane in half.
    if (Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end) + "... (" + text.length() + " characters)";
  }
}
