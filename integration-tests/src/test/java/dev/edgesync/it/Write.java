package dev.edgesync.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Comparator;

/**
 * One acknowledged write as the node reported it.
 *
 * @param key the key
 * @param value the value written, or null for a delete
 * @param hlc the version's hybrid logical clock
 * @param origin the version's origin node id
 * @param seq the seq the writing node gave it
 */
record Write(String key, String value, long hlc, String origin, long seq) {

  /** LWW order, as DESIGN.md fixes it: {@code hlc}, then {@code origin}. */
  static final Comparator<Write> LWW = Comparator.comparingLong(Write::hlc).thenComparing(Write::origin);

  static Write of(String key, String value, JsonNode response) {
    JsonNode hlc = response.path("hlc");
    JsonNode origin = response.path("origin");
    if (hlc.isMissingNode() || origin.isMissingNode()) {
      throw new AssertionError("write response without hlc/origin: " + response);
    }
    long h = hlc.isNumber() ? hlc.asLong() : Long.parseLong(hlc.asText());
    return new Write(key, value, h, origin.asText(), response.path("seq").asLong(-1));
  }

  boolean isDelete() {
    return value == null;
  }
}
