package dev.edgesync.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code edgesync put <key> <value>}. */
@Command(
    name = "put",
    mixinStandardHelpOptions = true,
    description = {
      "Writes a key on a running node (PUT /kv/{key}).",
      "The value is VALUE, the bytes of standard input with '-', or those of --file FILE."
    })
public final class PutCommand extends ClientCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "KEY", description = "The key (UTF-8).")
  String key;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "VALUE",
      description = "The value (UTF-8); '-' reads the value's bytes from standard input.")
  String value;

  @Option(
      names = "--file",
      paramLabel = "FILE",
      description = "Write the bytes of FILE as the value (any bytes, up to the node's limit).")
  java.nio.file.Path file;

  @Option(
      names = "--acks",
      paramLabel = "N",
      description = "Also wait until N peers have the write (default: local commit only).")
  Integer acks;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "How long to wait for --acks, e.g. 2s (default: 5s).")
  String timeout;

  @Option(
      names = "--ttl",
      paramLabel = "DURATION",
      description =
          "The value expires this long after the write, e.g. 30s, 10m, 1d: every node then reads the key as absent"
              + " (default: never).")
  String ttl;

  @Override
  public Integer call() {
    if ((value == null) == (file == null)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), value == null ? "put needs a VALUE, '-' (standard input) or --file FILE" : "give either VALUE or --file, not both");
    }
    byte[] bytes;
    try {
      bytes =
          file != null
              ? java.nio.file.Files.readAllBytes(file)
              : value.equals("-") ? System.in.readAllBytes() : value.getBytes(StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), (file != null ? "--file " + file : "standard input") + " cannot be read: " + e.getMessage());
    }
    NodeClient c = client();
    NodeClient.Response r = c.put(key, bytes, acks, timeout, ttl);
    if (r.status() != 200) {
      main.err()
          .println(
              "edgesync: put '"
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
            "committed '"
                + key
                + "' at seq "
                + j.path("seq").asLong()
                + ", version "
                + Versions.readable(j.path("version").asText())
                + (j.hasNonNull("expiresAt") ? ", expires at " + j.path("expiresAt").asText() : ""));
    return Main.EXIT_OK;
  }
}
