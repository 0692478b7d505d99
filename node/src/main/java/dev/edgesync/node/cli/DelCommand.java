package dev.edgesync.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code edgesync del <key>}. */
@Command(
    name = "del",
    mixinStandardHelpOptions = true,
    description = "Deletes a key on a running node (DELETE /kv/{key}); the delete replicates.")
public final class DelCommand extends ClientCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "KEY", description = "The key (UTF-8).")
  String key;

  @Override
  public Integer call() {
    NodeClient c = client();
    NodeClient.Response r = c.delete(key);
    if (r.status() != 200) {
      main.err()
          .println(
              "edgesync: del '"
                  + key
                  + "' on "
                  + c.base()
                  + " failed ("
                  + r.status()
                  + "): "
                  + r.errorMessage());
      return Main.EXIT_FAILURE;
    }
    JsonNode j = r.json();
    main.out()
        .println(
            "deleted '"
                + key
                + "' at seq "
                + j.path("seq").asLong()
                + ", version "
                + j.path("version").asText());
    return Main.EXIT_OK;
  }
}
