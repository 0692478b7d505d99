package dev.edgesync.bench.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load generator's command line, parsed and checked once into an immutable value. Every error
 * names the option, the value and what is expected.
 *
 * @param scenario baseline, catchup, live or mesh
 * @param entries entries to load (baseline, catchup, mesh) or of the baseline in live with
 *     {@code --baseline}
 * @param valueBytes bytes per value (keys are always 16 bytes)
 * @param durability fsync or buffered, for the nodes and the baseline
 * @param nodes nodes in the mesh
 * @param rate writes per second, or 0 for {@code max}
 * @param duration how long live writes at a fixed rate (and the confirmation run of max)
 * @param stepDuration how long each step of {@code live --rate max} lasts
 * @param rateStart first step of {@code live --rate max}
 * @param keepUpP99 the p99 lag a step of {@code --rate max} may have and still count as kept up
 * @param keepUpMax the largest lag such a step may have
 * @param pollInterval how often live polls B's status (the resolution of the lag)
 * @param connections live: bulk requests to A in flight at once
 * @param warmup live: how long to write before measuring (JIT warm-up of fresh node JVMs)
 * @param json print the result JSON on stdout
 * @param out directory for the JSON, the chart, node logs and profiles
 * @param nodeJar the node program
 * @param nodeHeap {@code -Xmx} of every node process, e.g. 256m
 * @param nodeJvmOptions extra JVM options of every node process (space-separated), or empty
 * @param jfr record a JFR profile of every node process
 * @param twoWay live: A also subscribes to B (both directions, as between two real sites)
 * @param baseline run the LevelDB baseline (default on for baseline, catchup and mesh)
 * @param confirm live --rate max: confirm the best step with a run of {@code duration}
 * @param timeout longest wait for a catch-up or a convergence
 * @param workDir parent of the temporary data dirs
 * @param keep keep the temporary data dirs
 * @param window churn: keys live at a time per node (each is deleted this many writes later)
 */
