package dev.edgesync.node.server;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * Keys as the HTTP API takes them: UTF-8 text percent-encoded in a path or a query, or any bytes
 * as base64 ({@code /kv64/{base64}}, {@code keyBase64}, {@code prefixBase64}, {@code
 * afterBase64}), the form in which the API shows a key that is not UTF-8.
 */
final class Keys {
  private Keys() {}

  static final String BASE64_FIX =
      "base64 of the key's bytes (RFC 4648, standard or URL-safe alphabet, padding optional), e.g."
          + " AP8 for the bytes 00 FF";

  /** The bytes of a base64 text; standard or URL-safe alphabet, with or without padding. */
  static byte[] fromBase64(String text, String what) {
    // In a query, a '+' not percent-encoded arrives as a space.
    String t = text.replace(' ', '+').replace('-', '+').replace('_', '/');
    int pad = (4 - t.length() % 4) % 4;
    if (pad == 3 || t.indexOf('=') >= 0 && pad != 0) {
      throw new HttpError(400, what + " '" + text + "' is not base64", BASE64_FIX);
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(t + "==".substring(0, pad));
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, what + " '" + text + "' is not base64: " + e.getMessage(), BASE64_FIX);
    }
    // Canonical only (unused low bits zero, as every encoder writes them): one key, one text.
    String canonical = Base64.getEncoder().withoutPadding().encodeToString(bytes);
    if (!canonical.equals(t.endsWith("=") ? t.substring(0, t.indexOf('=')) : t)) {
      throw new HttpError(400, what + " '" + text + "' is not canonical base64 (its last character has bits set that encode nothing)", BASE64_FIX);
    }
    return bytes;
  }

  /**
   * The bytes of query parameter {@code name} given as text ({@code name}) or as base64 ({@code
   * nameBase64}); null when neither is there; both is a 400.
   */
  static byte[] param(Map<String, String> q, String name) {
    String text = q.get(name);
    String b64 = q.get(name + "Base64");
    if (text != null && b64 != null) {
      throw new HttpError(400, name + " and " + name + "Base64 given together", "send one of them");
    }
    if (b64 != null) {
      return fromBase64(b64, name + "Base64");
    }
    return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The UTF-8 bytes of a JSON string, refusing one with an unpaired surrogate ({@code "\\ud800"}),
   * which UTF-8 cannot hold and {@link String#getBytes} would turn into {@code ?}.
   */
  static byte[] utf8(String text, String what) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new HttpError(
            400,
            what + " holds an unpaired surrogate (\\u" + Integer.toHexString(c) + " at " + i + "), which is not text",
            "send valid Unicode text, or the bytes as base64 (keyBase64 / valueBase64)");
      }
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** The key as a person reads it in an error: its text, or {@code base64:...} when not UTF-8. */
  static String display(byte[] key) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(key))
          .toString();
    } catch (CharacterCodingException e) {
      return "base64:" + Base64.getEncoder().encodeToString(key);
    }
  }
}
