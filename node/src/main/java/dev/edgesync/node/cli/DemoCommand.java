package dev.edgesync.node.cli;

import dev.edgesync.node.Main;
import dev.edgesync.node.demo.Demo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code edgesync demo}. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a local three-node cluster and shows replication, conflicts and catch-up.",
      "The three nodes are separate processes on loopback ports. Step by step: replication,",
      "a partition with a conflicting write on both sides, last-writer-wins after",
      "the heal, and a node killed with SIGKILL catching up from its watermarks.",
      "Ends with 'all 3 digests equal: <digest>' and exit code 0; exit code 1 if the nodes",
      "do not converge in time."
    })
public final class DemoCommand implements Callable<Integer> {
  @ParentCommand Main main;

  @Option(
      names = "--keep-running",
      description =
          "Leave the three nodes up at the end, print their HTTP addresses, stop them on Ctrl-C.")
  boolean keepRunning;

  @Option(
      names = "--base-dir",
      paramLabel = "DIR",
      description =
          "Directory for the nodes' data, configs and logs (default: a new temporary one,"
              + " deleted after a successful run).")
  Path baseDir;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      hidden = true,
      description = "Bound of each wait, in seconds (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws InterruptedException {
    return new Demo(
            main.out(),
            baseDir,
            keepRunning,
            Duration.ofSeconds(Math.max(1, timeoutSeconds)),
            main.ownsProcess())
        .run();
  }
}
