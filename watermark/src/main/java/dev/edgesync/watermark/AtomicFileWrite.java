package dev.edgesync.watermark;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces a file so that after a crash or power loss it holds either its old or its new content,
 * never a mix: the new content goes to a temporary file in the same directory, which is forced to
 * disk, renamed over the file atomically, and then the directory is forced so the rename itself is
 * durable. (The pattern of ratis {@code AtomicFileOutputStream}.)
 *
 * <p>A temporary file left by a crash is the caller's to delete; its name starts with the prefix
 * and ends with the suffix the caller passed. Stateless; callable from any thread, but two
 * replacements of the same file must be serialised by the caller.
 */
final class AtomicFileWrite {

  /**
   * Directory fsync is how POSIX systems make a rename durable. Windows cannot open a directory as
   * a file channel and throws; there the rename is made durable by the file system itself.
   */
  private static final boolean DIRECTORY_FSYNC_MAY_FAIL =
      System.getProperty("os.name", "").startsWith("Windows");

  private AtomicFileWrite() {}

  /** Called between forcing the temp file and renaming it; a test seam for the crash window. */
  @FunctionalInterface
  interface BeforeRename {
    void afterTempFileWritten(Path tempFile) throws IOException;
  }

  /**
   * Durably replaces {@code file} with {@code content}. When this returns, the new content
   * survives a crash; when it throws, the previous content is still in place and the temp file
   * has been deleted (a failure to delete it rides along as a suppressed exception).
   *
   * @param tempPrefix the start of the temp file's name
   * @param tempSuffix the end of the temp file's name
   * @throws IOException if the temp file cannot be written or forced, or the rename or the
   *     directory fsync fails
   */
  static void replace(
      Path file, byte[] content, String tempPrefix, String tempSuffix, BeforeRename beforeRename)
      throws IOException {
    Path directory = file.getParent();
    Path temp = null;
    try {
      temp = Files.createTempFile(directory, tempPrefix, tempSuffix);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      beforeRename.afterTempFileWritten(temp);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      temp = null;
      forceDirectory(directory);
    } catch (IOException | RuntimeException e) {
      deleteTempFile(temp, e);
      throw e;
    }
  }

  /** Forces {@code dir} to disk, which makes creations, renames and deletes in it durable. */
  static void forceDirectory(Path dir) throws IOException {
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
      // temp file is removed by the caller's next clean-up in any case.
      failure.addSuppressed(e);
    }
  }
}
