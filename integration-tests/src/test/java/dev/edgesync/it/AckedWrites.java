package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Every write a node acknowledged (thread-safe: writers may run in parallel), and what the converged state must therefore be: for each key,
 * the LWW winner among the acknowledged versions (value, or absent for a delete).
 */
final class AckedWrites {
  private final Map<String, Write> winners = new LinkedHashMap<>();
  // Bulk writes report no per-key version; each such key has exactly one writer in the tests.
  private final Map<String, String> unversioned = new LinkedHashMap<>();

  synchronized Write add(Write w) {
    winners.merge(w.key(), w, (a, b) -> Write.LWW.compare(a, b) >= 0 ? a : b);
    return w;
  }

  /** An acknowledged bulk write (value null = delete) of a key no one else writes. */
  synchronized void addUnversioned(Map<String, String> entries) {
    entries.forEach(
        (k, v) -> {
          if (winners.containsKey(k) || unversioned.containsKey(k)) {
            throw new IllegalArgumentException("test bug: bulk-written key " + k + " has another writer");
          }
          unversioned.put(k, v);
        });
  }

  /**
   * Records a write of a bulk-written key made after that bulk write had converged everywhere, so
   * it is causally later and must win.
   */
  synchronized Write supersede(Write w) {
    if (unversioned.remove(w.key()) == null && !winners.containsKey(w.key())) {
      throw new IllegalArgumentException("test bug: " + w.key() + " was not written before");
    }
    winners.remove(w.key());
    winners.put(w.key(), w);
    return w;
  }

  synchronized Write winner(String key) {
    return winners.get(key);
  }

  synchronized Map<String, String> expectedLive() {
    Map<String, String> live = new LinkedHashMap<>();
    winners.forEach((k, w) -> {
      if (!w.isDelete()) {
        live.put(k, w.value());
      }
    });
    unversioned.forEach((k, v) -> {
      if (v != null) {
        live.put(k, v);
      }
    });
    return live;
  }

  synchronized int size() {
    return winners.size() + unversioned.size();
  }

  /**
   * Asserts that {@code state} (a converged listing) holds exactly the winners: every
   * acknowledged live key with its value (and, where the version is known, that version), no
   * deleted key, and nothing else.
   */
  synchronized void assertHeldBy(String who, Map<String, JsonNode> state) {
    Map<String, String> live = expectedLive();
    TreeSet<String> missing = new TreeSet<>(live.keySet());
    missing.removeAll(state.keySet());
    assertTrue(missing.isEmpty(), () -> who + " lacks " + missing.size() + " acknowledged keys, e.g. " + missing.stream().limit(10).toList());
    TreeSet<String> extra = new TreeSet<>(state.keySet());
    extra.removeAll(live.keySet());
    assertTrue(extra.isEmpty(), () -> who + " holds " + extra.size() + " keys that are deleted or were never written, e.g. " + extra.stream().limit(10).toList());
    live.forEach((k, v) -> assertEquals(v, state.get(k).path("value").asText(), () -> who + ": value of " + k + " (listing item " + state.get(k) + ")"));
    winners.forEach((k, w) -> {
      if (!w.isDelete()) {
        JsonNode item = state.get(k);
        assertEquals(w.origin(), originOf(item), () -> who + ": winner origin of " + k + " (item " + item + ", expected " + w + ")");
      } else {
        assertFalse(state.containsKey(k), () -> who + ": " + k + " must be deleted (winner " + w + ")");
      }
    });
  }

  /** The origin as the listing reports it; the version field is either an object or text. */
  static String originOf(JsonNode item) {
    JsonNode v = item.path("version");
    if (v.isObject()) {
      return v.path("origin").asText();
    }
    if (item.has("origin")) {
      return item.path("origin").asText();
    }
    String s = v.asText();
    return s.substring(s.lastIndexOf('@') + 1);
  }
}