public record Options(
    String scenario,
    long entries,
    int valueBytes,
    String durability,
    int nodes,
    long rate,
    Duration duration,
    Duration stepDuration,
    long rateStart,
    Duration keepUpP99,
    Duration keepUpMax,
    Duration pollInterval,
    int connections,
    Duration warmup,
    boolean json,
    Path out,
    Path nodeJar,
    String nodeHeap,
    String nodeJvmOptions,
    boolean jfr,
    boolean twoWay,
    boolean baseline,
    boolean confirm,
    Duration timeout,
    Path workDir,
    boolean keep,
    long window) {

  public static final String USAGE =
      """
      usage: java -jar bench/target/edgesync-bench.jar <scenario> [options]
             java -jar bench/target/edgesync-bench.jar jmh [JMH options, e.g. -l, -f 1, GroupCommit]
             java -jar bench/target/edgesync-bench.jar jfr-summary FILE.jfr [--top N]

      scenarios (run from the repository root; nodes are separate JVMs on loopback):
        baseline   raw iq80 LevelDB batched-write rate for the same keys and values (in process)
        catchup    A holds --entries entries (preloaded, not timed); B starts empty; time from B's
                   subscription until B's digest equals A's; ratio to the same-run baseline
        live       open-loop writer on A at --rate; lag of every entry on B (watermark polling)
        mesh       --nodes nodes in full mesh, all writing; time to convergence, per-node rates
        churn      --nodes nodes in full mesh, each writing unique keys and deleting each one
                   --window writes later, --entries writes in all at --rate; live keys, tombstones,
                   database size and heap every 10 s, with tombstone collection on, then off

      options:
        --entries N            entries (default 1000000; live: baseline size with --baseline)
        --value-bytes N        bytes per value (default 100); keys are 16 bytes
        --durability D         fsync | buffered (default fsync)
        --nodes K              mesh and churn size (default 3)
        --window N             churn: keys live at a time per node (default 10000)
        --rate R|max           live: writes/s (default 10000); max steps up until B lags;
                               mesh: total writes/s (default max)
        --duration D           live: run length, e.g. 60s (default 60s)
        --step-duration D      live --rate max: length of each step (default 10s)
        --rate-start R         live --rate max: first step (default 10000)
        --keep-up-p99 D        live --rate max: p99 lag a step may have (default 1s)
        --keep-up-max D        live --rate max: largest lag a step may have (default 5s)
        --no-confirm           live --rate max: skip the --duration run at the best rate
        --poll-interval D      live: status poll period on B (default 1ms)
        --connections N        live: bulk requests to A in flight at once (default 1: exact seqs)
        --warmup D             live: unmeasured writes first, at the (first) rate (default 10s; 0 = none)
        --two-way              live: A subscribes to B too (default: B subscribes to A only)
        --baseline | --no-baseline   run the LevelDB baseline (default: on except for live)
        --json                 print the result JSON on stdout (progress goes to stderr)
        --out DIR              results directory (default bench/target/results)
        --node-jar PATH        node program (default node/target/edgesync.jar)
        --node-heap SIZE       -Xmx of each node (default 256m)
        --node-jvm-opts "..."  extra JVM options of each node, space-separated (default none)
        --jfr                  record a JFR profile of each node into --out
        --timeout D            longest wait for catch-up or convergence (default 30m)
        --work-dir DIR         where temporary data dirs go (default java.io.tmpdir)
        --keep                 keep the temporary data dirs
      """;

  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)?");
  private static final Pattern SIZE = Pattern.compile("\\d+[kKmMgG]?");

  /** Parses {@code args}, whose first element is the scenario. */
  public static Options parse(String... args) {
    if (args.length == 0) {
      throw new IllegalArgumentException("no scenario given: baseline, catchup, live or mesh");
    }
    String scenario = args[0];
    if (!scenario.matches("baseline|catchup|live|mesh|churn")) {
      throw new IllegalArgumentException(
          "unknown scenario '" + scenario + "': expected baseline, catchup, live, mesh, churn, jmh or jfr-summary");
    }
    long entries = 1_000_000;
    int valueBytes = 100;
    String durability = "fsync";
    int nodes = 3;
    Long rate = null;
    Duration duration = Duration.ofSeconds(60);
    Duration stepDuration = Duration.ofSeconds(10);
    long rateStart = 10_000;
    Duration keepUpP99 = Duration.ofSeconds(1);
    Duration keepUpMax = Duration.ofSeconds(5);
    Duration pollInterval = Duration.ofMillis(1);
    Duration warmup = Duration.ofSeconds(10);
    int connections = 1;
    boolean json = false;
    Path out = Path.of("bench", "target", "results");
    Path nodeJar = Path.of("node", "target", "edgesync.jar");
    String nodeHeap = "256m";
    String nodeJvmOptions = "";
    boolean jfr = false;
    boolean twoWay = false;
    Boolean baseline = null;
    boolean confirm = true;
    Duration timeout = Duration.ofMinutes(30);
    Path workDir = Path.of(System.getProperty("java.io.tmpdir"));
    boolean keep = false;
    long window = 10_000;
    for (int i = 1; i < args.length; i++) {
      String name = args[i];
      String inline = null;
      int eq = name.indexOf('=');
      if (name.startsWith("--") && eq > 0) {
        inline = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      switch (name) {
        case "--json" -> json = true;
        case "--jfr" -> jfr = true;
        case "--two-way" -> twoWay = true;
        case "--baseline" -> baseline = true;
        case "--no-baseline" -> baseline = false;
        case "--no-confirm" -> confirm = false;
        case "--keep" -> keep = true;
        default -> {
          String value = inline;
          if (value == null) {
            if (i + 1 >= args.length) {
              throw new IllegalArgumentException("option " + name + " needs a value");
            }
            value = args[++i];
          }
          switch (name) {
            case "--entries" -> entries = count(name, value, 1, 1_000_000_000L);
            case "--value-bytes" -> valueBytes = (int) count(name, value, 0, 1024 * 1024);
            case "--durability" -> {
              durability = value.toLowerCase(Locale.ROOT);
              if (!durability.equals("fsync") && !durability.equals("buffered")) {
                throw new IllegalArgumentException("--durability '" + value + "' is not valid: expected fsync or buffered");
              }
            }
            case "--nodes" -> nodes = (int) count(name, value, 2, 16);
            case "--window" -> window = count(name, value, 1, 100_000_000);
            case "--rate" -> rate = value.equalsIgnoreCase("max") ? 0L : count(name, value, 1, 10_000_000);
            case "--duration" -> duration = duration(name, value);
            case "--step-duration" -> stepDuration = duration(name, value);
            case "--rate-start" -> rateStart = count(name, value, 1, 10_000_000);
            case "--keep-up-p99" -> keepUpP99 = duration(name, value);
            case "--keep-up-max" -> keepUpMax = duration(name, value);
            case "--poll-interval" -> pollInterval = duration(name, value);
            case "--connections" -> connections = (int) count(name, value, 1, 64);
            case "--warmup" -> warmup = value.equals("0") ? Duration.ZERO : duration(name, value);
            case "--out" -> out = Path.of(value);
            case "--node-jar" -> nodeJar = Path.of(value);
            case "--node-heap" -> {
              if (!SIZE.matcher(value).matches()) {
                throw new IllegalArgumentException("--node-heap '" + value + "' is not valid: expected a size like 256m or 1g");
              }
              nodeHeap = value;
            }
            case "--node-jvm-opts" -> nodeJvmOptions = value.trim();
            case "--timeout" -> timeout = duration(name, value);
            case "--work-dir" -> workDir = Path.of(value);
            default -> throw new IllegalArgumentException("unknown option '" + name + "'");
          }
        }
      }
    }
    if (rate == null) {
      rate = scenario.equals("live") ? 10_000L : 0L;
    }
    if (baseline == null) {
      baseline = !scenario.equals("live") && !scenario.equals("churn");
    }
    if (scenario.equals("baseline")) {
      baseline = true;
    }
    if (keepUpMax.compareTo(keepUpP99) < 0) {
      throw new IllegalArgumentException(
          "--keep-up-max " + keepUpMax.toMillis() + "ms is below --keep-up-p99 " + keepUpP99.toMillis() + "ms");
    }
    return new Options(
        scenario, entries, valueBytes, durability, nodes, rate, duration, stepDuration, rateStart, keepUpP99,
        keepUpMax, pollInterval, connections, warmup, json, out, nodeJar, nodeHeap, nodeJvmOptions, jfr, twoWay, baseline, confirm, timeout, workDir,
        keep, window);
  }

  /** True for fsync durability. */
  public boolean fsync() {
    return durability.equals("fsync");
  }

  /** True for {@code --rate max}. */
  public boolean maxRate() {
    return rate == 0;
  }

  private static long count(String name, String value, long min, long max) {
    long n;
    try {
      n = Long.parseLong(value.replace("_", "").replace(",", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " '" + value + "' is not a whole number");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(name + " " + n + " is out of range: expected " + min + ".." + max);
    }
    return n;
  }

  /** Parses {@code 500ms}, {@code 60s}, {@code 2m}, {@code 1h}; a bare number means seconds. */
  static Duration duration(String name, String value) {
    Matcher m = DURATION.matcher(value.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(name + " '" + value + "' is not a duration: expected e.g. 500ms, 60s or 2m");
    }
    double n = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    double nanos =
        switch (unit) {
          case "ms" -> n * 1e6;
          case "s" -> n * 1e9;
          case "m" -> n * 60e9;
          default -> n * 3600e9;
        };
    if (nanos < 1e5) {
      throw new IllegalArgumentException(name + " '" + value + "' is too short: at least 0.1ms");
    }
    return Duration.ofNanos((long) nanos);
  }
}
