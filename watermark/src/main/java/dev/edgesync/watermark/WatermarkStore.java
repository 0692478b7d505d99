package dev.edgesync.watermark;

import static dev.edgesync.watermark.WatermarkFileFormat.quote;

import dev.edgesync.watermark.WatermarkFileFormat.CorruptFileException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
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
 * peerLogId}, {@code peerEpoch}, {@code seq} and {@code updatedAt} (ISO-8601); {@link
 * WatermarkFileFormat} reads and writes it. A file without {@code peerEpoch} (written before
 * epochs existed) reads with an empty epoch. The file name comes from the peer id
 * (see {@link #fileFor(String)}); ids that are not plain file-name characters are encoded, so no
 * id can name a path outside the directory.
 *
 * <p><b>Crash safety.</b> {@link #write(Watermark)} writes a temporary file in the same directory,
 * forces it to disk, renames it over the old file atomically and then forces the directory ({@link
 * AtomicFileWrite}), so
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

  private static final Logger log = LoggerFactory.getLogger(WatermarkStore.class);

  private final Path directory;
  private final Clock clock;
  private final ConcurrentHashMap<String, Object> fileLocks = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private volatile AtomicFileWrite.BeforeRename writeHook = temp -> {};

  private WatermarkStore(Path directory, Clock clock) {
    this.directory = directory;
    this.clock = clock;
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
        AtomicFileWrite.forceDirectory(directory.getParent());
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
      content = WatermarkFileFormat.readBounded(file);
    } catch (NoSuchFileException e) {
      return Watermark.zero(peerId);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read watermark file " + file + ": " + describe(e), e);
    }
    try {
      Watermark watermark = WatermarkFileFormat.parse(content);
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
        String peer = WatermarkFileNames.peerIdOf(fileName).map(WatermarkFileFormat::quote).orElse(null);
        String peerDescription = peer != null ? "peer " + peer : "the peer of this file";
        byte[] content;
        try {
          content = WatermarkFileFormat.readBounded(file);
        } catch (NoSuchFileException e) {
          // Deleted between listing and reading: the peer no longer has a watermark.
          continue;
        } catch (IOException e) {
          throw new UncheckedIOException(
              "Cannot read watermark file " + file + ": " + describe(e), e);
        }
        try {
          Watermark watermark = WatermarkFileFormat.parse(content);
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
    byte[] content = WatermarkFileFormat.serialize(watermark);
    synchronized (lockFor(file)) {
      try {
        AtomicFileWrite.replace(
            file,
            content,
            WatermarkFileNames.TEMP_PREFIX + file.getFileName() + ".",
            WatermarkFileNames.TEMP_SUFFIX,
            writeHook);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot write watermark file " + file + ": " + describe(e), e);
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
          AtomicFileWrite.forceDirectory(directory);
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
  void setWriteHook(AtomicFileWrite.BeforeRename hook) {
    this.writeHook = Objects.requireNonNull(hook, "hook");
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
}
