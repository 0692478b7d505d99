package dev.edgesync.engine.replication.wire;

/**
 * Makes text that came from another node safe to put in a log line or an error message: control
 * characters (a newline could forge a log line), DEL and Unicode direction overrides are escaped
 * as {@code \\uXXXX}, and long text is cut, saying how long it was.
 */
public final class Untrusted {
  /** Most characters of untrusted text kept in a message. */
  static final int MAX_CHARS = 128;

  private Untrusted() {}

  /** {@code text}, escaped and cut to {@link #MAX_CHARS}. */
  public static String text(String text) {
    if (text == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder(Math.min(text.length(), MAX_CHARS) + 16);
    int n = Math.min(text.length(), MAX_CHARS);
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
          || c == 0x2028 || c == 0x2029) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (text.length() > MAX_CHARS) {
      b.append("...(").append(text.length()).append(" characters)");
    }
    return b.toString();
  }
}
