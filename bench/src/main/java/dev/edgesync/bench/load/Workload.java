package dev.edgesync.bench.load;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The keys and values every scenario and the baseline write: 16-byte ASCII keys made of a prefix
 * and a zero-padded index, values of a fixed size made of the index and filler. All ASCII with no
 * character JSON must escape, so the bulk HTTP body is built without a JSON library.
 *
 * <p>Thread safety: immutable.
 */
public final class Workload {
  /** Every key is this long. */
  public static final int KEY_BYTES = 16;

  private final int valueBytes;
  private final byte[] filler;

  public Workload(int valueBytes) {
    this.valueBytes = valueBytes;
    this.filler = new byte[valueBytes];
    Arrays.fill(filler, (byte) 'x');
  }

  public int valueBytes() {
    return valueBytes;
  }

  /** The key of entry {@code index} under {@code prefix} (1 to 4 characters). */
  public static byte[] key(String prefix, long index) {
    byte[] key = new byte[KEY_BYTES];
    byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
    if (p.length == 0 || p.length > 4) {
      throw new IllegalArgumentException("key prefix must be 1 to 4 characters, got '" + prefix + "'");
    }
    System.arraycopy(p, 0, key, 0, p.length);
    long n = index;
    for (int i = KEY_BYTES - 1; i >= p.length; i--) {
      key[i] = (byte) ('0' + (n % 10));
      n /= 10;
    }
    if (n != 0) {
      throw new IllegalArgumentException("index " + index + " does not fit a key with prefix '" + prefix + "'");
    }
    return key;
  }

  /** The value of entry {@code index}: its decimal index, then filler, {@code valueBytes} long. */
  public byte[] value(long index) {
    byte[] value = filler.clone();
    byte[] digits = Long.toString(index).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, value, 0, Math.min(digits.length, value.length));
    return value;
  }

  /** Largest number of entries in one bulk request: the API's limit, and well inside its body limit. */
  public int bulkMaxEntries() {
    long perEntry = KEY_BYTES + valueBytes + 32L;
    return (int) Math.max(1, Math.min(10_000, (1024L * 1024) / perEntry));
  }

  /** The body of {@code POST /kv} for entries {@code from} (inclusive) to {@code to} (exclusive). */
  public byte[] bulkBody(String prefix, long from, long to) {
    int n = (int) (to - from);
    byte[] out = new byte[16 + n * (KEY_BYTES + valueBytes + 28)];
    int p = put(out, 0, "{\"entries\":[");
    for (long i = from; i < to; i++) {
      if (i > from) {
        out[p++] = ',';
      }
      p = put(out, p, "{\"key\":\"");
      byte[] k = key(prefix, i);
      System.arraycopy(k, 0, out, p, k.length);
      p += k.length;
      p = put(out, p, "\",\"value\":\"");
      byte[] v = value(i);
      System.arraycopy(v, 0, out, p, v.length);
      p += v.length;
      p = put(out, p, "\"}");
    }
    p = put(out, p, "]}");
    return Arrays.copyOf(out, p);
  }

  private static int put(byte[] out, int at, String ascii) {
    for (int i = 0; i < ascii.length(); i++) {
      out[at + i] = (byte) ascii.charAt(i);
    }
    return at + ascii.length();
  }
}
