package dev.edgesync.engine.storage;

/** When a local write counts as committed. */
public enum Durability {
  /** After the group commit holding it is fsynced (the default): survives power loss. */
  FSYNC,
  /** After it is written to the OS: survives a process crash, not a power loss; much faster. */
  BUFFERED
}
