package dev.edgesync.node.cli;

import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code edgesync get <key>}. */
@Command(
    name = "get",
    mixinStandardHelpOptions = true,
    description = {
      "Reads a key from a running node (GET /kv/{key}) and prints its value.",
      "Exit code 1 when the key is absent or deleted."
    })
public final class GetCommand extends ClientCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "KEY", description = "The key (UTF-8).")
  String key;

  @Option(names = "--raw", description = "Print the value's bytes exactly, without a newline.")
  boolean raw;

  @Option(
      names = "--show-version",
      description =
          "Also print the version (time#counter@origin, and the raw hlc@origin that If-Match"
              + " takes) and seq to stderr.")
  boolean showVersion;

  @Override
  public Integer call() {
    NodeClient c = client();
    NodeClient.Response r = c.get(key);
    if (r.status() == 404) {
      main.err().println("edgesync: key '" + key + "' not found on " + c.base());
      return Main.EXIT_FAILURE;
    }
    if (r.status() != 200) {
      main.err()
          .println(
              "edgesync: get '"
                  + key
                  + "' on "
                  + c.base()
                  + " failed ("
                  + r.status()
                  + "): "
                  + r.errorMessage());
      return Main.EXIT_FAILURE;
    }
    main.out().write(r.body(), 0, r.body().length);
    if (!raw) {
      main.out().println();
    }
    main.out().flush();
    if (showVersion) {
      main.err()
          .println("version " + Versions.readable(r.version()) + " (raw " + r.version() + "), seq " + r.seq());
    }
    return Main.EXIT_OK;
  }
}
