package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CoalescingSlotTest {
  @Test
  void oneWriteInFlightAndTheNewestWrittenNext() {
    CoalescingSlot<Long> slot = new CoalescingSlot<>();
    assertEquals(1L, slot.offer(1L), "idle: write at once");
    assertNull(slot.offer(2L), "busy: wait");
    assertNull(slot.offer(3L));
    assertNull(slot.offer(4L));
    assertEquals(4L, slot.done(), "only the newest is written next");
    assertTrue(slot.writing());
    assertNull(slot.done());
    assertFalse(slot.writing());
    assertEquals(5L, slot.offer(5L));
  }
}
