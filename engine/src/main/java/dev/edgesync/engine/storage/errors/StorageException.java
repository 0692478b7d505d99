package dev.edgesync.engine.storage.errors;

/**
 * The embedded store failed (I/O error, corruption, or a database that cannot be opened). The
 * node stops accepting writes when it sees one: continuing could acknowledge writes that are not
 * on disk.
 */
public class StorageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }

  public StorageException(String message) {
    super(message);
  }
}
