package dev.edgesync.watermark;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Persists one {@link Watermark} per peer in {@code <dataDir>/.watermarks/}.
 *
 * <p>Each peer has one small, pretty-printed JSON file with the fields {@code peerId}, {@code
 * peerLogId}, {@code peerEpoch}, {@code seq} and {@code updatedAt} (ISO-8601). A file without
 * {@code peerEpoch} (written before epochs existed) reads with an empty epoch. The file name comes from the peer id
 * (see {@link #fileFor(String)}); ids that are not plain file-name characters are encoded, so no
 * id can name a path outside the directory.
 *
 * <p><b>Crash safety.</b> {@link #write(Watermark)} writes a temporary file in the same directory,
 * forces it to disk, renames it over the old file atomically and then forces the directory, so
 * after a crash a peer's file holds either the old or the new watermark, never a mix. Temporary
 * files left by a crash are ignored by reads and deleted by {@link #open(Path, Clock)}.
 *
 * <p><b>Bad content is not fatal.</b> A file that is empty, truncated, not JSON, missing a field,
 * or that names another peer is reported at WARN and read as {@link Watermark#zero(String)}: the
 * node then re-syncs that peer from the beginning, which is safe because applying an entry twice
 * changes nothing. Only real I/O failures (permission denied, disk errors) throw, as {@link
 * UncheckedIOException} naming the path; the caller is expected to stop the node's writes then.
 *
 * <p><b>Threading.</b> All methods may be called from any thread. Writes and deletes for the same
 * peer are serialised; different peers are written concurrently. Reads take no lock: a reader
 * sees either the old or the new file because the replacement is an atomic rename.
 *
 * <p><b>Lifecycle.</b> The store holds no open file between calls. {@link #close()} only marks it
 * closed: a call already running completes normally, and any later call throws {@link
 * IllegalStateException}.
 */
public final class WatermarkStore implements AutoCloseable {

  /** The name of the directory, inside the data directory, that holds the watermark files. */
  public static final String DIRECTORY_NAME = ".watermarks";

  /**
   * The largest watermark file read, in bytes. A real file is about 150 bytes; anything larger
   * than this is not a watermark and is treated as corrupt rather than read into memory.
   */
  static final int MAX_FILE_BYTES = 64 * 1024;

  private static final Logger log = LoggerFactory.getLogger(WatermarkStore.class);

  /**
   * Directory fsync is how POSIX systems make a rename durable. Windows cannot open a directory as
   * a file channel and throws; there the rename is made durable by the file system itself.
   */
  private static final boolean DIRECTORY_FSYNC_MAY_FAIL =
      System.getProperty("os.name", "").startsWith("Windows");

  private final Path directory;
  private final Clock clock;
  private final ObjectMapper mapper;
  private final ConcurrentHashMap<String, Object> fileLocks = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private volatile WriteHook writeHook = temp -> {};

  private WatermarkStore(Path directory, Clock clock) {
    this.directory = directory;
    this.clock = clock;
    this.mapper =
        new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  }

  /**
   * Opens the store in {@code <dataDir>/.watermarks/}, creating the directory if needed and
   * deleting temporary files left by an interrupted write.
   *
   * @param dataDir the node's data directory
   * @param clock the clock that stamps {@link #advance(String, String, long)}
   * @throws UncheckedIOException if the directory cannot be created or listed
   */
  public static WatermarkStore open(Path dataDir, Clock clock) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(clock, "clock");
    Path directory = dataDir.resolve(DIRECTORY_NAME);
    boolean created = !Files.isDirectory(directory);
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot create the watermark directory " + directory + ": " + describe(e), e);
    }
    if (created) {
      // The new directory entry lives in dataDir; force dataDir so that files renamed into
      // .watermarks/ later cannot be lost with the directory itself after a crash.
      try {
        forceDirectory(directory.getParent());
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot fsync the data directory " + directory.getParent() + ": " + describe(e), e);
      }
    }
    WatermarkStore store = new WatermarkStore(directory, clock);
    store.deleteLeftoverTempFiles();
    return store;
  }

  /** Opens the store with the system UTC clock; see {@link #open(Path, Clock)}. */
  public static WatermarkStore open(Path dataDir) {
    return open(dataDir, Clock.systemUTC());
  }

  /** Returns the directory that holds the watermark files. */
  public Path directory() {
    return directory;
  }

  /**
   * Returns the path of the file that holds the watermark of {@code peerId}. The path is always
   * directly inside {@link #directory()}, whatever the id contains.
   *
   * @throws IllegalArgumentException if {@code peerId} is empty
   */
  public Path fileFor(String peerId) {
    Objects.requireNonNull(peerId, "peerId");
    return directory.resolve(WatermarkFileNames.fileNameFor(peerId));
  }

  /**
   * Reads the watermark of {@code peerId}.
   *
   * @return the stored watermark, or {@link Watermark#zero(String)} if there is none or the file
   *     is unusable (which is logged at WARN)
   * @throws IllegalArgumentException if {@code peerId} is empty
   * @throws UncheckedIOException if the file exists but cannot be read
   * @throws IllegalStateException if the store is closed
   */
  public Watermark read(String peerId) {
    checkOpen();
    Path file = fileFor(peerId);
    byte[] content;
    try {
      content = readBounded(file);
    } catch (NoSuchFileException e) {
      return Watermark.zero(peerId);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read watermark file " + file + ": " + describe(e), e);
    }
    try {
      Watermark watermark = parse(content);
      if (!watermark.peerId().equals(peerId)) {
        throw new CorruptFileException(
            "it holds the watermark of peer "
                + quote(watermark.peerId())
                + ", not of peer "
                + quote(peerId));
      }
      return watermark;
    } catch (CorruptFileException e) {
      warnUnusable(file, "peer " + quote(peerId), e.getMessage());
      return Watermark.zero(peerId);
    }
  }

  /**
   * Reads the watermarks of all peers that have a usable file. Unusable files are logged at WARN
   * and left out, which is the same as reading them as zero.
   *
   * @return an unmodifiable map from peer id to watermark, in peer id order
   * @throws UncheckedIOException if the directory or a file in it cannot be read
   * @throws IllegalStateException if the store is closed
   */
  public Map<String, Watermark> readAll() {
    checkOpen();
    Map<String, Watermark> result = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
      for (Path file : files) {
        String fileName = file.getFileName().toString();
        if (!WatermarkFileNames.isWatermarkFile(fileName)) {
          continue;
        }
        String peer = WatermarkFileNames.peerIdOf(fileName).map(WatermarkStore::quote).orElse(null);
        String peerDescription = peer != null ? "peer " + peer : "the peer of this file";
        byte[] content;
        try {
          content = readBounded(file);
        } catch (NoSuchFileException e) {
          // Deleted between listing and reading: the peer no longer has a watermark.
          continue;
        } catch (IOException e) {
          throw new UncheckedIOException(
              "Cannot read watermark file " + file + ": " + describe(e), e);
        }
        try {
          Watermark watermark = parse(content);
          String expectedName = WatermarkFileNames.fileNameFor(watermark.peerId());
          if (!expectedName.equals(fileName)) {
            throw new CorruptFileException(
                "it holds the watermark of peer "
                    + quote(watermark.peerId())
                    + ", whose file would be "
                    + expectedName);
          }
          result.put(watermark.peerId(), watermark);
        } catch (CorruptFileException e) {
          warnUnusable(file, peerDescription, e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot list the watermark directory " + directory + ": " + describe(e), e);
    }
    return Collections.unmodifiableMap(result);
  }

  /**
   * Durably stores {@code watermark} as the watermark of its peer, replacing the previous one.
   * When this method returns, the new watermark survives a crash or power loss.
   *
   * @throws UncheckedIOException if the file cannot be written, forced or renamed; the previous
   *     watermark is then still in place
   * @throws IllegalStateException if the store is closed
   */
  public void write(Watermark watermark) {
    checkOpen();
    Objects.requireNonNull(watermark, "watermark");
    Path file = fileFor(watermark.peerId());
    byte[] content = serialize(watermark);
    synchronized (lockFor(file)) {
      Path temp = null;
      try {
        temp =
            Files.createTempFile(
                directory,
                WatermarkFileNames.TEMP_PREFIX + file.getFileName() + ".",
                WatermarkFileNames.TEMP_SUFFIX);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
          ByteBuffer buffer = ByteBuffer.wrap(content);
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
          channel.force(true);
        }
        writeHook.afterTempFileWritten(temp);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        temp = null;
        forceDirectory(directory);
      } catch (IOException e) {
        deleteTempFile(temp, e);
        throw new UncheckedIOException(
            "Cannot write watermark file " + file + ": " + describe(e), e);
      } catch (RuntimeException e) {
        deleteTempFile(temp, e);
        throw e;
      }
    }
  }

  /**
   * Records that entries up to {@code seq} of the log {@code peerLogId} of {@code peerId} are
   * durably applied, stamped with the store's clock, and returns the watermark written.
   *
   * @throws UncheckedIOException if the file cannot be written
   * @throws IllegalStateException if the store is closed
   */
  public Watermark advance(String peerId, String peerLogId, long seq) {
    return advance(peerId, peerLogId, seq, Watermark.NO_EPOCH);
  }

  /**
   * Records that entries up to {@code seq} of the log {@code peerLogId} of {@code peerId}, which
   * belongs to epoch {@code peerEpoch} of that log, are durably applied, stamped with the store's
   * clock, and returns the watermark written.
   *
   * @throws UncheckedIOException if the file cannot be written
   * @throws IllegalStateException if the store is closed
   */
  public Watermark advance(String peerId, String peerLogId, long seq, String peerEpoch) {
    Watermark watermark = new Watermark(peerId, peerLogId, seq, clock.instant(), peerEpoch);
    write(watermark);
    return watermark;
  }

  /**
   * Deletes the watermark of {@code peerId}, if any; a later {@link #read(String)} returns zero.
   *
   * @throws IllegalArgumentException if {@code peerId} is empty
   * @throws UncheckedIOException if the file exists but cannot be deleted
   * @throws IllegalStateException if the store is closed
   */
  public void delete(String peerId) {
    checkOpen();
    Path file = fileFor(peerId);
    synchronized (lockFor(file)) {
      try {
        if (Files.deleteIfExists(file)) {
          forceDirectory(directory);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot delete watermark file " + file + ": " + describe(e), e);
      }
    }
  }

  /**
   * Marks the store closed. Calls already running complete; later calls throw {@link
   * IllegalStateException}. The store holds no open file, so there is nothing else to release.
   */
  @Override
  public void close() {
    closed = true;
  }

  /** Test seam: runs {@code hook} after each temp file is forced and before it is renamed. */
  void setWriteHook(WriteHook hook) {
    this.writeHook = Objects.requireNonNull(hook, "hook");
  }

  /** Called by {@link #write(Watermark)} between forcing the temp file and renaming it. */
  @FunctionalInterface
  interface WriteHook {
    void afterTempFileWritten(Path tempFile) throws IOException;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("The watermark store for " + directory + " is closed");
    }
  }

  private Object lockFor(Path file) {
    return fileLocks.computeIfAbsent(file.getFileName().toString(), name -> new Object());
  }

  private void deleteLeftoverTempFiles() {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
      for (Path file : files) {
        if (WatermarkFileNames.isTempFile(file.getFileName().toString())) {
          Files.deleteIfExists(file);
          log.info(
              "Deleted leftover temporary watermark file {}: a write was interrupted before its"
                  + " rename, so the previous watermark of that peer is still in place.",
              file);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot clean temporary files in the watermark directory "
              + directory
              + ": "
              + describe(e),
          e);
    }
  }

  /** Reads at most {@link #MAX_FILE_BYTES} + 1 bytes, so that an oversize file is noticed. */
  private static byte[] readBounded(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(MAX_FILE_BYTES + 1);
    }
  }

  private Watermark parse(byte[] content) throws CorruptFileException {
    if (content.length == 0) {
      throw new CorruptFileException("the file is empty");
    }
    if (content.length > MAX_FILE_BYTES) {
      throw new CorruptFileException(
          "the file is larger than " + MAX_FILE_BYTES + " bytes, so it is not a watermark");
    }
    JsonNode root;
    try {
      root = mapper.readTree(content);
    } catch (IOException e) {
      // The content is already in memory, so any exception here is about the content itself:
      // truncated JSON, bad UTF-8, or bytes that are not JSON at all.
      throw new CorruptFileException(
          "it is not valid JSON (truncated or overwritten?): " + firstLine(e.getMessage()));
    }
    if (root == null || !root.isObject()) {
      throw new CorruptFileException("it does not hold a JSON object");
    }
    String peerId = textField(root, "peerId");
    if (peerId.isEmpty()) {
      throw new CorruptFileException("its field 'peerId' is empty");
    }
    String peerLogId = textField(root, "peerLogId");
    // Absent in files written before log epochs: an empty epoch makes the peer stream from 0.
    String peerEpoch = Watermark.NO_EPOCH;
    if (root.has("peerEpoch")) {
      peerEpoch = textField(root, "peerEpoch");
    }
    JsonNode seqNode = root.get("seq");
    if (seqNode == null || !seqNode.isIntegralNumber() || !seqNode.canConvertToLong()) {
      throw new CorruptFileException("its field 'seq' is missing or not a whole number");
    }
    long seq = seqNode.longValue();
    if (seq < 0) {
      throw new CorruptFileException("its field 'seq' is negative (" + seq + ")");
    }
    String updatedAtText = textField(root, "updatedAt");
    Instant updatedAt;
    try {
      updatedAt = Instant.parse(updatedAtText);
    } catch (DateTimeParseException e) {
      throw new CorruptFileException(
          "its field 'updatedAt' is not an ISO-8601 instant (" + quote(updatedAtText) + ")");
    }
    return new Watermark(peerId, peerLogId, seq, updatedAt, peerEpoch);
  }

  private static String textField(JsonNode root, String name) throws CorruptFileException {
    JsonNode node = root.get(name);
    if (node == null || !node.isTextual()) {
      throw new CorruptFileException("its field '" + name + "' is missing or not a string");
    }
    return node.textValue();
  }

  private byte[] serialize(Watermark watermark) {
    // Fields are written one by one, in a fixed order, so that the file reads naturally and
    // does not depend on Jackson's record support or a java.time module.
    ObjectNode root = mapper.createObjectNode();
    root.put("peerId", watermark.peerId());
    root.put("peerLogId", watermark.peerLogId());
    root.put("peerEpoch", watermark.peerEpoch());
    root.put("seq", watermark.seq());
    root.put("updatedAt", watermark.updatedAt().toString());
    try {
      String text = mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
      return text.getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      // Serialising a tree of strings and numbers to memory cannot fail.
      throw new IllegalStateException("Cannot serialise watermark " + watermark, e);
    }
  }

  private static void forceDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Windows cannot open a directory as a channel; its file system makes renames durable
      // without it. Everywhere else a failure here means the rename may not survive a crash.
      if (!DIRECTORY_FSYNC_MAY_FAIL) {
        throw e;
      }
    }
  }

  private static void deleteTempFile(Path temp, Exception failure) {
    if (temp == null) {
      return;
    }
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      // The original failure is what the caller must see; this one rides along with it, and the
      // temp file is removed by the next open() in any case.
      failure.addSuppressed(e);
    }
  }

  private static void warnUnusable(Path file, String peerDescription, String reason) {
    log.warn(
        "Watermark file {} is unusable: {}. This node will re-sync {} from seq 0, which is safe"
            + " because applying entries is idempotent; the file is replaced at the next"
            + " watermark write.",
        file,
        reason,
        peerDescription);
  }

  private static String describe(IOException e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : " (" + message + ")");
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "no detail";
    }
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }

  /** Quotes a peer id for a log line, escaping control characters so one id is one line. */
  static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('\'');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('\'').toString();
  }

  /** Why a file cannot be used; the message completes "Watermark file X is unusable: ...". */
  private static final class CorruptFileException extends Exception {
    private static final long serialVersionUID = 1L;

    CorruptFileException(String reason) {
      super(reason, null, false, false);
    }
  }
}
