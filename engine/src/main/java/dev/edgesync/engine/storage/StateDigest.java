package dev.edgesync.engine.storage;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import dev.edgesync.conflict.Version;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * An order-independent 128-bit digest of a node's state: the sum, modulo 2^64 in each half, of a
 * 128-bit hash of every key's (key, version, value or tombstone). Adding or removing one key's
 * contribution is O(1), so the digest is maintained with every commit; two nodes holding the same
 * state hold the same digest, whatever order their writes arrived in.
 *
 * <p>The per-key hash is part of the wire-visible contract (nodes compare digests), so it is fixed
 * here, in {@link #contribution}: murmur3_128 (seed 0) over the key length (4-byte int), the key,
 * the HLC (8-byte long), the origin's UTF-8 length (4-byte int) and bytes, a flags byte (bit 0: a
 * tombstone, bit 1: the value expires), the expiry HLC (8-byte long, only with bit 1) and the
 * value; {@code high} is the first 8 bytes of the hash read
 * little-endian, {@code low} the next 8.
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

  /** Adds a contribution made by {@link #contribution}. */
  public StateDigest plus(StateDigest contribution) {
    return plus(contribution.high, contribution.low);
  }

  /** Removes a contribution made by {@link #contribution}. */
  public StateDigest minus(StateDigest contribution) {
    return minus(contribution.high, contribution.low);
  }

  /**
   * One key's contribution to the digest: the 128-bit hash of its stored version (see the class
   * comment for the exact layout).
   *
   * @param value the value bytes, empty for a tombstone
   */
  public static StateDigest contribution(byte[] key, Version version, boolean tombstone, byte[] value) {
    return contribution(key, version, tombstone, value, 0);
  }

  /**
   * One key's contribution with the value's expiry ({@code 0}: none).
   *
   * @param value the value bytes, empty for a tombstone
   */
  public static StateDigest contribution(byte[] key, Version version, boolean tombstone, byte[] value, long expiresHlc) {
    byte[] origin = version.origin().getBytes(StandardCharsets.UTF_8);
    Hasher hasher = Hashing.murmur3_128().newHasher();
    hasher.putInt(key.length).putBytes(key);
    hasher.putLong(version.hlc());
    hasher.putInt(origin.length).putBytes(origin);
    hasher.putByte((byte) ((tombstone ? 1 : 0) | (expiresHlc != 0 ? 2 : 0)));
    if (expiresHlc != 0) {
      hasher.putLong(expiresHlc);
    }
    hasher.putBytes(value);
    ByteBuffer hash = ByteBuffer.wrap(hasher.hash().asBytes()).order(ByteOrder.LITTLE_ENDIAN);
    return new StateDigest(hash.getLong(0), hash.getLong(8));
  }

  /** {@link #contribution(byte[], Version, boolean, byte[])} of a stored entry. */
  public static StateDigest contribution(StoredEntry entry) {
    return contribution(entry.key(), entry.version(), entry.tombstone(), entry.value(), entry.expiresHlc());
  }

  /** The wire form: 16 bytes, {@code high} then {@code low}, each big-endian. */
  public byte[] toBytes() {
    return ByteBuffer.allocate(16).putLong(high).putLong(low).array();
  }

  /**
   * Parses {@link #toBytes()}.
   *
   * @throws IllegalArgumentException when {@code bytes} is not 16 bytes long
   */
  public static StateDigest fromBytes(byte[] bytes) {
    if (bytes.length != 16) {
      throw new IllegalArgumentException("a state digest is 16 bytes, got " + bytes.length);
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    return new StateDigest(in.getLong(), in.getLong());
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
