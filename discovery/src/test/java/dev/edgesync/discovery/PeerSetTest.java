package dev.edgesync.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PeerSetTest {

  private static final PeerSpec B = PeerSpec.of("site-b", "host-b:7400");
  private static final PeerSpec C = PeerSpec.of("site-c", "host-c:7400");
  private static final PeerSpec C_MOVED = PeerSpec.of("site-c", "host-c2:7400");
  private static final PeerSpec D = PeerSpec.of("site-d", "host-d:7400");

  @Test
  void lookupsAndOrder() {
    PeerSet set = PeerSet.of(C, B);

    assertEquals(List.of(C, B), set.peers());
    assertEquals(List.of("site-c", "site-b"), List.copyOf(set.ids()));
    assertEquals(Optional.of(B), set.get("site-b"));
    assertEquals(Optional.empty(), set.get("site-x"));
    assertTrue(set.contains("site-c"));
    assertEquals(2, set.size());
    assertFalse(set.isEmpty());
    assertTrue(PeerSet.empty().isEmpty());
  }

  @Test
  void equalityIgnoresOrder() {
    assertEquals(PeerSet.of(B, C), PeerSet.of(C, B));
    assertEquals(PeerSet.of(B, C).hashCode(), PeerSet.of(C, B).hashCode());
    assertNotEquals(PeerSet.of(B, C), PeerSet.of(B, C_MOVED));
    assertEquals(PeerSet.empty(), PeerSet.of());
  }

  @Test
  void isImmutable() {
    PeerSet set = PeerSet.of(B);
    assertThrows(UnsupportedOperationException.class, () -> set.ids().remove("site-b"));
    assertThrows(UnsupportedOperationException.class, () -> set.peers().add(C));
  }

  @Test
  void duplicateIdsAreRejected() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> PeerSet.of(B, C, PeerSpec.of("site-b", "x:1")));

    assertEquals("API", e.getSource());
    assertEquals("peers[2].id", e.getField());
    assertEquals("site-b", e.getValue());
    assertTrue(e.getProblem().contains("already used by peers[0]"), e.getMessage());
  }

  @Test
  void diffReportsAddedRemovedAndChanged() {
    PeerSet older = PeerSet.of(B, C);
    PeerSet newer = PeerSet.of(C_MOVED, D);

    PeerChanges changes = older.diff(newer);

    assertEquals(List.of(D), changes.added());
    assertEquals(List.of(B), changes.removed());
    assertEquals(List.of(C_MOVED), changes.changed());
    assertFalse(changes.isEmpty());
    assertEquals(
        "added [site-d=host-d:7400], removed [site-b=host-b:7400], changed [site-c=host-c2:7400]",
        changes.toString());
  }

  @Test
  void diffOfEqualSetsIsEmpty() {
    PeerChanges changes = PeerSet.of(B, C).diff(PeerSet.of(C, B));

    assertTrue(changes.isEmpty());
    assertEquals("no changes", changes.toString());
  }

  @Test
  void diffFromAndToEmpty() {
    assertEquals(List.of(B, C), PeerSet.empty().diff(PeerSet.of(B, C)).added());
    assertEquals(List.of(B, C), PeerSet.of(B, C).diff(PeerSet.empty()).removed());
  }
}
