package dev.edgesync.bench;

import dev.edgesync.bench.load.LoadGenerator;
import dev.edgesync.bench.load.Options;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * Entry point of {@code edgesync-bench.jar}.
 *
 * <pre>
 * java -jar bench/target/edgesync-bench.jar jmh [JMH options]           micro-benchmarks (JMH's own CLI)
 * java -jar bench/target/edgesync-bench.jar baseline|catchup|live|mesh [options]   end-to-end load
 * java -jar bench/target/edgesync-bench.jar jfr-summary FILE.jfr [--top N]          profile summary
 * </pre>
 *
 * <p>Exit codes: 0 success (a missed target is a result, not a failure), 1 the run failed, 2 bad
 * arguments.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
      out.println(Options.USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "jmh" -> {
        // JMH's Main calls System.exit itself when it is done.
        org.openjdk.jmh.Main.main(rest);
        return 0;
      }
      case "jfr-summary" -> {
        return JfrSummary.run(rest, out, err);
      }
      default -> {
        Options options;
        try {
          options = Options.parse(args);
        } catch (IllegalArgumentException e) {
          err.println("edgesync-bench: " + e.getMessage());
          err.println("run with --help for the options");
          return 2;
        }
        return new LoadGenerator(options, out, err).run();
      }
    }
  }
}
