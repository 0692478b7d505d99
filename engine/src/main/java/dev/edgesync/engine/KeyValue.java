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
 */
public record KeyValue(byte[] key, byte[] value, Version version, long seq) {
  public String keyUtf8() {
    return new String(key, StandardCharsets.UTF_8);
  }

  public String valueUtf8() {
    return new String(value, StandardCharsets.UTF_8);
  }
}
