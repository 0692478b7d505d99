package dev.edgesync.watermark;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The content of one watermark file: a small, pretty-printed JSON object with the fields {@code
 * peerId}, {@code peerLogId}, {@code peerEpoch}, {@code seq} and {@code updatedAt} (ISO-8601).
 * {@link #parse(byte[])} validates every field and says, in a {@link CorruptFileException}, why a
 * file cannot be used. Stateless and thread-safe (the mapper is configured once and only read).
 */
final class WatermarkFileFormat {

  /**
   * The largest watermark file read, in bytes. A real file is about 150 bytes; anything larger
   * than this is not a watermark and is treated as corrupt rather than read into memory.
   */
  static final int MAX_FILE_BYTES = 64 * 1024;

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private WatermarkFileFormat() {}

  /** Reads at most {@link #MAX_FILE_BYTES} + 1 bytes, so that an oversize file is noticed. */
  static byte[] readBounded(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(MAX_FILE_BYTES + 1);
    }
  }

  /**
   * Parses and validates the content of a watermark file. A file without {@code peerEpoch}
   * (written before epochs existed) reads with an empty epoch.
   *
   * @throws CorruptFileException if the content is not a complete, valid watermark
   */
  static Watermark parse(byte[] content) throws CorruptFileException {
    if (content.length == 0) {
      throw new CorruptFileException("the file is empty");
    }
    if (content.length > MAX_FILE_BYTES) {
      throw new CorruptFileException(
          "the file is larger than " + MAX_FILE_BYTES + " bytes, so it is not a watermark");
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(content);
    } catch (IOException e) {
      // The content is already in memory, so any exception here is about the content itself:
      // truncated JSON, bad UTF-8, or bytes that are not JSON at all.
      throw new CorruptFileException(
          "it is not valid JSON (truncated or overwritten?): " + firstLine(e.getMessage()));
    }
    if (root == null || !root.isObject()) {
      throw new CorruptFileException("it does not hold a JSON object");
    }
    String peerId = textField(root, "peerId");
    if (peerId.isEmpty()) {
      throw new CorruptFileException("its field 'peerId' is empty");
    }
    String peerLogId = textField(root, "peerLogId");
    // Absent in files written before log epochs: an empty epoch makes the peer stream from 0.
    String peerEpoch = Watermark.NO_EPOCH;
    if (root.has("peerEpoch")) {
      peerEpoch = textField(root, "peerEpoch");
    }
    JsonNode seqNode = root.get("seq");
    if (seqNode == null || !seqNode.isIntegralNumber() || !seqNode.canConvertToLong()) {
      throw new CorruptFileException("its field 'seq' is missing or not a whole number");
    }
    long seq = seqNode.longValue();
    if (seq < 0) {
      throw new CorruptFileException("its field 'seq' is negative (" + seq + ")");
    }
    String updatedAtText = textField(root, "updatedAt");
    Instant updatedAt;
    try {
      updatedAt = Instant.parse(updatedAtText);
    } catch (DateTimeParseException e) {
      throw new CorruptFileException(
          "its field 'updatedAt' is not an ISO-8601 instant (" + quote(updatedAtText) + ")");
    }
    return new Watermark(peerId, peerLogId, seq, updatedAt, peerEpoch);
  }

  /** Returns the UTF-8 content of the file that holds {@code watermark}. */
  static byte[] serialize(Watermark watermark) {
    // Fields are written one by one, in a fixed order, so that the file reads naturally and
    // does not depend on Jackson's record support or a java.time module.
    ObjectNode root = MAPPER.createObjectNode();
    root.put("peerId", watermark.peerId());
    root.put("peerLogId", watermark.peerLogId());
    root.put("peerEpoch", watermark.peerEpoch());
    root.put("seq", watermark.seq());
    root.put("updatedAt", watermark.updatedAt().toString());
    try {
      String text = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
      return text.getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      // Serialising a tree of strings and numbers to memory cannot fail.
      throw new IllegalStateException("Cannot serialise watermark " + watermark, e);
    }
  }

  /** Quotes a peer id for a log line, escaping control characters so one id is one line. */
  static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('\'');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('\'').toString();
  }

  private static String textField(JsonNode root, String name) throws CorruptFileException {
    JsonNode node = root.get(name);
    if (node == null || !node.isTextual()) {
      throw new CorruptFileException("its field '" + name + "' is missing or not a string");
    }
    return node.textValue();
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "no detail";
    }
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }

  /** Why a file cannot be used; the message completes "Watermark file X is unusable: ...". */
  static final class CorruptFileException extends Exception {
    private static final long serialVersionUID = 1L;

    CorruptFileException(String reason) {
      super(reason, null, false, false);
    }
  }
}
