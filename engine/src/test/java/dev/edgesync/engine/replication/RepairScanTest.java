package dev.edgesync.engine.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.BucketDigests;
import dev.edgesync.engine.storage.StoredEntry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RepairScanTest {
  static StoredEntry entry(String key, long hlc) {
    return new StoredEntry(
        key.getBytes(StandardCharsets.UTF_8), ("value-of-" + key).getBytes(StandardCharsets.UTF_8), false,
        new Version(hlc, "n1"), 0);
  }

  static List<StoredEntry> rows(int n, String staleKey) {
    List<StoredEntry> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String key = String.format("key-%05d", i);
      out.add(entry(key, key.equals(staleKey) ? 1 : 100 + i));
    }
    return out;
  }

  @Test
  void sendsOnlyTheRowsOfTheDifferingBucketAndTheStaleKeyIsAmongThem() {
    List<StoredEntry> mine = rows(2_000, null);
    List<StoredEntry> theirs = rows(2_000, "key-00777");
    BucketDigests theirDigests = RepairScan.digestsOf(theirs::forEach, 10);
    RepairScan.Result r = RepairScan.collect(mine::forEach, theirDigests, 10_000, 1 << 20);
    assertEquals(1, r.bucketsDiffered());
    assertFalse(r.truncated());
    assertTrue(r.entries().stream().anyMatch(e -> new String(e.key(), StandardCharsets.UTF_8).equals("key-00777")));
    assertTrue(r.entries().size() < 2_000 / 100, "only one bucket's rows, got " + r.entries().size());
  }

  @Test
  void equalStatesSendNothing() {
    List<StoredEntry> rows = rows(500, null);
    RepairScan.Result r = RepairScan.collect(rows::forEach, RepairScan.digestsOf(rows::forEach, 8), 10, 1_000);
    assertEquals(0, r.bucketsDiffered());
    assertTrue(r.entries().isEmpty());
  }

  @Test
  void stopsAtTheEntryLimitAndSaysSo() {
    List<StoredEntry> mine = rows(1_000, null);
    RepairScan.Result r = RepairScan.collect(mine::forEach, new BucketDigests(4), 25, 1 << 20);
    assertEquals(16, r.bucketsDiffered());
    assertEquals(25, r.entries().size());
    assertTrue(r.truncated());
  }

  @Test
  void stopsAtTheByteLimitAndSaysSo() {
    List<StoredEntry> mine = rows(1_000, null);
    RepairScan.Result r = RepairScan.collect(mine::forEach, new BucketDigests(4), 1_000, 100);
    assertTrue(r.truncated());
    long bytes = r.entries().stream().mapToLong(e -> e.key().length + e.value().length).sum();
    assertTrue(bytes <= 100, "bytes " + bytes);
  }
}
