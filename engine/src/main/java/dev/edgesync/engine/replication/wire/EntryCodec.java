package dev.edgesync.engine.replication.wire;

import com.google.protobuf.ByteString;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Entry;

/** Converts entries between the store's form and the wire form, checking what arrives. */
public final class EntryCodec {
  private EntryCodec() {}

  /** The wire form of a stored entry, with its checksum. */
  public static Entry encode(StoredEntry entry) {
    return Entry.newBuilder()
        .setKey(ByteString.copyFrom(entry.key()))
        .setValue(ByteString.copyFrom(entry.value()))
        .setTombstone(entry.tombstone())
        .setVersion(
            dev.edgesync.proto.Version.newBuilder()
                .setHlc(entry.version().hlc())
                .setOrigin(entry.version().origin()))
        .setCrc32C(EntryChecksum.compute(entry))
        .setSeq(entry.seq())
        .setExpiresHlc(entry.expiresHlc())
        .build();
  }

  /**
   * The store's form of a received entry (with seq 0: it has no local seq yet), after checking
   * that it is well formed and that its checksum matches.
   *
   * @throws CorruptEntryException naming the entry and what is wrong with it
   */
  public static StoredEntry decode(Entry entry) throws CorruptEntryException {
    if (!entry.hasVersion()) {
      throw new CorruptEntryException(entry, "it has no version");
    }
    long hlc = entry.getVersion().getHlc();
    String origin = entry.getVersion().getOrigin();
    if (hlc < 0 || origin.isEmpty()) {
      throw new CorruptEntryException(entry, "its version is invalid (hlc " + hlc + ", origin '" + origin + "')");
    }
    if (entry.getTombstone() && !entry.getValue().isEmpty()) {
      throw new CorruptEntryException(entry, "it is a tombstone with a value");
    }
    long expiresHlc = entry.getExpiresHlc();
    if (expiresHlc < 0 || (expiresHlc != 0 && (entry.getTombstone() || expiresHlc <= hlc))) {
      throw new CorruptEntryException(
          entry,
          "its expiry " + expiresHlc + " is invalid"
              + (entry.getTombstone() ? " on a tombstone" : ": not after its version's HLC " + hlc));
    }
    byte[] key = entry.getKey().toByteArray();
    byte[] value = entry.getValue().toByteArray();
    int expected = EntryChecksum.compute(key, value, entry.getTombstone(), expiresHlc, hlc, origin);
    if (expected != entry.getCrc32C()) {
      throw new CorruptEntryException(
          entry,
          String.format(
              "its CRC32C is %08x but its content hashes to %08x", entry.getCrc32C(), expected));
    }
    return new StoredEntry(key, value, entry.getTombstone(), new Version(hlc, origin), 0, expiresHlc);
  }

  /** An entry failed its checks; the message says which entry and why. */
  public static final class CorruptEntryException extends Exception {
    private static final long serialVersionUID = 1L;

    CorruptEntryException(Entry entry, String reason) {
      super("entry at seq " + entry.getSeq() + " (key of " + entry.getKey().size() + " bytes) is corrupt: " + reason);
    }
  }
}
