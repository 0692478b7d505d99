package dev.edgesync.engine.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecentLogTest {
  private static StoredEntry entry(long seq, String key) {
    return new StoredEntry(
        key.getBytes(StandardCharsets.UTF_8), "value".getBytes(StandardCharsets.UTF_8), false, new Version(seq, "a"), seq);
  }

  private static List<StoredEntry> run(long from, long to) {
    List<StoredEntry> out = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      out.add(entry(s, "k" + s));
    }
    return out;
  }

  private static void append(RecentLog log, List<StoredEntry> entries, Long... replaced) {
    log.append(List.of(entries), List.of(replaced));
  }

  private static List<Long> seqs(ChangeBatch b) {
    return b.entries().stream().map(StoredEntry::seq).toList();
  }

  @Test
  void servesTheRunAfterAnySeqItHoldsAndSaysWhereItEnds() {
    RecentLog log = new RecentLog(10, 100, 1 << 20);
    assertEquals(List.of(), log.read(10, 5, 1 << 20).entries(), "empty run at the head");
    assertEquals(10, log.read(10, 5, 1 << 20).lastSeq());
    assertNull(log.read(9, 5, 1 << 20), "seq 10 was committed before the run started");

    append(log, run(11, 20));
    ChangeBatch first = log.read(10, 4, 1 << 20);
    assertEquals(List.of(11L, 12L, 13L, 14L), seqs(first));
    assertEquals(14, first.lastSeq());
    assertEquals(20, first.headSeq());
    ChangeBatch rest = log.read(first.lastSeq(), 100, 1 << 20);
    assertEquals(List.of(15L, 16L, 17L, 18L, 19L, 20L), seqs(rest));
    assertEquals(20, rest.lastSeq());
    ChangeBatch atHead = log.read(20, 100, 1 << 20);
    assertTrue(atHead.entries().isEmpty());
    assertEquals(20, atHead.lastSeq());
    assertNull(log.read(21, 100, 1 << 20), "beyond the head: not this run's to answer");
  }

  @Test
  void oldEntriesDropOffAtTheEntryAndByteBounds() {
    RecentLog log = new RecentLog(0, 8, 1 << 20);
    append(log, run(1, 20));
    assertNull(log.read(11, 100, 1 << 20), "only seqs 13..20 are held");
    assertEquals(List.of(13L, 14L, 15L, 16L, 17L, 18L, 19L, 20L), seqs(log.read(12, 100, 1 << 20)));

    int size = entry(1, "k1").approximateBytes();
    RecentLog small = new RecentLog(0, 100, size * 3L);
    append(small, run(1, 9)); // keys k1..k9: one byte each, same size
    assertNull(small.read(5, 100, 1 << 20), "three entries fit the byte bound: seqs 7..9");
    assertEquals(List.of(7L, 8L, 9L), seqs(small.read(6, 100, 1 << 20)));
  }

  @Test
  void aBatchStopsAtItsByteLimitButHoldsAtLeastOneEntry() {
    RecentLog log = new RecentLog(0, 100, 1 << 20);
    append(log, run(1, 9));
    int size = entry(1, "k1").approximateBytes();
    assertEquals(List.of(1L, 2L), seqs(log.read(0, 100, size * 2L + 1)));
    assertEquals(List.of(1L), seqs(log.read(0, 100, 1)));
  }

  @Test
  void aGapInSeqsStartsANewRun() {
    RecentLog log = new RecentLog(0, 100, 1 << 20);
    append(log, run(1, 5));
    append(log, run(8, 9));
    assertNull(log.read(5, 100, 1 << 20), "seqs 6 and 7 were never appended");
    assertEquals(List.of(8L, 9L), seqs(log.read(7, 100, 1 << 20)));
  }

  @Test
  void aReplacedVersionIsLeftOutButItsSeqIsCovered() {
    RecentLog log = new RecentLog(0, 100, 1 << 20);
    append(log, run(1, 5));
    // Seq 6 writes k2 again: the commit deletes seq 2's by-seq row, and so empties its slot.
    append(log, List.of(entry(6, "k2")), 2L);
    assertEquals(List.of(1L, 3L, 4L, 5L, 6L), seqs(log.read(0, 100, 1 << 20)));
    assertEquals(List.of(1L, 3L), seqs(log.read(0, 2, 1 << 20)));
    assertEquals(3, log.read(0, 2, 1 << 20).lastSeq());
    // Replaced slots at the end of the run are covered when the read reaches the head.
    append(log, List.of(entry(7, "k7")));
    append(log, List.of(entry(8, "k7")), 7L);
    ChangeBatch tail = log.read(6, 100, 1 << 20);
    assertEquals(List.of(8L), seqs(tail));
    assertEquals(8, tail.lastSeq());
    // Replaced twice: only the newest version is left.
    append(log, List.of(entry(9, "k1")), 1L);
    append(log, List.of(entry(10, "k1")), 9L);
    assertEquals(List.of(3L, 4L, 5L, 6L, 8L, 10L), seqs(log.read(0, 100, 1 << 20)));
  }
}
