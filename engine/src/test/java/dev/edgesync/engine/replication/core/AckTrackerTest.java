package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AckTrackerTest {
  @Test
  void waitIsSatisfiedByDistinctSubscribersCoveringTheSeq() {
    AckTracker t = new AckTracker();
    AckTracker.Waiter w = t.register(10, 2);
    assertFalse(w.settled);
    assertEquals(List.of(), t.onAck("b", 9), "seq 9 does not cover 10");
    assertEquals(List.of(), t.onAck("b", 12));
    assertEquals(List.of(), t.onAck("b", 20), "the same subscriber counts once");
    assertEquals(List.of(w), t.onAck("c", 10));
    assertTrue(w.settled);
    assertEquals(2, t.confirmed(10));
  }

  @Test
  void alreadyCoveredSeqIsSettledAtOnce() {
    AckTracker t = new AckTracker();
    t.onAck("b", 5);
    assertTrue(t.register(5, 1).settled);
    assertTrue(t.register(3, 1).settled);
    assertFalse(t.register(6, 1).settled);
  }

  @Test
  void expiredWaitIsRemovedAndNotSettledTwice() {
    AckTracker t = new AckTracker();
    AckTracker.Waiter w = t.register(4, 1);
    assertTrue(t.expire(w));
    assertEquals(List.of(), t.onAck("b", 4));
    assertFalse(t.expire(w));
  }
}
