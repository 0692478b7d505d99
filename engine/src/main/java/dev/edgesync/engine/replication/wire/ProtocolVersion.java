package dev.edgesync.engine.replication.wire;

/**
 * The version of the replication protocol this build speaks, sent in {@code Hello} and {@code
 * Welcome}. A publisher refuses a subscriber that speaks another version with {@code
 * Refusal.PROTOCOL_VERSION}; raise it for any change that an older node would misread.
 */
public final class ProtocolVersion {
  /**
   * The protocol version of this build. 2: entries carry {@code expires_hlc}, which a node of
   * version 1 would drop from an entry and then reject it as corrupt (its CRC covers the expiry).
   */
  public static final int CURRENT = 2;

  private ProtocolVersion() {}
}
