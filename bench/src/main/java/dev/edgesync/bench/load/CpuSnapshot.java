package dev.edgesync.bench.load;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * CPU time read from {@code /proc} at one instant: the whole machine's busy and total jiffies
 * ({@code /proc/stat}) and, per node process, the CPU time of each thread ({@code
 * /proc/<pid>/task/<tid>/stat}), grouped by thread name with pool numbers folded together. The
 * difference of two snapshots says what bounded a measured interval: one thread at 100 % of a
 * core (a serial bottleneck), all cores busy (CPU-bound), or neither (waiting: fsync, network,
 * flow control). It also says how much of the machine other processes took meanwhile.
 */
final class CpuSnapshot {
  /** Linux reports times in clock ticks of 1/100 s (USER_HZ) on every common platform. */
  static final double TICKS_PER_SECOND = 100.0;

  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern SPACE = Pattern.compile(" ");

  final long nanos = System.nanoTime();
  final long machineBusy;
  final long machineTotal;
  final long generatorTicks;
  final Map<String, Map<String, Long>> threadsByNode = new HashMap<>();
  final Map<String, Long> processByNode = new HashMap<>();

  private CpuSnapshot(long busy, long total, long generatorTicks) {
    this.machineBusy = busy;
    this.machineTotal = total;
    this.generatorTicks = generatorTicks;
  }

  static CpuSnapshot take(Iterable<NodeProcess> nodes) {
    long busy = 0;
    long total = 0;
    try {
      String line = Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII).get(0).trim();
      String[] f = WHITESPACE.split(line, -1);
      for (int i = 1; i < f.length && i <= 8; i++) {
        long v = Long.parseLong(f[i]);
        total += v;
        if (i != 4 && i != 5) { // idle, iowait
          busy += v;
        }
      }
    } catch (IOException | RuntimeException e) {
      // No /proc: the figures stay 0 and are reported as unknown.
    }
    CpuSnapshot s = new CpuSnapshot(busy, total, processTicks(ProcessHandle.current().pid()));
    for (NodeProcess n : nodes) {
      s.threadsByNode.put(n.id, threads(n.pid()));
      s.processByNode.put(n.id, processTicks(n.pid()));
    }
    return s;
  }

  /** CPU ticks of a whole process, threads that already ended included ({@code /proc/<pid>/stat}). */
  private static long processTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
      String[] f = SPACE.split(stat.substring(stat.lastIndexOf(')') + 2), -1);
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static Map<String, Long> threads(long pid) {
    Map<String, Long> ticks = new HashMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks) {
        try {
          String stat = Files.readString(task.resolve("stat"), StandardCharsets.US_ASCII);
          int open = stat.indexOf('(');
          int close = stat.lastIndexOf(')');
          String name = stat.substring(open + 1, close).replaceAll("\\d+$", "N");
          String[] f = SPACE.split(stat.substring(close + 2), -1);
          // After the name: state(0) ... utime is field 14 of stat, index 11 here; stime index 12.
          long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
          ticks.merge(name, t, Long::sum);
        } catch (IOException | RuntimeException e) {
          // The thread ended between listing and reading.
        }
      }
    } catch (IOException e) {
      // The process is gone.
    }
    return ticks;
  }

  /**
   * Puts into {@code o} what happened between {@code before} and {@code after}: the machine's busy
   * share, and per node its CPU in cores and its busiest threads in cores (1.0 = one core).
   */
  static void describe(ObjectNode o, CpuSnapshot before, CpuSnapshot after, int topThreads) {
    double seconds = (after.nanos - before.nanos) / 1e9;
    o.put("seconds", Percentiles.round(seconds));
    long total = after.machineTotal - before.machineTotal;
    if (total > 0) {
      o.put("machineBusyShare", Percentiles.round((double) (after.machineBusy - before.machineBusy) / total));
    }
    double nodesCores = 0;
    ObjectNode nodes = o.putObject("nodes");
    for (Map.Entry<String, Map<String, Long>> e : after.threadsByNode.entrySet()) {
      Map<String, Long> was = before.threadsByNode.getOrDefault(e.getKey(), Map.of());
      Map<String, Double> cores = new HashMap<>();
      double sum = 0;
      for (Map.Entry<String, Long> t : e.getValue().entrySet()) {
        double c = (t.getValue() - was.getOrDefault(t.getKey(), 0L)) / TICKS_PER_SECOND / seconds;
        if (c > 0) {
          cores.put(t.getKey(), c);
          sum += c;
        }
      }
      long processTicks = after.processByNode.getOrDefault(e.getKey(), 0L) - before.processByNode.getOrDefault(e.getKey(), 0L);
      double process = processTicks / TICKS_PER_SECOND / seconds;
      // The process figure includes threads that ended during the interval; the live threads' sum
      // is the fallback when /proc/<pid>/stat could not be read at the end (process gone).
      double nodeCores = after.processByNode.getOrDefault(e.getKey(), 0L) > 0 ? Math.max(process, sum) : sum;
      nodesCores += nodeCores;
      ObjectNode n = nodes.putObject(e.getKey());
      n.put("cores", Percentiles.round(nodeCores));
      ObjectNode top = n.putObject("busiestThreadsCores");
      cores.entrySet().stream()
          .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
          .limit(topThreads)
          .forEach(t -> top.put(t.getKey(), Percentiles.round(t.getValue())));
    }
    o.put("nodesCores", Percentiles.round(nodesCores));
    double generator = (after.generatorTicks - before.generatorTicks) / TICKS_PER_SECOND / seconds;
    o.put("loadGeneratorCores", Percentiles.round(generator));
    int cores = Runtime.getRuntime().availableProcessors();
    if (total > 0) {
      double machineCores = (double) (after.machineBusy - before.machineBusy) / total * cores;
      o.put("otherProcessesCores", Percentiles.round(Math.max(0, machineCores - nodesCores - generator)));
      o.put("note", String.format(Locale.ROOT,
          "cores: 1.0 = one core kept busy for the whole interval; this machine has %d; otherProcessesCores is what"
              + " neither the nodes nor the load generator used (other work on the machine)", cores));
    }
  }
}
