package dev.edgesync.engine.replication.wire;

import dev.edgesync.engine.storage.StoredEntry;

/**
 * The versions of the replication protocol this build speaks, and how two nodes agree on one.
 *
 * <p>A subscriber's {@code Hello} names the range it speaks ({@code min_protocol_version} ..
 * {@code protocol_version}); the publisher answers in {@code Welcome.protocol_version} with the
 * highest version both speak, or refuses with {@code Refusal.PROTOCOL_VERSION} when the ranges do
 * not meet. A node of a build before negotiation sends no minimum and accepts only its own version,
 * so a subscriber refused that way tries once more one version lower ({@code SubscriberCore}).
 * Raise {@link #CURRENT} for any change an older node would misread, and keep {@link #MIN} as long
 * as this build can still talk to the previous one: that is what lets sites upgrade one at a time.
 */
public final class ProtocolVersion {
  /** The oldest version this build still speaks: 1, the protocol before expiring keys. */
  public static final int MIN = 1;

  /**
   * The newest version this build speaks. 2: entries carry {@code expires_hlc}, which a node of
   * version 1 would drop from an entry and then reject as corrupt (its CRC covers the expiry).
   */
  public static final int CURRENT = 2;

  /** The first version whose entries may carry an expiry ({@code Entry.expires_hlc}). */
  public static final int EXPIRING_KEYS = 2;

  private ProtocolVersion() {}

  /**
   * The version two nodes speak: the highest in both ranges, or -1 when the ranges do not meet.
   * {@code theirMin} 0 means a node of a build before negotiation, which speaks only {@code theirMax}.
   */
  public static int negotiate(int theirMin, int theirMax, int ourMin, int ourMax) {
    int low = Math.max(theirMin == 0 ? theirMax : theirMin, ourMin);
    int high = Math.min(theirMax, ourMax);
    return high >= low ? high : -1;
  }

  /** Whether {@code entry} can travel in {@code version}: an expiry needs {@link #EXPIRING_KEYS}. */
  public static boolean carries(int version, StoredEntry entry) {
    return version >= EXPIRING_KEYS || entry.expiresHlc() == 0;
  }

  /** "1", or "1..2": a range for messages. */
  public static String range(int min, int max) {
    return min == max ? Integer.toString(min) : min + ".." + max;
  }
}
