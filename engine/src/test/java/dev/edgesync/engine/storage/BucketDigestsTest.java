package dev.edgesync.engine.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Version;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BucketDigestsTest {
  static StoredEntry entry(String key, long hlc, String value) {
    return new StoredEntry(
        key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8), false, new Version(hlc, "n1"), 0);
  }

  @Test
  void theBucketsSumToTheStateDigest() {
    long seed = System.nanoTime();
    System.out.println("BucketDigestsTest seed=" + seed);
    SplittableRandom random = new SplittableRandom(seed);
    BucketDigests buckets = new BucketDigests(8);
    StateDigest digest = StateDigest.EMPTY;
    for (int i = 0; i < 2_000; i++) {
      StoredEntry e = entry("k" + random.nextInt(1_000_000), random.nextLong(1, Long.MAX_VALUE), "v" + i);
      buckets.add(e);
      digest = digest.plus(StateDigest.contribution(e));
    }
    assertEquals(digest, buckets.total());
  }

  @Test
  void oneDifferentVersionMakesExactlyItsBucketDiffer() {
    BucketDigests a = new BucketDigests(12);
    BucketDigests b = new BucketDigests(12);
    for (int i = 0; i < 500; i++) {
      a.add(entry("key-" + i, 10 + i, "v"));
      b.add(entry("key-" + i, 10 + i, i == 123 ? "other" : "v"));
    }
    BitSet differing = a.differing(b);
    assertEquals(1, differing.cardinality());
    assertTrue(differing.get(BucketDigests.bucketOf("key-123".getBytes(StandardCharsets.UTF_8), 12)));
  }

  @Test
  void wireFormRoundTripsAndRejectsWrongLengths() {
    BucketDigests a = new BucketDigests(4);
    a.add(entry("x", 1, "y"));
    BucketDigests back = BucketDigests.fromBytes(4, a.toBytes());
    assertEquals(0, a.differing(back).cardinality());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> BucketDigests.fromBytes(4, new byte[10]));
    assertTrue(e.getMessage().contains("must be 256 bytes, got 10"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BucketDigests.fromBytes(17, new byte[0]));
    assertThrows(IllegalArgumentException.class, () -> new BucketDigests(3));
  }
}
