package dev.edgesync.node.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.cli.Table;
import dev.edgesync.node.client.NodeClient;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How the demo shows what the cluster holds: step headers, a key-by-node table with the digests,
 * key counts, and the tails of the node logs when a step fails. Reads the nodes over HTTP; changes
 * nothing.
 */
final class DemoOutput {
  private final PrintStream out;
  private final DemoCluster cluster;

  DemoOutput(PrintStream out, DemoCluster cluster) {
    this.out = out;
    this.cluster = cluster;
  }

  void step(int number, String title) {
    out.println();
    out.printf("Step %d/7  %s%n", number, title);
  }

  /**
   * Prints a table of key -> value on every node, for keys under {@code prefix}, and the digests.
   */
  void showState(String prefix) {
    Map<String, Map<String, String>> byNode = new LinkedHashMap<>();
    TreeSet<String> keys = new TreeSet<>();
    for (DemoNode n : cluster.nodes()) {
      Map<String, String> kv = scanAll(n, prefix);
      kv.keySet().removeIf(k -> k.startsWith("catch-up/"));
      byNode.put(n.id, kv);
      keys.addAll(kv.keySet());
    }
    List<String[]> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("KEY"));
    header.addAll(byNode.keySet());
    rows.add(header.toArray(String[]::new));
    for (String k : keys) {
      List<String> row = new ArrayList<>(List.of(k));
      for (Map<String, String> kv : byNode.values()) {
        String v = kv.get(k);
        row.add(v == null ? "-" : shorten(v));
      }
      rows.add(row.toArray(String[]::new));
    }
    List<String> digestRow = new ArrayList<>(List.of("(digest)"));
    Map<String, String> digests = cluster.digests();
    for (String id : byNode.keySet()) {
      digestRow.add(digests.getOrDefault(id, "?").substring(0, 12) + "...");
    }
    rows.add(digestRow.toArray(String[]::new));
    indent(Table.format(rows));
  }

  void showCounts(String prefix) {
    List<String> parts = new ArrayList<>();
    for (DemoNode n : cluster.nodes()) {
      parts.add(n.id + ": " + scanAll(n, prefix).size());
    }
    out.printf(
        "  live keys%s: %s%n",
        prefix.isEmpty() ? "" : " under " + prefix, String.join(", ", parts));
  }

  void printLogTails() {
    for (DemoNode n : cluster.nodes()) {
      try {
        List<String> lines = Files.readAllLines(n.logFile, StandardCharsets.UTF_8);
        out.println("--- last lines of " + n.logFile + " ---");
        lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(out::println);
      } catch (IOException | UncheckedIOException e) {
        out.println("--- " + n.logFile + " cannot be read: " + e.getMessage());
      }
    }
  }

  void indent(String table) {
    table.lines().forEach(l -> out.println("  " + l));
  }

  static Map<String, String> scanAll(DemoNode n, String prefix) {
    Map<String, String> kv = new TreeMap<>();
    String after = null;
    do {
      NodeClient.Response r = n.client.scan(prefix, 1000, after);
      if (r.status() != 200) {
        throw new DemoFailure(
            "scan on " + n.id + " failed (" + r.status() + "): " + r.errorMessage());
      }
      JsonNode page = r.json();
      for (JsonNode item : page.path("items")) {
        kv.put(item.path("key").asText(), item.path("value").asText());
      }
      after = page.path("nextBase64").isTextual() ? page.path("nextBase64").asText() : null;
    } while (after != null);
    return kv;
  }

  static String since(long t0) {
    return String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9);
  }

  static String shorten(String v) {
    String s = v.length() > 30 ? v.substring(0, 27) + "..." : v;
    return "\"" + s + "\"";
  }

  static String names(Collection<DemoNode> set) {
    return String.join(", ", set.stream().map(n -> n.id).toList());
  }
}
