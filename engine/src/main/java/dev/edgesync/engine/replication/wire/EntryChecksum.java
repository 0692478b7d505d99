package dev.edgesync.engine.replication.wire;

import dev.edgesync.engine.storage.StoredEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The CRC32C every replicated entry carries, so that a receiver notices an entry damaged on the
 * way (or by a faulty sender) and rejects its batch instead of storing it.
 *
 * <p>The checksum covers, in this order: the key length as a 4-byte big-endian int, the key
 * bytes, the value bytes, a flags byte (bit 0 set for a tombstone, bit 1 set when the value
 * expires), the expiry HLC as an 8-byte big-endian long (only when bit 1 is set), the HLC as an
 * 8-byte big-endian long, and the origin node id in UTF-8. The key length makes the boundary
 * between key and value unambiguous; the value's end follows from the fixed-size fields after
 * it. An entry without expiry has the layout of protocol version 1. Any change to this layout is a protocol change (raise {@link ProtocolVersion#CURRENT}).
 *
 * <p>Thread safety: stateless; all methods may be called from any thread.
 */
public final class EntryChecksum {
  private EntryChecksum() {}

  /** The checksum of the given fields, as an unsigned 32-bit value in an {@code int}. */
  public static int compute(byte[] key, byte[] value, boolean tombstone, long hlc, String origin) {
    return compute(key, value, tombstone, 0, hlc, origin);
  }

  /** The checksum of the given fields with the value's expiry ({@code 0}: none). */
  public static int compute(byte[] key, byte[] value, boolean tombstone, long expiresHlc, long hlc, String origin) {
    CRC32C crc = new CRC32C();
    ByteBuffer fixed = ByteBuffer.allocate(Long.BYTES);
    crc.update(fixed.putInt(0, key.length).array(), 0, Integer.BYTES);
    crc.update(key);
    crc.update(value);
    crc.update((tombstone ? 1 : 0) | (expiresHlc != 0 ? 2 : 0));
    if (expiresHlc != 0) {
      crc.update(fixed.putLong(0, expiresHlc).array(), 0, Long.BYTES);
    }
    crc.update(fixed.putLong(0, hlc).array(), 0, Long.BYTES);
    crc.update(origin.getBytes(StandardCharsets.UTF_8));
    return (int) crc.getValue();
  }

  /** The checksum of a stored entry. */
  public static int compute(StoredEntry entry) {
    return compute(
        entry.key(), entry.value(), entry.tombstone(), entry.expiresHlc(), entry.version().hlc(), entry.version().origin());
  }
}
