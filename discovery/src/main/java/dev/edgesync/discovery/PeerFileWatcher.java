package dev.edgesync.discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a configuration file and reports a new {@link PeerSet} when the peers in it change.
 *
 * <p>The file is polled on a caller-supplied scheduler rather than watched with a {@code
 * WatchService}, because editors save by writing a new file and renaming it over the old one,
 * which file-system watches report unreliably. Each check compares the file's modification time
 * and size with the last check; if they are unchanged and the file was last modified well before
 * the last read, nothing more is done. Otherwise the file is read and its SHA-256 compared, and
 * only new content is parsed. (A file modified within {@link #RACY_WINDOW} of the last read is
 * always re-read, because a same-size edit within the file system's timestamp granularity would
 * leave time and size unchanged.)
 *
 * <p>New content that parses to a different set of peers is passed to the listener. New content
 * that does not parse is logged at WARN with the {@link ConfigException} message, and the
 * previous set stays in force until the file is fixed: a half-finished edit never takes peers
 * away. A file that is missing or unreadable is logged once and also keeps the previous set.
 *
 * <p><b>Threading.</b> Checks run on the scheduler's thread and never overlap; the listener is
 * called on that thread, one call at a time. {@link #close()} cancels future checks and waits for
 * a check in progress, so no listener call starts after it returns. A listener must therefore
 * not wait for another thread that is calling {@code close()}. An exception thrown by the
 * listener is logged at ERROR and does not stop the watching: the scheduler would otherwise
 * cancel the periodic check without a trace. The scheduler belongs to the caller and is not shut
 * down by {@code close()}.
 */
public final class PeerFileWatcher implements AutoCloseable {

  /**
   * How close to the last read a modification time must be for the file to be re-read even with
   * an unchanged time and size. Two seconds covers the coarsest common timestamp granularity
   * (FAT).
   */
  static final Duration RACY_WINDOW = Duration.ofSeconds(2);

  private static final Logger log = LoggerFactory.getLogger(PeerFileWatcher.class);

  private final Path file;
  private final String source;
  private final Clock clock;
  private final Consumer<PeerSet> listener;

  // Guarded by "this": checks and close() are serialised.
  private PeerSet current;
  private FileTime lastModified;
  private long lastSize = -1;
  private Instant lastReadAt;
  private byte[] lastHash;
  private String lastProblem;
  private ScheduledFuture<?> schedule;
  private boolean closed;

  /** Creates a watcher that checks only when {@link #checkNow()} is called. */
  PeerFileWatcher(Path file, PeerSet current, Clock clock, Consumer<PeerSet> listener) {
    this.file = Objects.requireNonNull(file, "file");
    this.source = ConfigFileReader.sourceOf(file);
    this.current = Objects.requireNonNull(current, "current");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /**
   * Starts watching {@code file}. The first check runs after one {@code interval}; it compares
   * the file with {@code current}, so an edit made after the caller read the file is not missed.
   *
   * @param file the configuration file
   * @param current the peers the caller is using now, normally read from {@code file} at startup
   * @param scheduler runs the checks; owned by the caller
   * @param interval the time between the end of one check and the start of the next
   * @param clock tells the time of each read, for the timestamp-granularity rule
   * @param listener receives each new, valid set of peers
   * @return the running watcher; close it to stop
   */
  public static PeerFileWatcher start(
      Path file,
      PeerSet current,
      ScheduledExecutorService scheduler,
      Duration interval,
      Clock clock,
      Consumer<PeerSet> listener) {
    Objects.requireNonNull(scheduler, "scheduler");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive, got " + interval);
    }
    PeerFileWatcher watcher = new PeerFileWatcher(file, current, clock, listener);
    long nanos = interval.toNanos();
    synchronized (watcher) {
      watcher.schedule =
          scheduler.scheduleWithFixedDelay(watcher::checkNow, nanos, nanos, TimeUnit.NANOSECONDS);
    }
    return watcher;
  }

  /**
   * Starts watching with the system clock; see {@link #start(Path, PeerSet,
   * ScheduledExecutorService, Duration, Clock, Consumer)}.
   */
  public static PeerFileWatcher start(
      Path file,
      PeerSet current,
      ScheduledExecutorService scheduler,
      Duration interval,
      Consumer<PeerSet> listener) {
    return start(file, current, scheduler, interval, Clock.systemUTC(), listener);
  }

  /** Returns the set of peers in force: the last one passed to the listener, or the initial one. */
  public synchronized PeerSet current() {
    return current;
  }

  /** Returns the watched file. */
  public Path file() {
    return file;
  }

  /**
   * Checks the file once, calling the listener if its peers changed. The scheduler calls this;
   * tests call it directly instead of waiting for the scheduler.
   */
  synchronized void checkNow() {
    if (closed) {
      return;
    }
    try {
      check();
    } catch (RuntimeException e) {
      // Thrown out of a scheduled task, this would cancel all future checks silently.
      log.error("Checking {} for peer changes failed; the next check will try again.", file, e);
    }
  }

  /**
   * Stops watching: cancels future checks and waits for a check in progress to finish. After
   * this returns, the listener is not called again. Calling it again does nothing.
   */
  @Override
  public synchronized void close() {
    closed = true;
    if (schedule != null) {
      schedule.cancel(false);
    }
  }

  private void check() {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      reportProblem(
          "the file does not exist (deleted, or in the middle of being replaced)");
      return;
    } catch (IOException e) {
      reportProblem("its attributes cannot be read: " + e);
      return;
    }
    FileTime modified = attributes.lastModifiedTime();
    long size = attributes.size();
    if (modified.equals(lastModified) && size == lastSize && !mayHideAnEdit(modified)) {
      return;
    }
    Instant readAt = clock.instant();
    byte[] content;
    try {
      content = ConfigFileReader.readBytes(file);
    } catch (ConfigException e) {
      reportProblem(e.getMessage());
      return;
    }
    lastModified = modified;
    lastSize = size;
    lastReadAt = readAt;
    lastProblem = null;
    byte[] hash = sha256(content);
    if (Arrays.equals(hash, lastHash)) {
      return;
    }
    lastHash = hash;

    PeerSet newer;
    try {
      newer = PeerFileSource.fromTree(ConfigFileReader.parse(content, file), source);
    } catch (ConfigException e) {
      log.warn(
          "Ignoring the new content of {}: {}. Keeping the previous {} peer(s) until the file is"
              + " fixed.",
          file,
          e.getMessage(),
          current.size());
      return;
    }
    if (newer.equals(current)) {
      return;
    }
    log.info("Peers in {} changed: {}.", file, current.diff(newer));
    current = newer;
    try {
      listener.accept(newer);
    } catch (RuntimeException e) {
      log.error(
          "The listener for peer changes in {} failed on {}; watching goes on.", file, newer, e);
    }
  }

  /**
   * Returns true if an edit could have left the time and size unchanged: the file was modified
   * so close to the last read that the file system's timestamp granularity could hide a second
   * modification.
   */
  private boolean mayHideAnEdit(FileTime modified) {
    return lastReadAt == null || !modified.toInstant().isBefore(lastReadAt.minus(RACY_WINDOW));
  }

  /** Logs a problem reading the file once, not at every check while it lasts. */
  private void reportProblem(String problem) {
    if (problem.equals(lastProblem)) {
      return;
    }
    lastProblem = problem;
    log.warn(
        "Cannot read peers from {}: {}. Keeping the previous {} peer(s).",
        file,
        problem,
        current.size());
  }

  private static byte[] sha256(byte[] content) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(content);
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform is required to provide SHA-256, so this cannot happen.
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
