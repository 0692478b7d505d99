package dev.edgesync.conflict;

import java.time.Instant;

/**
 * Encoding of 64-bit hybrid logical clock timestamps: the upper 48 bits hold wall-clock
 * milliseconds since the epoch, the lower 16 bits a logical counter.
 *
 * <p>48 bits of milliseconds last until the year 10889, so every timestamp is a positive
 * {@code long} and plain signed comparison orders them.
 */
public final class Hlc {
  /** Number of bits of the logical counter. */
  public static final int LOGICAL_BITS = 16;

  /** Largest value of the logical counter. */
  public static final long MAX_LOGICAL = (1L << LOGICAL_BITS) - 1;

  /** Largest representable physical part, in milliseconds. */
  public static final long MAX_PHYSICAL_MILLIS = (1L << (63 - LOGICAL_BITS)) - 1;

  private Hlc() {}

  /** Returns the timestamp made of {@code physicalMillis} and {@code logical}. */
  public static long of(long physicalMillis, long logical) {
    if (physicalMillis < 0 || physicalMillis > MAX_PHYSICAL_MILLIS) {
      throw new IllegalArgumentException(
          "physical time out of range: " + physicalMillis + " ms (expected 0.." + MAX_PHYSICAL_MILLIS + ")");
    }
    if (logical < 0 || logical > MAX_LOGICAL) {
      throw new IllegalArgumentException(
          "logical counter out of range: " + logical + " (expected 0.." + MAX_LOGICAL + ")");
    }
    return (physicalMillis << LOGICAL_BITS) | logical;
  }

  /** Wall-clock milliseconds of a timestamp. */
  public static long physicalMillis(long hlc) {
    return hlc >>> LOGICAL_BITS;
  }

  /** Logical counter of a timestamp. */
  public static long logical(long hlc) {
    return hlc & MAX_LOGICAL;
  }

  /** Human-readable form, for logs and errors: {@code 2026-11-22T10:15:30.123Z#7}. */
  public static String format(long hlc) {
    return Instant.ofEpochMilli(physicalMillis(hlc)) + "#" + logical(hlc);
  }
}
