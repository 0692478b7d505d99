package dev.edgesync.watermark;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Maps peer ids to file names inside {@code .watermarks/} so that no id, however hostile, can
 * name a path outside that directory.
 *
 * <p>Three forms exist, and their first characters keep them apart:
 *
 * <ul>
 *   <li>an id of 1 to 64 characters from {@code [A-Za-z0-9._-]} that does not start with a dot is
 *       used as it is: {@code site-b.json}, so the common case stays readable;
 *   <li>any other id of at most {@value #MAX_ENCODED_ID_BYTES} UTF-8 bytes becomes {@code ~}
 *       followed by the lower-case, unpadded base32 of its UTF-8 bytes: the base32 alphabet has
 *       no separator, no dot and no upper case, so the name is safe on every file system,
 *       including case-insensitive ones;
 *   <li>a longer id becomes {@code ~~} followed by the base32 of its SHA-256, because file names
 *       are limited to 255 bytes on common file systems. The file still records the full id,
 *       which the store checks on every read.
 * </ul>
 *
 * <p>Names that start with a dot are never produced, which leaves that space to temporary files.
 */
final class WatermarkFileNames {

  /** The suffix of every watermark file. */
  static final String SUFFIX = ".json";

  /** The prefix of temporary files: never the first character of a watermark file name. */
  static final String TEMP_PREFIX = ".";

  /** The suffix of temporary files, so leftovers from a crash can be recognised and removed. */
  static final String TEMP_SUFFIX = ".tmp";

  /**
   * The longest id, in UTF-8 bytes, that is base32-encoded whole; 100 bytes give a 166-character
   * file name, well under the usual 255-byte limit.
   */
  static final int MAX_ENCODED_ID_BYTES = 100;

  private static final Pattern PLAIN_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final String BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
  private static final char[] BASE32 = BASE32_ALPHABET.toCharArray();

  private WatermarkFileNames() {}

  /**
   * Returns the file name that holds the watermark of {@code peerId}.
   *
   * @throws IllegalArgumentException if {@code peerId} is empty
   */
  static String fileNameFor(String peerId) {
    if (peerId.isEmpty()) {
      throw new IllegalArgumentException("peer id must not be empty");
    }
    if (PLAIN_ID.matcher(peerId).matches() && peerId.charAt(0) != '.') {
      return peerId + SUFFIX;
    }
    byte[] utf8 = peerId.getBytes(StandardCharsets.UTF_8);
    if (utf8.length <= MAX_ENCODED_ID_BYTES) {
      return "~" + base32(utf8) + SUFFIX;
    }
    return "~~" + base32(sha256(utf8)) + SUFFIX;
  }

  /** Returns true if {@code fileName} has the shape of a watermark file (not a temp file). */
  static boolean isWatermarkFile(String fileName) {
    return fileName.endsWith(SUFFIX)
        && fileName.length() > SUFFIX.length()
        && !fileName.startsWith(TEMP_PREFIX);
  }

  /** Returns true if {@code fileName} is a temporary file written by this store. */
  static boolean isTempFile(String fileName) {
    return fileName.startsWith(TEMP_PREFIX) && fileName.endsWith(TEMP_SUFFIX);
  }

  /**
   * Returns the peer id a watermark file name stands for, or empty if the name does not say (a
   * hashed name, or one this class cannot have produced). Used only to name the peer in a warning
   * about a file whose content is unreadable.
   */
  static Optional<String> peerIdOf(String fileName) {
    if (!isWatermarkFile(fileName)) {
      return Optional.empty();
    }
    String base = fileName.substring(0, fileName.length() - SUFFIX.length());
    if (base.startsWith("~~")) {
      return Optional.empty();
    }
    if (base.startsWith("~")) {
      return decodeBase32(base.substring(1))
          .map(bytes -> new String(bytes, StandardCharsets.UTF_8));
    }
    return Optional.of(base);
  }

  private static Optional<byte[]> decodeBase32(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length() * 5 / 8);
    int buffer = 0;
    int bits = 0;
    for (int i = 0; i < text.length(); i++) {
      int value = BASE32_ALPHABET.indexOf(text.charAt(i));
      if (value < 0) {
        return Optional.empty();
      }
      buffer = (buffer << 5) | value;
      bits += 5;
      if (bits >= 8) {
        out.write((buffer >>> (bits - 8)) & 0xff);
        bits -= 8;
      }
    }
    return Optional.of(out.toByteArray());
  }

  private static String base32(byte[] bytes) {
    StringBuilder out = new StringBuilder((bytes.length * 8 + 4) / 5);
    int buffer = 0;
    int bits = 0;
    for (byte b : bytes) {
      buffer = (buffer << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5) {
        out.append(BASE32[(buffer >>> (bits - 5)) & 0x1f]);
        bits -= 5;
      }
    }
    if (bits > 0) {
      out.append(BASE32[(buffer << (5 - bits)) & 0x1f]);
    }
    return out.toString();
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform is required to provide SHA-256, so this cannot happen.
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
