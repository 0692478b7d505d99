package dev.edgesync.engine.replication;

/** A position in a peer's log that this node has committed: the log's id and the seq. */
record AppliedPosition(String logId, long seq) {
  static final AppliedPosition NONE = new AppliedPosition("", 0);
}
