package dev.edgesync.engine.storage;

import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A backup of a node's database: every row of one consistent snapshot (state, change log, meta:
 * log id, epochs, tombstone collection), streamed into one gzip file with a manifest and a
 * checksum. The watermarks of the node's own subscriptions are not in it: a restored node pulls
 * from its peers from the start, which is always safe.
 *
 * <p>Format, inside gzip: the line {@code EDGESYNC-BACKUP 1}; one record per row: tag 1, key length
 * (4 bytes), key, value length (4 bytes), value; then tag 0, the manifest (a 4-byte length and
 * {@code name=value} lines, UTF-8), the number of rows (8 bytes), and the CRC32C of every record
 * byte and the manifest (4 bytes). All integers are big-endian. The manifest comes last because it
 * is read from the rows themselves (the meta rows of the same snapshot): iq80 LevelDB may lose a
 * row overwritten after a snapshot from a point read at that snapshot, never from an iterator that
 * ran through; a backup whose iterator had to be reopened fails instead. A file cut short has no
 * trailer; a damaged one fails the CRC, the gzip CRC, the state digest recomputed from its rows, or
 * the consistency of its meta rows.
 *
 * <p>Memory stays bounded: rows stream through, and a restore writes them in batches of at most
 * {@link #RESTORE_BATCH_BYTES}.
 */
public final class StoreBackup {
  static final String MAGIC = "EDGESYNC-BACKUP 1\n";
  static final int RESTORE_BATCH_BYTES = 4 << 20;
  private static final int MAX_MANIFEST_BYTES = 64 * 1024;
  // A row's key: a prefix, a user key (at most 64 KiB) and at most 8 more bytes; a value: a state
  // row's header and a value (at most 64 MiB).
  private static final int MAX_KEY_BYTES = (64 << 10) + 64;
  private static final int MAX_VALUE_BYTES = (64 << 20) + (64 << 10);

  private StoreBackup() {}

  /**
   * What a backup holds, from its manifest; {@code rows} and {@code bytes} are known once it was
   * read through (0 before).
   */
  public record Manifest(
      String nodeId, String logId, long headSeq, String digest, long createdHlc, Instant takenAt, long rows, long bytes) {

    Map<String, String> fields() {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("nodeId", nodeId);
      m.put("logId", logId);
      m.put("headSeq", Long.toString(headSeq));
      m.put("digest", digest);
      m.put("createdHlc", Long.toString(createdHlc));
      m.put("takenAt", takenAt.toString());
      m.put("layout", Long.toString(StoreLayout.FORMAT_VERSION));
      return m;
    }

    Manifest withCounts(long newRows, long newBytes) {
      return new Manifest(nodeId, logId, headSeq, digest, createdHlc, takenAt, newRows, newBytes);
    }
  }

  /** A backup that cannot be read: damaged, cut short, or not a backup. */
  public static final class DamagedBackupException extends StorageException {
    private static final long serialVersionUID = 1L;

    DamagedBackupException(String message) {
      super(message);
    }
  }

  /**
   * Writes a backup of {@code kv} as of one snapshot to {@code out} (not closed).
   *
   * @param progress called with the rows written so far, every 100,000 rows
   */
  static Manifest write(KvStore kv, OutputStream out, Instant now, LongConsumer progress) throws IOException {
    long retriesBefore = kv.readRetries();
    try (KvStore.Snapshot snapshot = kv.snapshot()) {
      GZIPOutputStream gzip = new GZIPOutputStream(out, 64 * 1024);
      DataOutputStream data = new DataOutputStream(new BufferedOutputStream(gzip, 64 * 1024));
      data.write(MAGIC.getBytes(StandardCharsets.US_ASCII));
      CRC32C crc = new CRC32C();
      Map<String, byte[]> meta = new LinkedHashMap<>();
      long rows = 0;
      long bytes = 0;
      try (KvStore.RowIterator it = kv.iterate(snapshot, new byte[0])) {
        while (it.hasNext()) {
          KvStore.Row row = it.next();
          byte[] header = recordHeader(row.key().length);
          byte[] valueLength = intBytes(row.value().length);
          data.write(header);
          data.write(row.key());
          data.write(valueLength);
          data.write(row.value());
          crc.update(header);
          crc.update(row.key());
          crc.update(valueLength);
          crc.update(row.value());
          noteMeta(meta, row);
          rows++;
          bytes += row.key().length + row.value().length;
          if (rows % 100_000 == 0) {
            progress.accept(rows);
          }
        }
      }
      if (kv.readRetries() != retriesBefore) {
        // A reopened iterator may have missed rows overwritten after the snapshot.
        throw new StorageException(
            "the backup read had to be retried (LevelDB compacted a table it was reading), so it may not be one"
                + " consistent snapshot; nothing usable was written: take the backup again");
      }
      Manifest manifest = manifestOf(meta, now).withCounts(rows, bytes);
      StringBuilder lines = new StringBuilder();
      manifest.fields().forEach((k, v) -> lines.append(k).append('=').append(v).append('\n'));
      byte[] manifestBytes = lines.toString().getBytes(StandardCharsets.UTF_8);
      data.writeByte(0);
      data.writeInt(manifestBytes.length);
      data.write(manifestBytes);
      crc.update(manifestBytes);
      data.writeLong(rows);
      data.writeInt((int) crc.getValue());
      data.flush();
      gzip.finish();
      out.flush();
      return manifest;
    }
  }

  /** The meta rows a manifest and the checks need: {@code 'm' + name}. */
  private static final List<String> META_NAMES =
      List.of(StoreLayout.META_FORMAT, StoreLayout.META_NODE_ID, StoreLayout.META_LOG_ID, StoreLayout.META_HEAD_SEQ,
          StoreLayout.META_DIGEST, StoreLayout.META_HLC, StoreLayout.META_CREATED_HLC);

  private static void noteMeta(Map<String, byte[]> meta, KvStore.Row row) {
    for (String name : META_NAMES) {
      if (java.util.Arrays.equals(row.key(), StoreLayout.metaKey(name))) {
        meta.put(name, row.value());
      }
    }
  }

  /** The manifest the meta rows of a database describe; refuses rows that are not a database. */
  private static Manifest manifestOf(Map<String, byte[]> meta, Instant takenAt) {
    for (String name : META_NAMES) {
      if (!meta.containsKey(name) && !name.equals(StoreLayout.META_CREATED_HLC)) {
        throw new DamagedBackupException("its rows are not an edgesync database: the meta row '" + name + "' is missing");
      }
    }
    long format = StoreLayout.decodeLong(StoreLayout.META_FORMAT, meta.get(StoreLayout.META_FORMAT));
    if (format != StoreLayout.FORMAT_VERSION) {
      throw new DamagedBackupException(
          "it holds a database of layout version " + format + ", but this edgesync reads version "
              + StoreLayout.FORMAT_VERSION + ": restore it with the edgesync version that wrote it");
    }
    byte[] created = meta.get(StoreLayout.META_CREATED_HLC);
    return new Manifest(
        new String(meta.get(StoreLayout.META_NODE_ID), StandardCharsets.UTF_8),
        new String(meta.get(StoreLayout.META_LOG_ID), StandardCharsets.UTF_8),
        StoreLayout.decodeLong(StoreLayout.META_HEAD_SEQ, meta.get(StoreLayout.META_HEAD_SEQ)),
        StoreLayout.decodeDigest(meta.get(StoreLayout.META_DIGEST)).toHex(),
        created == null ? 0 : StoreLayout.decodeLong(StoreLayout.META_CREATED_HLC, created),
        takenAt,
        0,
        0);
  }

  /**
   * Reads a backup through and checks it: the format, the CRC of its records, its row count and the
   * state digest of its state rows against its manifest.
   *
   * @throws DamagedBackupException naming what is wrong
   */
  public static Manifest verify(InputStream in) {
    return read(in, row -> {});
  }

  /**
   * Rebuilds the database of the data dir {@code dataDir}, which must not exist or be empty (old
   * watermarks there would skip what the peers wrote since the backup). The rows go into a staging
   * directory first, renamed into place only once the whole backup has checked out; on any failure
   * nothing is left behind, not even a data dir this made.
   *
   * @param expectedNodeId the node id the database is for, or null to take the backup's
   * @throws IllegalArgumentException when {@code dataDir} is not empty or the backup is of another node
   * @throws DamagedBackupException when the backup is damaged
   */
  public static Manifest restore(InputStream in, Path dataDir, String expectedNodeId) {
    boolean created;
    try {
      if (!DataDirs.isAbsentOrEmpty(dataDir)) {
        throw new IllegalArgumentException(
            dataDir + " is not empty: a restore goes into a new, empty data dir (old watermarks there would skip"
                + " what the peers wrote since the backup); choose another one, or move this one aside first");
      }
      created = !Files.exists(dataDir);
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot use " + dataDir + ": " + e.getMessage(), e);
    }
    Path dbDir = dataDir.resolve(DataDirs.DATABASE);
    Path staging = dataDir.resolve(DataDirs.DATABASE + ".restoring");
    try {
      Manifest manifest;
      try (LevelDbKvStore kv = LevelDbKvStore.open(staging)) {
        List<KvStore.Mutation> batch = new ArrayList<>();
        long[] batchBytes = {0};
        manifest =
            read(
                in,
                row -> {
                  batch.add(KvStore.Mutation.put(row.key(), row.value()));
                  batchBytes[0] += row.key().length + row.value().length;
                  if (batchBytes[0] >= RESTORE_BATCH_BYTES) {
                    kv.write(List.copyOf(batch), false);
                    batch.clear();
                    batchBytes[0] = 0;
                  }
                },
                expectedNodeId);
        // The last write is synced, and with it everything written before.
        kv.write(List.copyOf(batch), true);
      }
      Files.move(staging, dbDir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      DataDirs.syncDirectory(dataDir);
      return manifest;
    } catch (IOException e) {
      throw discard(created ? dataDir : staging, new UncheckedIOException("cannot restore into " + dataDir + ": " + e.getMessage(), e));
    } catch (RuntimeException e) {
      throw discard(created ? dataDir : staging, e);
    }
  }

  /** Removes what a failed restore wrote; a failure to remove it travels with {@code cause}. */
  private static RuntimeException discard(Path dir, RuntimeException cause) {
    try {
      DataDirs.deleteTree(dir);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
    return cause;
  }

  private interface RowSink {
    void accept(KvStore.Row row) throws IOException;
  }

  private static Manifest read(InputStream in, RowSink sink) {
    return read(in, sink, null);
  }

  private static Manifest read(InputStream in, RowSink sink, String expectedNodeId) {
    try {
      DataInputStream data = new DataInputStream(new BufferedInputStream(new GZIPInputStream(in, 64 * 1024), 64 * 1024));
      byte[] magic = data.readNBytes(MAGIC.length());
      if (!new String(magic, StandardCharsets.US_ASCII).equals(MAGIC)) {
        throw new DamagedBackupException("not an edgesync backup (it does not start with " + MAGIC.strip() + ")");
      }
      CRC32C crc = new CRC32C();
      StateDigest digest = StateDigest.EMPTY;
      Map<String, byte[]> meta = new LinkedHashMap<>();
      long maxSeq = 0;
      long rows = 0;
      long bytes = 0;
      while (true) {
        int tag = data.readUnsignedByte();
        if (tag == 0) {
          break;
        }
        if (tag != 1) {
          throw new DamagedBackupException("record " + (rows + 1) + " has the unknown tag " + tag);
        }
        byte[] key = field(data, MAX_KEY_BYTES, "key of record " + (rows + 1));
        byte[] value = field(data, MAX_VALUE_BYTES, "value of record " + (rows + 1));
        crc.update(recordHeader(key.length));
        crc.update(key);
        crc.update(intBytes(value.length));
        crc.update(value);
        KvStore.Row row = new KvStore.Row(key, value);
        noteMeta(meta, row);
        if (key.length > 0 && key[0] == StoreLayout.STATE) {
          digest = digest.plus(StateDigest.contribution(StoreLayout.decodeState(StoreLayout.userKey(key), value)));
        } else if (StoreLayout.isSeqKey(key)) {
          maxSeq = Math.max(maxSeq, StoreLayout.seqOf(key));
        }
        sink.accept(row);
        rows++;
        bytes += key.length + value.length;
      }
      byte[] manifestBytes = field(data, MAX_MANIFEST_BYTES, "manifest");
      crc.update(manifestBytes);
      Manifest manifest = parseManifest(new String(manifestBytes, StandardCharsets.UTF_8));
      long declaredRows = data.readLong();
      int declaredCrc = data.readInt();
      if (declaredRows != rows || declaredCrc != (int) crc.getValue()) {
        throw new DamagedBackupException(
            "its records do not match its trailer (" + rows + " rows read, " + declaredRows + " written; CRC32C "
                + Integer.toHexString((int) crc.getValue()) + " read, " + Integer.toHexString(declaredCrc) + " written)");
      }
      if (data.read() != -1) {
        throw new DamagedBackupException("it has bytes after its trailer");
      }
      Manifest fromRows = manifestOf(meta, manifest.takenAt());
      if (!fromRows.equals(manifest)) {
        throw new DamagedBackupException("its meta rows (" + fromRows + ") disagree with its manifest (" + manifest + ")");
      }
      if (!digest.toHex().equals(manifest.digest())) {
        throw new DamagedBackupException(
            "its state rows sum to the digest " + digest.toHex() + ", not the " + manifest.digest() + " of its manifest");
      }
      if (maxSeq > manifest.headSeq()) {
        throw new DamagedBackupException("its change log holds seq " + maxSeq + ", above its head seq " + manifest.headSeq());
      }
      if (expectedNodeId != null && !expectedNodeId.equals(manifest.nodeId())) {
        throw new IllegalArgumentException(
            "this backup is of node '" + manifest.nodeId() + "', not '" + expectedNodeId + "': a node's data is restored"
                + " only under its own id (start it with --id " + manifest.nodeId() + "); a new site instead starts"
                + " with an empty data dir and syncs everything from its peers");
      }
      return manifest.withCounts(rows, bytes);
    } catch (EOFException e) {
      throw new DamagedBackupException("it is cut short (no trailer): the backup did not finish, or the file was truncated");
    } catch (java.util.zip.ZipException e) {
      throw new DamagedBackupException("its compressed data is damaged (" + e.getMessage() + ")");
    } catch (StorageException e) {
      throw e instanceof DamagedBackupException d ? d : new DamagedBackupException("a row is malformed (" + e.getMessage() + ")");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the backup: " + e.getMessage(), e);
    }
  }

  private static Manifest parseManifest(String text) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        m.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    try {
      return new Manifest(
          require(m, "nodeId"),
          require(m, "logId"),
          Long.parseLong(require(m, "headSeq")),
          require(m, "digest"),
          Long.parseLong(require(m, "createdHlc")),
          Instant.parse(require(m, "takenAt")),
          0,
          0);
    } catch (NumberFormatException | java.time.format.DateTimeParseException e) {
      throw new DamagedBackupException("its manifest is malformed (" + e.getMessage() + ")");
    }
  }

  private static String require(Map<String, String> m, String name) {
    String v = m.get(name);
    if (v == null || v.isEmpty()) {
      throw new DamagedBackupException("its manifest has no " + name);
    }
    return v;
  }

  private static byte[] field(DataInputStream data, int max, String what) throws IOException {
    int length = data.readInt();
    if (length < 0 || length > max) {
      throw new DamagedBackupException("the " + what + " claims " + length + " bytes (at most " + max + ")");
    }
    // Read as the bytes arrive: a damaged length costs no more memory than the file holds.
    byte[] bytes = data.readNBytes(length);
    if (bytes.length != length) {
      throw new EOFException();
    }
    return bytes;
  }

  private static byte[] recordHeader(int keyLength) {
    return new byte[] {1, (byte) (keyLength >>> 24), (byte) (keyLength >>> 16), (byte) (keyLength >>> 8), (byte) keyLength};
  }

  private static byte[] intBytes(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }
}
