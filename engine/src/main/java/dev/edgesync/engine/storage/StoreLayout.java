package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;
import dev.edgesync.engine.storage.errors.StorageException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The key layout and row encodings {@link GroupCommitStore} keeps in its single {@link KvStore}.
 * Everything that knows a byte offset lives here, so that the layout is written down once.
 *
 * <ul>
 *   <li>{@code 's' + key} → state row: {@code hlc} (8 bytes), origin length (2 bytes, unsigned),
 *       origin (UTF-8), {@code seq} (8 bytes), flags (1 byte: bit 0 = tombstone, bit 1 = expires),
 *       the expiry HLC (8 bytes, only with bit 1), value (the rest).
 *   <li>{@code 'q' + seq} (8 bytes, big-endian, so that key order is seq order) → key: the
 *       compacted by-seq index, at most one row per key.
 *   <li>{@code 'm' + name} (ASCII) → meta value, see the {@code META_*} names; {@code epochs} is a
 *       list of 16-byte records (epoch id, first seq), one appended at every open.
 *   <li>{@code 't' + hlc} (8 bytes, big-endian) {@code + key} → empty: the tombstone index, one row
 *       per state row that is a tombstone, in HLC order, so that the collector finds the tombstones
 *       below its horizon without scanning the state ({@link TombstoneCollector}).
 *   <li>{@code 'x' + expiresHlc} (8 bytes, big-endian) {@code + key} → empty: the expiry index, one
 *       row per state row whose value expires, in expiry order: the collector finds the expired
 *       values below its horizon, and the expiry announcer the values expiring now, with a seek.
 * </ul>
 *
 * <p>All integers are big-endian.
 */
final class StoreLayout {
  static final byte STATE = 's';
  static final byte BY_SEQ = 'q';
  static final byte META = 'm';
  static final byte TOMBSTONES = 't';
  static final byte EXPIRIES = 'x';

  /** Layout version written at creation; a database with another version is refused. */
  static final int FORMAT_VERSION = 1;

  static final String META_FORMAT = "format";
  static final String META_NODE_ID = "nodeId";
  static final String META_LOG_ID = "logId";
  static final String META_HEAD_SEQ = "headSeq";
  static final String META_HLC = "hlc";
  static final String META_DIGEST = "digest";
  /** Number of tombstone rows in the state table; absent in a database from before the index. */
  static final String META_TOMBSTONES = "tombstones";
  /** Number of state rows whose value expires (rows of the expiry index); absent: none. */
  static final String META_EXPIRING = "expiring";
  /** The wall-clock HLC at which the database was created empty; absent in older databases. */
  static final String META_CREATED_HLC = "createdHlc";
  /** An HLC above every time a read has judged expiry at (see {@link ReadClock}); absent: none. */
  static final String META_READ_LEASE = "readLease";
  /** Lowest HLC of any version ever stored (an upper bound of the oldest one held); absent: none. */
  static final String META_OLDEST_HLC = "oldestHlc";
  /** The node's stable time (see {@code Stability}): it holds every version older, or a newer one. */
  static final String META_STABLE_HLC = "stableHlc";
  /** Tombstones older than this were purged; a remote version older than it for an absent key is stale. */
  static final String META_PURGE_HORIZON = "purgeHorizon";
  /** Tombstones purged since the database was created. */
  static final String META_PURGED_TOTAL = "purgedTotal";
  /** The highest seq of any tombstone purged. */
  static final String META_PURGED_MAX_SEQ = "purgedMaxSeq";
  /** The other nodes known, with the stable time each last reported (they hold the horizon back). */
  static final String META_MEMBERS = "members";
  /** Nodes decommissioned: they no longer hold the horizon back and may not sync again. */
  static final String META_FORGOTTEN = "forgotten";
  /**
   * The log's epochs: one 16-byte record per open of the database, oldest first: epoch id (8
   * random bytes, shown as 16 hex chars) and the first seq of the epoch (8 bytes).
   */
  static final String META_EPOCHS = "epochs";

  static final byte[] EMPTY = new byte[0];

  private static final int FLAG_TOMBSTONE = 1;
  private static final int FLAG_EXPIRES = 2;
  private static final int MAX_ORIGIN_BYTES = 0xFFFF;
  private static final int FIXED_STATE_BYTES = 8 + 2 + 8 + 1;

  private StoreLayout() {}

  static byte[] stateKey(byte[] key) {
    return prefixed(STATE, key);
  }

  static byte[] seqKey(long seq) {
    return ByteBuffer.allocate(9).put(BY_SEQ).putLong(seq).array();
  }

