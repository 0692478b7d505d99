package dev.edgesync.engine.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** File-system chores on a node's data dir: the database's place in it, emptiness, removal, syncs. */
public final class DataDirs {
  /** The database's directory inside a data dir. */
  public static final String DATABASE = "db";

  private DataDirs() {}

  /** Whether {@code dir} is absent or holds nothing. */
  public static boolean isAbsentOrEmpty(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return true;
    }
    try (Stream<Path> children = Files.list(dir)) {
      return children.findAny().isEmpty();
    }
  }

  /** Removes {@code root} and everything below it; nothing when it does not exist. */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Makes a rename in {@code dir} durable, where the platform can sync a directory (not Windows). */
  public static void syncDirectory(Path dir) {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // The rename itself is atomic; only its durability across a power loss is left to the OS.
    }
  }
}
