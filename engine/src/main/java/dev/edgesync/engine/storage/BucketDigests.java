package dev.edgesync.engine.storage;

import com.google.common.hash.Hashing;
import java.nio.ByteBuffer;
import java.util.BitSet;

/**
 * The state digest cut into {@code 2^bits} buckets by a hash of the key: the first level of
 * anti-entropy's comparison (a flat Merkle tree, as Cassandra and Riak cut the key space by token).
 *
 * <p>A key's bucket is the top {@code bits} bits of murmur3_32 (seed 0) of its bytes, so two nodes
 * put every key in the same bucket whatever its version. A bucket's digest is the {@link
 * StateDigest} sum of the contributions of the state rows (tombstones included) whose keys fall in
 * it, so the sum of all buckets is the node's state digest and one sequential scan of the state
 * table fills every bucket. The wire layout ({@link #toBytes}) is fixed by {@code RepairRequest} in
 * the {@code .proto}.
 *
 * <p>Not thread-safe: one scan fills one instance.
 */
public final class BucketDigests {
  /** Fewest bucket bits a peer may ask for. */
  public static final int MIN_BITS = 4;
  /** Most bucket bits a peer may ask for: 65,536 buckets, 1 MiB on the wire. */
  public static final int MAX_BITS = 16;
  /** Bytes of one bucket's digest on the wire. */
  public static final int DIGEST_BYTES = 16;

  private final int bits;
  private final long[] high;
  private final long[] low;

  /** Empty buckets (every digest {@link StateDigest#EMPTY}). */
  public BucketDigests(int bits) {
    checkBits(bits);
    this.bits = bits;
    this.high = new long[1 << bits];
    this.low = new long[1 << bits];
  }

  /** Throws naming the valid range unless {@code MIN_BITS <= bits <= MAX_BITS}. */
  public static void checkBits(int bits) {
    if (bits < MIN_BITS || bits > MAX_BITS) {
      throw new IllegalArgumentException(
          "bucket bits must be between " + MIN_BITS + " and " + MAX_BITS + ", got " + bits);
    }
  }

  /** The bucket of {@code key} among {@code 2^bits}. */
  public static int bucketOf(byte[] key, int bits) {
    return Hashing.murmur3_32_fixed().hashBytes(key).asInt() >>> (32 - bits);
  }

  /** The number of bucket bits. */
  public int bits() {
    return bits;
  }

  /** The number of buckets, {@code 2^bits}. */
  public int size() {
    return high.length;
  }

  /** Adds a stored entry's digest contribution to its bucket. */
  public void add(StoredEntry entry) {
    StateDigest c = StateDigest.contribution(entry);
    int b = bucketOf(entry.key(), bits);
    high[b] += c.high();
    low[b] += c.low();
  }

  /** Bucket {@code i}'s digest. */
  public StateDigest bucket(int i) {
    return new StateDigest(high[i], low[i]);
  }

  /** The sum of every bucket: equals the state digest of the rows that were added. */
  public StateDigest total() {
    long h = 0;
    long l = 0;
    for (int i = 0; i < high.length; i++) {
      h += high[i];
      l += low[i];
    }
    return new StateDigest(h, l);
  }

  /** The buckets whose digests differ from {@code other}'s (same number of buckets). */
  public BitSet differing(BucketDigests other) {
    if (other.bits != bits) {
      throw new IllegalArgumentException("bucket bits differ: " + bits + " and " + other.bits);
    }
    BitSet out = new BitSet(size());
    for (int i = 0; i < high.length; i++) {
      if (high[i] != other.high[i] || low[i] != other.low[i]) {
        out.set(i);
      }
    }
    return out;
  }

  /** The wire form: {@code 16 * 2^bits} bytes, bucket {@code i} (high, low; big-endian) at {@code 16 * i}. */
  public byte[] toBytes() {
    ByteBuffer out = ByteBuffer.allocate(DIGEST_BYTES * high.length);
    for (int i = 0; i < high.length; i++) {
      out.putLong(high[i]).putLong(low[i]);
    }
    return out.array();
  }

  /**
   * Parses {@link #toBytes}.
   *
   * @throws IllegalArgumentException naming the expected length when {@code bytes} does not hold
   *     exactly {@code 2^bits} digests, or when {@code bits} is out of range
   */
  public static BucketDigests fromBytes(int bits, byte[] bytes) {
    checkBits(bits);
    long expected = (long) DIGEST_BYTES << bits;
    if (bytes.length != expected) {
      throw new IllegalArgumentException(
          "bucket digests for " + bits + " bits must be " + expected + " bytes, got " + bytes.length);
    }
    BucketDigests out = new BucketDigests(bits);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    for (int i = 0; i < out.high.length; i++) {
      out.high[i] = in.getLong();
      out.low[i] = in.getLong();
    }
    return out;
  }
}
