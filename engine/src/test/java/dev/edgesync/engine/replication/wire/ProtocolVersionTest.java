package dev.edgesync.engine.replication.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ProtocolVersionTest {
  @Test
  void twoRangesAgreeOnTheNewestVersionBothSpeak() {
    assertEquals(2, ProtocolVersion.negotiate(1, 2, 1, 2));
    assertEquals(1, ProtocolVersion.negotiate(1, 2, 1, 1));
    assertEquals(2, ProtocolVersion.negotiate(2, 5, 1, 2), "a newer build that still speaks 2");
    assertEquals(-1, ProtocolVersion.negotiate(3, 5, 1, 2), "a newer build that dropped 2");
    assertEquals(-1, ProtocolVersion.negotiate(1, 1, 2, 3), "an older build below this one's minimum");
  }

  @Test
  void aBuildBeforeNegotiationSpeaksOnlyItsOwnVersion() {
    assertEquals(1, ProtocolVersion.negotiate(0, 1, 1, 2));
    assertEquals(2, ProtocolVersion.negotiate(0, 2, 1, 2));
    assertEquals(-1, ProtocolVersion.negotiate(0, 3, 1, 2));
  }
}
