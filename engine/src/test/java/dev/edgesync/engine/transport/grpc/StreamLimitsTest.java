package dev.edgesync.engine.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The inbound stream caps: in total and per subscriber id, released exactly once. */
class StreamLimitsTest {
  @Test
  void totalCapRefusesBeyondAndFreesOnRelease() {
    StreamLimits limits = new StreamLimits(3, 2);
    List<StreamLimits.Slot> slots = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      slots.add(assertNotNullSlot(limits.tryOpen()));
    }
    assertNull(limits.tryOpen(), "a fourth stream is refused");
    slots.get(0).release();
    slots.get(0).release();
    assertEquals(2, limits.open(), "a double release frees one slot only");
    assertNotNull(limits.tryOpen());
    assertNull(limits.tryOpen());
  }

  @Test
  void perPeerCapLetsAReconnectOverlapButNoMore() {
    StreamLimits limits = new StreamLimits(10, 2);
    StreamLimits.Slot first = limits.tryOpen();
    StreamLimits.Slot second = limits.tryOpen();
    StreamLimits.Slot third = limits.tryOpen();
    assertTrue(first.bind("site-b"));
    assertTrue(second.bind("site-b"));
    assertFalse(third.bind("site-b"), "a third stream of one id is refused");
    assertTrue(third.bind("site-c"), "another id is not affected");
    assertEquals(2, limits.openFor("site-b"));
    first.release();
    StreamLimits.Slot fourth = limits.tryOpen();
    assertTrue(fourth.bind("site-b"), "the slot of an ended stream is free again");
    second.release();
    third.release();
    fourth.release();
    assertEquals(0, limits.open());
    assertEquals(0, limits.openFor("site-b"));
  }

  private static StreamLimits.Slot assertNotNullSlot(StreamLimits.Slot s) {
    assertNotNull(s);
    return s;
  }
}
