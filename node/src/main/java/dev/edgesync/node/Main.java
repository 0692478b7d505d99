package dev.edgesync.node;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.node.cli.BackupCommand;
import dev.edgesync.node.cli.DelCommand;
import dev.edgesync.node.cli.DemoCommand;
import dev.edgesync.node.cli.GetCommand;
import dev.edgesync.node.cli.PeersCommand;
import dev.edgesync.node.cli.PutCommand;
import dev.edgesync.node.cli.RestoreCommand;
import dev.edgesync.node.cli.RunCommand;
import dev.edgesync.node.cli.ScanCommand;
import dev.edgesync.node.cli.StatusCommand;
import dev.edgesync.node.cli.VersionCommand;
import dev.edgesync.node.cli.WatchCommand;
import dev.edgesync.node.client.NodeClient.NodeClientException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code edgesync} program: runs a node, talks to a running node over HTTP, or runs the
 * three-node demo.
 *
 * <p>Exit codes: 0 success; 1 a runtime failure (node unreachable, storage error, key not found,
 * demo did not converge); 2 a usage or configuration error (nothing was started).
 */
@Command(
    name = "edgesync",
    mixinStandardHelpOptions = true,
    versionProvider = Main.ManifestVersion.class,
    description = "Peer-to-peer multi-master key-value sync: run a node, use one, or try the demo.",
    subcommands = {
      RunCommand.class,
      PutCommand.class,
      GetCommand.class,
      DelCommand.class,
      ScanCommand.class,
      WatchCommand.class,
      StatusCommand.class,
      PeersCommand.class,
      BackupCommand.class,
      RestoreCommand.class,
      DemoCommand.class,
      VersionCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Callable<Integer> {

  /** Success. */
  public static final int EXIT_OK = 0;

  /** A runtime failure. */
  public static final int EXIT_FAILURE = 1;

  /** A usage or configuration error. */
  public static final int EXIT_USAGE = 2;

  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;
  private final boolean ownsProcess;

  private Main(Map<String, String> env, PrintStream out, PrintStream err, boolean ownsProcess) {
    this.env = Map.copyOf(env);
    this.out = out;
    this.err = err;
    this.ownsProcess = ownsProcess;
  }

  static {
    GrpcLogBridge.install();
  }

  /** Runs the program and exits the JVM with its exit code. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
    System.exit(run(args, System.getenv(), out, err, true));
  }

  /**
   * Runs the program in this JVM without exiting it, for tests. Nothing here ends the JVM: {@code
   * run} validates the configuration, starts the node and stops it again at once (there is no
   * signal to wait for), which is enough to test its exit codes and start-up errors; {@code demo}
   * runs to the end.
   *
   * @param args the command line
   * @param env the environment to read {@code EDGESYNC_*} variables from
   * @param out standard output
   * @param err standard error
   * @return the exit code
   */
  public static int execute(
      String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    return run(args, env, out, err, false);
  }

  private static int run(
      String[] args,
      Map<String, String> env,
      PrintStream out,
      PrintStream err,
      boolean ownsProcess) {
    Objects.requireNonNull(env, "env");
    Main main = new Main(env, out, err, ownsProcess);
    CommandLine cl = new CommandLine(main);
    // UTF-8, as main() sets up standard output and error.
    cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    for (CommandLine sub : cl.getSubcommands().values()) {
      sub.getCommandSpec().versionProvider(new ManifestVersion());
    }
    // A usage error is one line that names it, a suggestion for a misspelt option, and where the
    // help is: not the whole help text, which buries the error.
    cl.setParameterExceptionHandler(
        (e, badArgs) -> {
          CommandLine c = e.getCommandLine();
          err.println("edgesync: " + e.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
          err.println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for its options.");
          return EXIT_USAGE;
        });
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof ConfigException) {
            err.println("edgesync: " + e.getMessage());
            return EXIT_USAGE;
          }
          if (e instanceof NodeClientException || e instanceof CommandFailure) {
            err.println("edgesync: " + e.getMessage());
            return EXIT_FAILURE;
          }
          err.println("edgesync: unexpected error: " + e);
          e.printStackTrace(err);
          return EXIT_FAILURE;
        });
    return cl.execute(args);
  }

  /** With no command, show the usage and fail: running nothing is most likely a mistake. */
  @Override
  public Integer call() {
    CommandLine.usage(this, err);
    return EXIT_USAGE;
  }

  /** The environment, as passed to {@link #execute}. */
  public Map<String, String> env() {
    return env;
  }

  /** Standard output. */
  public PrintStream out() {
    return out;
  }

  /** Standard error. */
  public PrintStream err() {
    return err;
  }

  /**
   * True when this is the real program (from {@link #main}) rather than a test calling {@link
   * #execute}: only then may a command install shutdown hooks that end the JVM.
   */
  public boolean ownsProcess() {
    return ownsProcess;
  }

  /** The version from the jar manifest, or {@code dev} when run from classes. */
  public static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** Supplies {@code --version}. */
  public static final class ManifestVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"edgesync " + version()};
    }
  }

  /** A command failed for a reason its message explains; exit code 1. */
  public static final class CommandFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommandFailure(String message) {
      super(message);
    }

    public CommandFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
