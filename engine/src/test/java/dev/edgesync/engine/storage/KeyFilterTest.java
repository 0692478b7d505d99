package dev.edgesync.engine.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeyFilterTest {
  private static byte[] key(String prefix, int i) {
    return (prefix + i).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void everyAddedKeyMayBePresentAcrossStages() {
    KeyFilter filter = new KeyFilter("test", 64L << 20, 10_000);
    int n = 10_000 + 40_000 + 17; // fills the first two stages (10,000 and 40,000 keys), starts a third
    for (int i = 0; i < n; i++) {
      filter.add(key("k", i));
    }
    for (int i = 0; i < n; i++) {
      assertTrue(filter.mightContain(key("k", i)), "no false negatives: key k" + i);
    }
    assertEquals(n, filter.keys());
    assertFalse(filter.isOff());
  }

  @Test
  void mostKeysNeverAddedAreKnownAbsent() {
    KeyFilter filter = new KeyFilter("test", 64L << 20, 100_000);
    for (int i = 0; i < 250_000; i++) {
      filter.add(key("k", i));
    }
    int falsePositives = 0;
    int probes = 100_000;
    for (int i = 0; i < probes; i++) {
      if (filter.mightContain(key("absent-", i))) {
        falsePositives++;
      }
    }
    // A full stage at 2 % and one filled to 3/8 (far below 2 %): 5 % leaves room for chance.
    assertTrue(falsePositives < probes * 5 / 100, falsePositives + " false positives of " + probes);
    assertTrue(falsePositives > 0, "a Bloom filter has false positives; none means it answered absent blindly");
  }

  @Test
  void overItsBudgetTheFilterTurnsOffAndAnswersMaybe() {
    KeyFilter filter = new KeyFilter("test", 64 * 1024); // smaller than the first stage
    filter.add(key("k", 1));
    assertTrue(filter.isOff());
    assertTrue(filter.mightContain(key("never-added", 1)), "off: every key may be present");
    assertEquals(0, filter.bytes(), "an off filter holds no stages");
  }
}
