package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The watermark invariant and the per-stream window, driven by hand. The window takes no time
 * (the liveness pause it causes is timed by {@link SubscriberCore}, tested there with a manual
 * clock), so these tests need no clock and no threads.
 */
class InFlightWindowTest {
  private static final String EPOCH = "e1";

  private final InFlightWindow<String> window = new InFlightWindow<>(2);

  @Test
  void outOfOrderCommitsAdvanceOnlyOnceTheGapCloses() {
    window.open("s1");
    long b1 = window.add(10, EPOCH, 2);
    long b2 = window.add(20, EPOCH, 1);
    long b3 = window.add(30, "e2", 4);

    InFlightWindow.Commit<String> c3 = window.committed(b3);
    assertEquals("s1", c3.stream());
    assertNull(c3.advance(), "batch 3 is committed but batches 1 and 2 are not");
    assertNull(window.committed(b2).advance(), "batch 1 is still missing");

    InFlightWindow.Advance a = window.committed(b1).advance();
    assertEquals(new InFlightWindow.Advance(30, "e2", 7), a, "the whole prefix, with the last batch's epoch");
    assertEquals(0, window.size());
  }

  @Test
  void inOrderCommitsAdvanceOneBatchAtATime() {
    window.open("s1");
    long b1 = window.add(10, EPOCH, 2);
    long b2 = window.add(20, EPOCH, 1);
    assertEquals(new InFlightWindow.Advance(10, EPOCH, 2), window.committed(b1).advance());
    assertEquals(new InFlightWindow.Advance(20, EPOCH, 1), window.committed(b2).advance());
  }

  @Test
  void aFailedBatchNeverLetsTheWatermarkPassIt() {
    window.open("s1");
    long b1 = window.add(10, EPOCH, 1);
    long b2 = window.add(20, EPOCH, 1);
    long b3 = window.add(30, EPOCH, 1);

    assertEquals(new InFlightWindow.Advance(10, EPOCH, 1), window.committed(b1).advance());
    assertEquals("s1", window.failed(b2));
    assertNull(window.committed(b3).advance(), "batch 3 committed, but batch 2's entries are not all stored");

    // Nor does a batch handed over after the failure (the driver stops the stream, but a batch may
    // already be on its way to the store).
    long b4 = window.add(40, EPOCH, 1);
    assertNull(window.committed(b4).advance());
  }

  @Test
  void aFailureBeforeAnyCommitAdvancesNothing() {
    window.open("s1");
    long b1 = window.add(10, EPOCH, 1);
    long b2 = window.add(20, EPOCH, 1);
    window.committed(b2);
    window.failed(b1);
    assertEquals(0, window.size());
  }

  @Test
  void atTheLimitTheRequestIsHeldUntilACommitFreesASlot() {
    window.open("s1");
    long b1 = window.add(10, EPOCH, 1);
    assertTrue(window.mayRequest(), "one of two slots used");
    window.add(20, EPOCH, 1);
    assertFalse(window.mayRequest(), "both slots used: the next request waits");

    InFlightWindow.Commit<String> c = window.committed(b1);
    assertTrue(c.requestDue(), "the commit freed a slot: the held request is due now");
    assertEquals(1, window.uncommitted());
  }

  @Test
  void aFailedBatchFreesItsSlotButItsStreamIsOwedNothing() {
    window.open("s1");
    long b1 = window.add(10, EPOCH, 1);
    long b2 = window.add(20, EPOCH, 1);
    assertFalse(window.mayRequest());

    window.failed(b1);
    assertEquals(1, window.uncommitted(), "the failed batch no longer holds a slot");
    assertFalse(window.committed(b2).requestDue(), "the stream stops after a failure: no request");
    assertEquals(0, window.uncommitted());
  }

  @Test
  void aNewStreamStartsWithItsSlotsFreeAndOldCommitsStillCount() {
    window.open("s1");
    long old1 = window.add(10, EPOCH, 1);
    window.add(20, EPOCH, 1);
    assertFalse(window.mayRequest());

    window.open("s2");
    assertEquals(0, window.uncommitted(), "a reset stream's batches hold no slot of the new one");
    assertTrue(window.mayRequest());
    long new1 = window.add(15, EPOCH, 1);

    InFlightWindow.Commit<String> c = window.committed(old1);
    assertEquals("s1", c.stream());
    assertFalse(c.requestDue(), "the old stream's held request died with it");
    assertEquals(new InFlightWindow.Advance(10, EPOCH, 1), c.advance(), "its data is committed all the same");
    assertEquals(new InFlightWindow.Advance(15, EPOCH, 1), window.committed(new1).advance());
    assertEquals(1, window.size(), "one batch of s1 is still in the store");
  }

  @Test
  void unknownTokensAreIgnored() {
    window.open("s1");
    long b1 = window.add(10, EPOCH, 1);
    window.committed(b1);
    assertNull(window.committed(b1), "reported twice");
    assertNull(window.failed(b1));
    assertNull(window.committed(999));
  }

  @Test
  void theLimitIsAtLeastOne() {
    assertThrows(IllegalArgumentException.class, () -> new InFlightWindow<String>(0));
  }
}
