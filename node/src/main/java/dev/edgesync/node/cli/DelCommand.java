package dev.edgesync.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code edgesync del <key>} and {@code edgesync del --prefix P}. */
@Command(
    name = "del",
    mixinStandardHelpOptions = true,
    description = {
      "Deletes a key on a running node (DELETE /kv/{key}), or every key under a prefix (--prefix);",
      "the deletes replicate. Exits 1 when the key was not there (a tombstone is written anyway,",
      "so that an older write of it arriving later stays deleted)."
    })
public final class DelCommand extends ClientCommand implements Callable<Integer> {
  @Parameters(index = "0", arity = "0..1", paramLabel = "KEY", description = "The key (UTF-8).")
  String key;

  @Option(names = "--prefix", paramLabel = "PREFIX", description = "Delete every live key under PREFIX on the node.")
  String prefix;

  @Override
  public Integer call() {
    if ((key == null) == (prefix == null)) {
      main.err().println("edgesync: del needs a KEY or --prefix PREFIX (not both); see edgesync del --help");
      return Main.EXIT_USAGE;
    }
    NodeClient c = client();
    NodeClient.Response r = prefix != null ? c.deletePrefix(prefix) : c.delete(key);
    String what = prefix != null ? "--prefix '" + prefix + "'" : "'" + key + "'";
    if (r.status() != 200) {
      main.err().println("edgesync: del " + what + " on " + c.base() + " failed (" + r.status() + "): " + r.errorMessage());
      return Main.EXIT_FAILURE;
    }
    JsonNode j = r.json();
    if (prefix != null) {
      main.out().println("deleted " + j.path("deleted").asLong() + " key(s) under '" + prefix + "'" + (j.path("deleted").asLong() > 0 ? ", last at seq " + j.path("lastSeq").asLong() : ""));
      return Main.EXIT_OK;
    }
    if (!j.path("existed").asBoolean(true)) {
      main.err()
          .println(
              "edgesync: '" + key + "' was not there on " + c.base() + " (absent or already deleted); a tombstone was"
                  + " written anyway at seq " + j.path("seq").asLong() + ", so an older write of it arriving later stays deleted");
      return Main.EXIT_FAILURE;
    }
    main.out().println("deleted '" + key + "' at seq " + j.path("seq").asLong() + ", version " + Versions.readable(j.path("version").asText()));
    return Main.EXIT_OK;
  }
}
