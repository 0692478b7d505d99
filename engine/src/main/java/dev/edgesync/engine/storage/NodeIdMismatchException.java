package dev.edgesync.engine.storage;

/**
 * The data dir belongs to another node id. Starting it under a new id would make two nodes share
 * one history; the message says which ids and how to proceed.
 */
public class NodeIdMismatchException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public NodeIdMismatchException(String dataDir, String storedId, String requestedId) {
    super(
        "data dir "
            + dataDir
            + " belongs to node '"
            + storedId
            + "' but this node is configured as '"
            + requestedId
            + "': start it with id '"
            + storedId
            + "', or give the new id a new (empty) data dir");
  }
}
