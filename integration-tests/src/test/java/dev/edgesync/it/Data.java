package dev.edgesync.it;

import java.util.LinkedHashMap;
import java.util.Map;

/** Test data: predictable keys and values, so a failure message can be read. */
final class Data {
  private Data() {}

  /** {@code n} keys {@code <prefix>00000..}, each with value {@code <valueTag>:<key>}. */
  static Map<String, String> keys(String prefix, int n, String valueTag) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      String k = prefix + String.format("%05d", i);
      m.put(k, valueTag + ":" + k);
    }
    return m;
  }

  /** Writes {@code entries} in bulk requests of at most 10,000 and records them as acknowledged. */
  static void bulk(NodeClient node, Map<String, String> entries, AckedWrites acked) {
    bulk(node, entries);
    acked.addUnversioned(entries);
  }

  /** Writes {@code entries} (a null value deletes) in bulk requests of at most 10,000. */
  static void bulk(NodeClient node, Map<String, String> entries) {
    Map<String, String> chunk = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : entries.entrySet()) {
      chunk.put(e.getKey(), e.getValue());
      if (chunk.size() == 10_000) {
        node.bulk(chunk);
        chunk.clear();
      }
    }
    if (!chunk.isEmpty()) {
      node.bulk(chunk);
    }
  }
}
