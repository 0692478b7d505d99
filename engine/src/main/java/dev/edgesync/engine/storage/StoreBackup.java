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
 * <p>Format, inside gzip: the line {@code EDGESYNC-BACKUP 1}; the manifest (a 4-byte length and
 * {@code name=value} lines, UTF-8); then one record per row: tag 1, key length (4 bytes), key,
 * value length (4 bytes), value; then tag 0, the number of rows (8 bytes), and the CRC32C of every
 * record byte before it (4 bytes). All integers are big-endian. A file cut short has no trailer,
 * and a damaged one fails the CRC, the gzip CRC, or the state digest recomputed from its rows.
 *
 * <p>Memory stays bounded: rows stream through, and a restore writes them in batches of at most
 * {@link #RESTORE_BATCH_BYTES}.
 */
public final class StoreBackup {
  static final String MAGIC = "EDGESYNC-BACKUP 1\n";
  static final int RESTORE_BATCH_BYTES = 4 << 20;
  private static final int MAX_MANIFEST_BYTES = 64 * 1024;
  private static final int MAX_FIELD_BYTES = 256 << 20;

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
    try (KvStore.Snapshot snapshot = kv.snapshot()) {
      Manifest manifest =
          new Manifest(
              text(kv.get(snapshot, StoreLayout.metaKey(StoreLayout.META_NODE_ID))),
              text(kv.get(snapshot, StoreLayout.metaKey(StoreLayout.META_LOG_ID))),
              longMeta(kv, snapshot, StoreLayout.META_HEAD_SEQ),
              StoreLayout.decodeDigest(kv.get(snapshot, StoreLayout.metaKey(StoreLayout.META_DIGEST))).toHex(),
              longMeta(kv, snapshot, StoreLayout.META_CREATED_HLC),
              now,
              0,
              0);
      GZIPOutputStream gzip = new GZIPOutputStream(out, 64 * 1024);
      DataOutputStream data = new DataOutputStream(new BufferedOutputStream(gzip, 64 * 1024));
      data.write(MAGIC.getBytes(StandardCharsets.US_ASCII));
      StringBuilder lines = new StringBuilder();
      manifest.fields().forEach((k, v) -> lines.append(k).append('=').append(v).append('\n'));
      byte[] manifestBytes = lines.toString().getBytes(StandardCharsets.UTF_8);
      data.writeInt(manifestBytes.length);
      data.write(manifestBytes);
      CRC32C crc = new CRC32C();
      long rows = 0;
      long bytes = 0;
      try (KvStore.RowIterator it = kv.iterate(snapshot, new byte[0])) {
        while (it.hasNext()) {
          KvStore.Row row = it.next();
          byte[] header = recordHeader(row.key().length);
          data.write(header);
          data.write(row.key());
          byte[] valueLength = intBytes(row.value().length);
          data.write(valueLength);
          data.write(row.value());
          crc.update(header);
          crc.update(row.key());
          crc.update(valueLength);
          crc.update(row.value());
          rows++;
          bytes += row.key().length + row.value().length;
          if (rows % 100_000 == 0) {
            progress.accept(rows);
          }
        }
      }
      data.writeByte(0);
      data.writeLong(rows);
      data.writeInt((int) crc.getValue());
      data.flush();
      gzip.finish();
      out.flush();
      return manifest.withCounts(rows, bytes);
    }
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
   * Rebuilds a database from a backup in {@code dbDir}, which must not exist or be empty. The rows
   * go into a sibling directory first, which is renamed into place only once the whole backup has
   * checked out; on any failure nothing is left behind.
   *
   * @param expectedNodeId the node id the database is for, or null to take the backup's
   * @throws IllegalArgumentException when {@code dbDir} is not empty or the backup is of another node
   * @throws DamagedBackupException when the backup is damaged
   */
  public static Manifest restore(InputStream in, Path dbDir, String expectedNodeId) {
    if (Files.exists(dbDir) && !isEmptyDir(dbDir)) {
      throw new IllegalArgumentException(
          dbDir + " is not empty: a restore never overwrites a database; restore into a new data dir, or move this"
              + " one aside first");
    }
    Path staging = dbDir.resolveSibling(dbDir.getFileName() + ".restoring");
    deleteTree(staging);
    boolean done = false;
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
      Files.createDirectories(dbDir.getParent());
      if (Files.exists(dbDir)) {
        Files.delete(dbDir);
      }
      Files.move(staging, dbDir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      done = true;
      return manifest;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore into " + dbDir + ": " + e.getMessage(), e);
    } finally {
      if (!done) {
        deleteTree(staging);
      }
    }
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
      byte[] magic = new byte[MAGIC.length()];
      data.readFully(magic);
      if (!new String(magic, StandardCharsets.US_ASCII).equals(MAGIC)) {
        throw new DamagedBackupException("not an edgesync backup (it does not start with " + MAGIC.strip() + ")");
      }
      Manifest manifest = parseManifest(new String(field(data, MAX_MANIFEST_BYTES, "manifest"), StandardCharsets.UTF_8));
      if (expectedNodeId != null && !expectedNodeId.equals(manifest.nodeId())) {
        throw new IllegalArgumentException(
            "this backup is of node '" + manifest.nodeId() + "', not '" + expectedNodeId + "': a node's data is restored"
                + " only under its own id (start it with --id " + manifest.nodeId() + "); a new site instead starts"
                + " with an empty data dir and syncs everything from its peers");
      }
      CRC32C crc = new CRC32C();
      StateDigest digest = StateDigest.EMPTY;
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
        byte[] key = field(data, MAX_FIELD_BYTES, "key of record " + (rows + 1));
        byte[] value = field(data, MAX_FIELD_BYTES, "value of record " + (rows + 1));
        crc.update(recordHeader(key.length));
        crc.update(key);
        crc.update(intBytes(value.length));
        crc.update(value);
        if (key.length > 0 && key[0] == StoreLayout.STATE) {
          digest = digest.plus(StateDigest.contribution(StoreLayout.decodeState(StoreLayout.userKey(key), value)));
        }
        sink.accept(new KvStore.Row(key, value));
        rows++;
        bytes += key.length + value.length;
      }
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
      if (!digest.toHex().equals(manifest.digest())) {
        throw new DamagedBackupException(
            "its state rows sum to the digest " + digest.toHex() + ", not the " + manifest.digest() + " of its manifest");
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
      String layout = m.get("layout");
      if (layout == null || Long.parseLong(layout) != StoreLayout.FORMAT_VERSION) {
        throw new DamagedBackupException(
            "it holds a database of layout version " + layout + ", but this edgesync reads version "
                + StoreLayout.FORMAT_VERSION + ": restore it with the edgesync version that wrote it");
      }
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
    byte[] bytes = new byte[length];
    data.readFully(bytes);
    return bytes;
  }

  private static byte[] recordHeader(int keyLength) {
    return new byte[] {1, (byte) (keyLength >>> 24), (byte) (keyLength >>> 16), (byte) (keyLength >>> 8), (byte) keyLength};
  }

  private static byte[] intBytes(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  private static String text(byte[] bytes) {
    if (bytes == null) {
      throw new StorageException("the database has no node id or log id: it cannot be backed up");
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static long longMeta(KvStore kv, KvStore.Snapshot snapshot, String name) {
    byte[] bytes = kv.get(snapshot, StoreLayout.metaKey(name));
    return bytes == null ? 0 : StoreLayout.decodeLong(name, bytes);
  }

  private static boolean isEmptyDir(Path dir) {
    try (Stream<Path> children = Files.list(dir)) {
      return children.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + dir + ": " + e.getMessage(), e);
    }
  }
}
