package dev.edgesync.it;

/** Reads values out of a node's {@code /metrics} (Prometheus text format). */
final class PrometheusText {
  private PrometheusText() {}

  /**
   * The sum of every sample of {@code name} whose labels include all {@code labels} ({@code
   * key=value} pairs), or 0 when there is none (a counter appears with its first increment).
   */
  static double value(String text, String name, String... labels) {
    double sum = 0;
    for (String line : text.split("\n", -1)) {
      if (line.startsWith("#") || !line.startsWith(name)) {
        continue;
      }
      char next = line.length() > name.length() ? line.charAt(name.length()) : ' ';
      if (next != '{' && next != ' ') {
        continue;
      }
      boolean all = true;
      for (String label : labels) {
        int eq = label.indexOf('=');
        if (!line.contains(label.substring(0, eq) + "=\"" + label.substring(eq + 1) + "\"")) {
          all = false;
          break;
        }
      }
      if (all) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }
}
