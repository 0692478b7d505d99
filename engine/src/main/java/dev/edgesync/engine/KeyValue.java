package dev.edgesync.engine;

import dev.edgesync.conflict.Version;
import java.nio.charset.StandardCharsets;

/**
 * A live key with its value and version.
 *
 * @param key the key
 * @param value the value
 * @param version the version that wrote it
 * @param seq the local seq it is stored under
 * @param expiresHlc 0, or the HLC at which the value expires (the key then reads as absent)
 */
public record KeyValue(byte[] key, byte[] value, Version version, long seq, long expiresHlc) {
  /** A value that does not expire. */
  public KeyValue(byte[] key, byte[] value, Version version, long seq) {
    this(key, value, version, seq, 0);
  }

  /** When the value expires (wall time of its expiry HLC), or empty when it does not. */
  public java.util.Optional<java.time.Instant> expiresAt() {
    return expiresHlc == 0
        ? java.util.Optional.empty()
        : java.util.Optional.of(java.time.Instant.ofEpochMilli(dev.edgesync.conflict.Hlc.physicalMillis(expiresHlc)));
  }

  public String keyUtf8() {
    return new String(key, StandardCharsets.UTF_8);
  }

  public String valueUtf8() {
    return new String(value, StandardCharsets.UTF_8);
  }
}
