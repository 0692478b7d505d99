package dev.edgesync.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code edgesync scan <prefix>}. */
@Command(
    name = "scan",
    mixinStandardHelpOptions = true,
    description = {
      "Lists live keys under a prefix, in key order, as KEY<TAB>VALUE lines (GET /kv).",
      "A key or value that is not UTF-8 is printed as base64:..."
    })
public final class ScanCommand extends ClientCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "PREFIX",
      arity = "0..1",
      defaultValue = "",
      description = "The key prefix (default: all keys).")
  String prefix;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "100",
      description = "Most keys to print (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--after", paramLabel = "KEY", description = "Start after this key (the last one of an earlier page).")
  String afterKey;

  @Option(names = "--keys-only", description = "Print the keys only, one per line.")
  boolean keysOnly;

  @Option(names = "--json", description = "Print each item as one line of JSON, as the node gives it (key, value, version, seq).")
  boolean json;

  @Override
  public Integer call() {
    if (limit < 1) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--limit must be at least 1 (got " + limit + ")");
    }
    NodeClient c = client();
    int printed = 0;
    String after =
        afterKey == null
            ? null
            : java.util.Base64.getEncoder().encodeToString(afterKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    while (printed < limit) {
      NodeClient.Response r = c.scan(prefix, Math.min(1000, limit - printed), after);
      if (r.status() != 200) {
        main.err()
            .println(
                "edgesync: scan '"
                    + prefix
                    + "' on "
                    + c.base()
                    + " failed ("
                    + r.status()
                    + "): "
                    + r.errorMessage());
        return Main.EXIT_FAILURE;
      }
      JsonNode page = r.json();
      for (JsonNode item : page.path("items")) {
        String value =
            item.path("value").isNull()
                ? "base64:" + item.path("valueBase64").asText()
                : item.path("value").asText();
        String key =
            item.path("key").isNull()
                ? "base64:" + item.path("keyBase64").asText()
                : item.path("key").asText();
        main.out().println(json ? item.toString() : keysOnly ? key : key + "\t" + value);
        printed++;
      }
      if (!page.hasNonNull("nextBase64")) {
        return Main.EXIT_OK;
      }
      after = page.path("nextBase64").asText();
      if (printed >= limit) {
        // More keys exist: say so on stderr (stdout stays the listing) and how to go on.
        main.err()
            .println(
                page.hasNonNull("next")
                    ? "edgesync: more keys after '" + page.path("next").asText() + "': edgesync scan '" + prefix
                        + "' --after '" + page.path("next").asText() + "' (or a larger --limit)"
                    : "edgesync: more keys after a binary key (base64 " + after + "): GET /kv?afterBase64=... goes on from it");
      }
    }
    return Main.EXIT_OK;
  }
}
