package dev.edgesync.engine.storage.kv;

import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.string;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.edgesync.engine.storage.StoreFixtures.Backend;
import dev.edgesync.engine.storage.kv.KvStore.Mutation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The {@link KvStore} contract, on both implementations. */
class KvStoreContractTest {
  @TempDir Path dir;

  private KvStore kv;

  @AfterEach
  void close() {
    if (kv != null) {
      kv.close();
    }
  }

  private List<String> keysFrom(KvStore.Snapshot snapshot, byte[] from) {
    List<String> keys = new ArrayList<>();
    try (KvStore.RowIterator it = kv.iterate(snapshot, from)) {
      it.forEachRemaining(r -> keys.add(HexFormat.of().formatHex(r.key())));
    }
    return keys;
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void writesApplyInOrderAndReadBack(Backend backend) {
    kv = backend.open(dir);
    kv.write(
        List.of(
            Mutation.put(bytes("a"), bytes("1")),
            Mutation.put(bytes("b"), bytes("2")),
            Mutation.delete(bytes("a")),
            Mutation.put(bytes("c"), bytes("3")),
            Mutation.put(bytes("c"), bytes("4"))),
        true);
    assertNull(kv.get(bytes("a")));
    assertEquals("2", string(kv.get(bytes("b"))));
    assertEquals("4", string(kv.get(bytes("c"))));
    assertNull(kv.get(bytes("missing")));
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void keysAreOrderedAsUnsignedBytes(Backend backend) {
    kv = backend.open(dir);
    List<Mutation> rows = new ArrayList<>();
    for (int b : new int[] {0xff, 0x80, 0x7f, 0x01, 0x00}) {
      rows.add(Mutation.put(new byte[] {(byte) b}, bytes("v")));
    }
    rows.add(Mutation.put(new byte[] {0x7f, 0x00}, bytes("v")));
    kv.write(rows, false);
    assertEquals(List.of("00", "01", "7f", "7f00", "80", "ff"), keysFrom(null, new byte[0]));
    assertEquals(List.of("7f00", "80", "ff"), keysFrom(null, new byte[] {0x7f, 0x00}));
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aSnapshotSeesTheStateWhenItWasTaken(Backend backend) {
    kv = backend.open(dir);
    kv.write(List.of(Mutation.put(bytes("k1"), bytes("old")), Mutation.put(bytes("k2"), bytes("old"))), false);
    try (KvStore.Snapshot snapshot = kv.snapshot()) {
      kv.write(
          List.of(Mutation.put(bytes("k1"), bytes("new")), Mutation.delete(bytes("k2")), Mutation.put(bytes("k3"), bytes("new"))),
          false);
      assertEquals("old", string(kv.get(snapshot, bytes("k1"))));
      assertEquals("old", string(kv.get(snapshot, bytes("k2"))));
      assertNull(kv.get(snapshot, bytes("k3")));
      assertEquals(List.of("6b31", "6b32"), keysFrom(snapshot, bytes("k")));
      assertEquals("new", string(kv.get(bytes("k1"))));
      assertEquals(List.of("6b31", "6b33"), keysFrom(null, bytes("k")));
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void anExhaustedIteratorSaysSo(Backend backend) {
    kv = backend.open(dir);
    try (KvStore.RowIterator it = kv.iterate(null, new byte[0])) {
      assertFalse(it.hasNext());
      assertThrows(NoSuchElementException.class, it::next);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aClosedStoreRefusesUse(Backend backend) {
    kv = backend.open(dir);
    kv.close();
    assertThrows(IllegalStateException.class, () -> kv.get(bytes("k")));
    assertThrows(IllegalStateException.class, () -> kv.write(List.of(Mutation.put(bytes("k"), bytes("v"))), true));
    kv.close(); // idempotent
    kv = null;
  }
}
