package dev.edgesync.node.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Reads Server-Sent Events (the {@code text/event-stream} format of the HTML standard) from a
 * stream: fields {@code id}, {@code event}, {@code data} (lines joined with a newline) and {@code
 * retry}; comments ({@code :} lines) are skipped; a blank line dispatches. As in the standard, an
 * {@code id} field sets the last event id even when the event has no data, and such an event is
 * not dispatched. Not thread-safe, except {@link #close()}.
 */
public final class EventStreamReader implements AutoCloseable {
  /** Longest line accepted, so a broken server cannot make the reader hold unbounded text. */
  public static final int MAX_LINE_CHARS = 16 * 1024 * 1024;

  /** One dispatched event. */
  public record Event(String id, String name, String data) {}

  private final InputStream raw;
  private final BufferedReader in;
  private String lastEventId;
  private volatile long lastLineNanos = System.nanoTime();
  private int retryMillis = -1;

  public EventStreamReader(InputStream in) {
    this.raw = in;
    this.in = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 64 * 1024);
  }

  /** The id of the last event read (or set by an id-only event), or null. */
  public String lastEventId() {
    return lastEventId;
  }

  /** When the last line (an event's, or a heartbeat comment) arrived, in {@link System#nanoTime()}. */
  public long lastLineNanos() {
    return lastLineNanos;
  }

  /** The reconnect delay the server asked for, or -1. */
  public int retryMillis() {
    return retryMillis;
  }

  /**
   * The next event with data, or null at the end of the stream (an event cut off mid-way is
   * dropped, as the standard says).
   *
   * @throws IOException if reading fails or a line is longer than {@link #MAX_LINE_CHARS}
   */
  public Event next() throws IOException {
    String name = null;
    StringBuilder data = null;
    String id = null;
    boolean idSeen = false;
    String line;
    while ((line = readLine()) != null) {
      if (line.isEmpty()) {
        if (idSeen) {
          lastEventId = id;
        }
        if (data != null) {
          return new Event(lastEventId, name == null ? "message" : name, data.toString());
        }
        name = null;
        idSeen = false;
        continue;
      }
      if (line.charAt(0) == ':') {
        continue;
      }
      int colon = line.indexOf(':');
      String field = colon < 0 ? line : line.substring(0, colon);
      String value = colon < 0 ? "" : line.substring(colon + 1);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      switch (field) {
        case "event" -> name = value;
        case "data" -> {
          if (data == null) {
            data = new StringBuilder(value);
          } else {
            data.append('\n').append(value);
          }
        }
        case "id" -> {
          if (value.indexOf('\0') < 0) {
            id = value;
            idSeen = true;
          }
        }
        case "retry" -> {
          if (!value.isEmpty() && value.chars().allMatch(Character::isDigit) && value.length() < 10) {
            retryMillis = Integer.parseInt(value);
          }
        }
        default -> {
          // Unknown fields are ignored.
        }
      }
    }
    return null;
  }

  private String readLine() throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        lastLineNanos = System.nanoTime();
        return b.toString();
      }
      if (c == '\r') {
        in.mark(1);
        if (in.read() != '\n') {
          in.reset();
        }
        lastLineNanos = System.nanoTime();
        return b.toString();
      }
      if (b.length() >= MAX_LINE_CHARS) {
        throw new IOException("an event-stream line is longer than " + MAX_LINE_CHARS + " characters");
      }
      b.append((char) c);
    }
    return null;
  }

  /**
   * Closes the stream. May be called from another thread while {@link #next()} blocks: it closes
   * the underlying stream directly (not through the buffered reader, whose lock the blocked read
   * holds), which ends that read.
   */
  @Override
  public void close() throws IOException {
    raw.close();
  }
}