  static byte[] tombstoneKey(long hlc, byte[] key) {
    return ByteBuffer.allocate(9 + key.length).put(TOMBSTONES).putLong(hlc).put(key).array();
  }

  static boolean isTombstoneKey(byte[] key) {
    return key.length >= 9 && key[0] == TOMBSTONES;
  }

  /** The expiry index row of a value expiring at {@code expiresHlc}. */
  static byte[] expiryKey(long expiresHlc, byte[] key) {
    return ByteBuffer.allocate(9 + key.length).put(EXPIRIES).putLong(expiresHlc).put(key).array();
  }

  static boolean isExpiryKey(byte[] key) {
    return key.length >= 9 && key[0] == EXPIRIES;
  }

  /** The HLC of an index row ({@link #tombstoneKey} or {@link #expiryKey}). */
  static long indexHlc(byte[] indexKey) {
    return ByteBuffer.wrap(indexKey, 1, 8).getLong();
  }

  /** The user key of an index row ({@link #tombstoneKey} or {@link #expiryKey}). */
  static byte[] indexUserKey(byte[] indexKey) {
    return Arrays.copyOfRange(indexKey, 9, indexKey.length);
  }

  /** Node id to HLC, as {@code META_MEMBERS} keeps it: (id length (2 bytes), id UTF-8, hlc) repeated. */
  static byte[] encodeHorizons(java.util.Map<String, Long> horizons) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    horizons.forEach(
        (id, hlc) -> {
          byte[] b = originBytes(id);
          out.writeBytes(ByteBuffer.allocate(2 + b.length + 8).putShort((short) b.length).put(b).putLong(hlc).array());
        });
    return out.toByteArray();
  }

  static java.util.Map<String, Long> decodeHorizons(byte[] bytes) {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    if (bytes == null) {
      return out;
    }
    try {
      ByteBuffer in = ByteBuffer.wrap(bytes);
      while (in.hasRemaining()) {
        byte[] id = new byte[Short.toUnsignedInt(in.getShort())];
        in.get(id);
        out.put(new String(id, StandardCharsets.UTF_8), in.getLong());
      }
    } catch (java.nio.BufferUnderflowException e) {
      throw new StorageException("meta '" + META_MEMBERS + "' or '" + META_FORGOTTEN + "' is malformed (" + bytes.length + " bytes)", e);
    }
    return out;
  }

  static long seqOf(byte[] seqKey) {
    if (seqKey.length != 9 || seqKey[0] != BY_SEQ) {
      throw new StorageException("malformed by-seq key of " + seqKey.length + " bytes");
    }
    return ByteBuffer.wrap(seqKey, 1, 8).getLong();
  }

  static byte[] metaKey(String name) {
    return prefixed(META, name.getBytes(StandardCharsets.US_ASCII));
  }

  /** The user key of a state-table key. */
  static byte[] userKey(byte[] stateKey) {
    return Arrays.copyOfRange(stateKey, 1, stateKey.length);
  }

  static boolean hasPrefix(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length
        && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  static boolean isSeqKey(byte[] key) {
    return key.length > 0 && key[0] == BY_SEQ;
  }

  /** UTF-8 bytes of an origin, refused when too long for the 2-byte length field. */
  static byte[] originBytes(String origin) {
    byte[] bytes = origin.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > MAX_ORIGIN_BYTES) {
      throw new IllegalArgumentException(
          "origin id of " + bytes.length + " bytes is longer than " + MAX_ORIGIN_BYTES + " bytes");
    }
    return bytes;
  }

  static byte[] encodeState(StoredEntry entry) {
    byte[] origin = originBytes(entry.version().origin());
    int flags = (entry.tombstone() ? FLAG_TOMBSTONE : 0) | (entry.expires() ? FLAG_EXPIRES : 0);
    ByteBuffer out =
        ByteBuffer.allocate(FIXED_STATE_BYTES + origin.length + (entry.expires() ? 8 : 0) + entry.value().length)
            .putLong(entry.version().hlc())
            .putShort((short) origin.length)
            .put(origin)
            .putLong(entry.seq())
            .put((byte) flags);
    if (entry.expires()) {
      out.putLong(entry.expiresHlc());
    }
    return out.put(entry.value()).array();
  }

  /**
   * Decodes a state row.
   *
   * @throws StorageException when the row is malformed (a damaged database)
   */
  static StoredEntry decodeState(byte[] key, byte[] row) {
    try {
      ByteBuffer in = ByteBuffer.wrap(row);
      long hlc = in.getLong();
      byte[] origin = new byte[Short.toUnsignedInt(in.getShort())];
      in.get(origin);
      long seq = in.getLong();
      int flags = in.get();
      if ((flags & ~(FLAG_TOMBSTONE | FLAG_EXPIRES)) != 0) {
        throw new StorageException("unknown flags " + flags + " in the state row of key " + printable(key));
      }
      long expiresHlc = (flags & FLAG_EXPIRES) != 0 ? in.getLong() : 0;
      byte[] value = new byte[in.remaining()];
      in.get(value);
      return new StoredEntry(
          key,
          value,
          (flags & FLAG_TOMBSTONE) != 0,
          new Version(hlc, new String(origin, StandardCharsets.UTF_8)),
          seq,
          expiresHlc);
    } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
      throw new StorageException(
          "malformed state row (" + row.length + " bytes) for key " + printable(key) + ": " + e, e);
    }
  }

  static byte[] encodeLong(long value) {
    return ByteBuffer.allocate(8).putLong(value).array();
  }

  static long decodeLong(String name, byte[] bytes) {
    if (bytes.length != 8) {
      throw new StorageException("meta '" + name + "' has " + bytes.length + " bytes, expected 8");
    }
    return ByteBuffer.wrap(bytes).getLong();
  }

  /** One epoch of the log: seqs from {@code firstSeq} up to the next epoch's first seq. */
  record Epoch(long id, long firstSeq) {
    /** The id as it travels in the protocol and watermarks: 16 lower-case hex chars. */
    String idText() {
      return String.format("%016x", id);
    }
  }

  private static final int EPOCH_BYTES = 16;

  static byte[] encodeEpochs(java.util.List<Epoch> epochs) {
    ByteBuffer out = ByteBuffer.allocate(epochs.size() * EPOCH_BYTES);
    for (Epoch e : epochs) {
      out.putLong(e.id()).putLong(e.firstSeq());
    }
    return out.array();
  }

  /** Decodes the epoch list; absent (null) is an empty list (a database from before epochs). */
  static java.util.List<Epoch> decodeEpochs(byte[] bytes) {
    if (bytes == null) {
      return java.util.List.of();
    }
    if (bytes.length % EPOCH_BYTES != 0) {
      throw new StorageException(
          "meta '" + META_EPOCHS + "' has " + bytes.length + " bytes, not a multiple of " + EPOCH_BYTES);
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    java.util.List<Epoch> epochs = new java.util.ArrayList<>(bytes.length / EPOCH_BYTES);
    long previousFirst = 0;
    while (in.hasRemaining()) {
      Epoch e = new Epoch(in.getLong(), in.getLong());
      if (e.firstSeq() < 1 || e.firstSeq() < previousFirst) {
        throw new StorageException(
            "meta '" + META_EPOCHS + "' is malformed: epoch " + e.idText() + " starts at seq " + e.firstSeq()
                + " after an epoch starting at " + previousFirst);
      }
      previousFirst = e.firstSeq();
      epochs.add(e);
    }
    return java.util.List.copyOf(epochs);
  }

  static byte[] encodeDigest(StateDigest digest) {
    return ByteBuffer.allocate(16).putLong(digest.high()).putLong(digest.low()).array();
  }

  static StateDigest decodeDigest(byte[] bytes) {
    if (bytes.length != 16) {
      throw new StorageException("meta '" + META_DIGEST + "' has " + bytes.length + " bytes, expected 16");
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    return new StateDigest(in.getLong(), in.getLong());
  }

  /** A key for error messages: UTF-8 when it is printable ASCII, else hex; long keys shortened. */
  static String printable(byte[] key) {
    int shown = Math.min(key.length, 64);
    boolean ascii = true;
    for (int i = 0; i < shown; i++) {
      if (key[i] < 0x20 || key[i] > 0x7e) {
        ascii = false;
        break;
      }
    }
    StringBuilder out = new StringBuilder();
    if (ascii) {
      out.append('\'').append(new String(key, 0, shown, StandardCharsets.US_ASCII)).append('\'');
    } else {
      out.append("0x");
      for (int i = 0; i < shown; i++) {
        out.append(String.format("%02x", key[i]));
      }
    }
    if (shown < key.length) {
      out.append("... (").append(key.length).append(" bytes)");
    }
    return out.toString();
  }

  private static byte[] prefixed(byte prefix, byte[] rest) {
    byte[] out = new byte[rest.length + 1];
    out[0] = prefix;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }
}
