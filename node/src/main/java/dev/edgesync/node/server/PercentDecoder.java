package dev.edgesync.node.server;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict percent-decoding of URL parts into the exact bytes they name. {@link
 * java.net.URLDecoder} decodes bytes that are not valid UTF-8 to U+FFFD, so {@code /kv/x%FFy} and
 * {@code /kv/x%FEy} became one key and the second write silently replaced the first. Here every
 * {@code %XX} is one byte, and the bytes must form valid UTF-8, or the part is refused.
 */
final class PercentDecoder {
  private PercentDecoder() {}

  /** Why a part cannot be decoded; the message names the position and the problem. */
  static final class InvalidEncodingException extends Exception {
    InvalidEncodingException(String message) {
      super(message);
    }
  }

  /**
   * The UTF-8 bytes {@code raw} names. {@code plusIsSpace}: {@code +} means a space, as in a
   * form-encoded query; in a path it is a plus.
   */
  static byte[] decode(String raw, boolean plusIsSpace) throws InvalidEncodingException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
    int i = 0;
    while (i < raw.length()) {
      char c = raw.charAt(i);
      if (c == '%') {
        int hi = i + 1 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
        int lo = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 2), 16) : -1;
        if (hi < 0 || lo < 0) {
          throw new InvalidEncodingException(
              "'%' at position " + i + " is not followed by two hex digits (" + excerpt(raw, i) + ")");
        }
        out.write(hi << 4 | lo);
        i += 3;
      } else {
        // A run of literal characters (a client may send non-ASCII ones unencoded): as UTF-8.
        int end = i;
        while (end < raw.length() && raw.charAt(end) != '%') {
          end++;
        }
        String run = raw.substring(i, end);
        if (plusIsSpace) {
          run = run.replace('+', ' ');
        }
        out.writeBytes(run.getBytes(StandardCharsets.UTF_8));
        i = end;
      }
    }
    byte[] bytes = out.toByteArray();
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
    } catch (CharacterCodingException e) {
      throw new InvalidEncodingException("the percent-encoded bytes are not valid UTF-8 (" + e.getMessage() + ")");
    }
    return bytes;
  }

  private static String excerpt(String raw, int at) {
    return "'" + raw.substring(at, Math.min(raw.length(), at + 3)) + "'";
  }
}
