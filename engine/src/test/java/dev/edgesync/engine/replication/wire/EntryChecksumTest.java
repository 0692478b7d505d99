package dev.edgesync.engine.replication.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Entry;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class EntryChecksumTest {
  private static final StoredEntry ENTRY =
      new StoredEntry(bytes("key"), bytes("value"), false, new Version(Hlc.of(1_700_000_000_000L, 3), "site-a"), 7);

  @Test
  void matchesTheDocumentedLayout() {
    CRC32C crc = new CRC32C();
    crc.update(new byte[] {0, 0, 0, 3});
    crc.update(bytes("key"));
    crc.update(bytes("value"));
    crc.update(0);
    long hlc = ENTRY.version().hlc();
    for (int i = 7; i >= 0; i--) {
      crc.update((int) (hlc >>> (8 * i)) & 0xff);
    }
    crc.update(bytes("site-a"));
    assertEquals((int) crc.getValue(), EntryChecksum.compute(ENTRY));
  }

  @Test
  void everyFieldChangesTheChecksum() {
    int base = EntryChecksum.compute(ENTRY);
    Version v = ENTRY.version();
    assertNotEquals(base, EntryChecksum.compute(bytes("kex"), bytes("value"), false, v.hlc(), v.origin()));
    assertNotEquals(base, EntryChecksum.compute(bytes("key"), bytes("valuf"), false, v.hlc(), v.origin()));
    assertNotEquals(base, EntryChecksum.compute(bytes("key"), bytes("value"), true, v.hlc(), v.origin()));
    assertNotEquals(base, EntryChecksum.compute(bytes("key"), bytes("value"), false, v.hlc() + 1, v.origin()));
    assertNotEquals(base, EntryChecksum.compute(bytes("key"), bytes("value"), false, v.hlc(), "site-b"));
    // The key length keeps the key/value boundary unambiguous.
    assertNotEquals(base, EntryChecksum.compute(bytes("keyv"), bytes("alue"), false, v.hlc(), v.origin()));
  }

  @Test
  void codecRoundTripsAndRejectsADamagedEntry() throws Exception {
    Entry wire = EntryCodec.encode(ENTRY);
    StoredEntry back = EntryCodec.decode(wire);
    assertArrayEquals(ENTRY.key(), back.key());
    assertArrayEquals(ENTRY.value(), back.value());
    assertEquals(ENTRY.version(), back.version());
    assertEquals(0, back.seq(), "a received entry has no local seq yet");

    Entry damaged = wire.toBuilder().setValue(ByteString.copyFromUtf8("valuE")).build();
    EntryCodec.CorruptEntryException e =
        assertThrows(EntryCodec.CorruptEntryException.class, () -> EntryCodec.decode(damaged));
    assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
    assertTrue(e.getMessage().contains("seq 7"), e.getMessage());

    Entry noVersion = wire.toBuilder().clearVersion().build();
    assertThrows(EntryCodec.CorruptEntryException.class, () -> EntryCodec.decode(noVersion));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
