package dev.edgesync.engine.storage;

/**
 * An order-independent 128-bit digest of a node's state: the sum, modulo 2^64 in each half, of a
 * 128-bit hash of every key's (key, version, value or tombstone). Adding or removing one key's
 * contribution is O(1), so the digest is maintained with every commit; two nodes holding the same
 * state hold the same digest, whatever order their writes arrived in.
 */
public record StateDigest(long high, long low) {
  /** The digest of the empty state. */
  public static final StateDigest EMPTY = new StateDigest(0, 0);

  /** Adds a contribution. */
  public StateDigest plus(long h, long l) {
    return new StateDigest(high + h, low + l);
  }

  /** Removes a contribution. */
  public StateDigest minus(long h, long l) {
    return new StateDigest(high - h, low - l);
  }

  /** 32 hex digits. */
  public String toHex() {
    return String.format("%016x%016x", high, low);
  }

  /** Parses {@link #toHex()}. */
  public static StateDigest fromHex(String hex) {
    if (hex.length() != 32) {
      throw new IllegalArgumentException("digest must be 32 hex digits, got '" + hex + "'");
    }
    return new StateDigest(
        Long.parseUnsignedLong(hex.substring(0, 16), 16), Long.parseUnsignedLong(hex.substring(16), 16));
  }

  @Override
  public String toString() {
    return toHex();
  }
}
