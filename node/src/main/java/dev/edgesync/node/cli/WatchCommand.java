package dev.edgesync.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.EventStreamReader;
import dev.edgesync.node.client.NodeClient;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code edgesync watch [PREFIX] [--since SEQ]}: follows a node's changes feed ({@code GET
 * /changes?feed=sse}) and prints each change as it commits. When the connection drops after it was
 * open (the node restarts, the network fails), it reconnects with the id of the last event it
 * printed, so it misses no key's final version; a refused request (bad input, no token) ends it.
 */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    description = {
      "Follows a node's changes (GET /changes?feed=sse) and prints each as it commits:",
      "SEQ<TAB>KEY<TAB>VALUE<TAB>VERSION, VALUE being '(deleted)' for a delete and base64:... for",
      "bytes that are not UTF-8. Reconnects by itself, resuming after the last change printed.",
      "Exit code 1 when the node refuses the request or cannot be reached at the start."
    })
public final class WatchCommand extends ClientCommand implements Callable<Integer> {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * A stream on which nothing arrived for this long (the node sends a heartbeat every 15 s) is
   * taken for dead, as when the node's host dropped off the network without closing it, and opened
   * again.
   */
  static final long SILENCE_MILLIS = 45_000;

  /** Longest pause between two reconnects. */
  static final long MAX_RETRY_MILLIS = 30_000;

  private static final java.util.concurrent.ScheduledExecutorService SILENCE_WATCH =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "edgesync-watch-silence");
            t.setDaemon(true);
            return t;
          });

  @Parameters(
      index = "0",
      paramLabel = "PREFIX",
      arity = "0..1",
      defaultValue = "",
      description = "Only keys under this prefix (default: all keys).")
  String prefix;

  @Option(
      names = "--since",
      paramLabel = "SEQ",
      defaultValue = "0",
      description =
          "Start after this seq of the node's log (default: 0, every key's current version first;"
              + " the node's headSeq from 'edgesync status' gives only new changes).")
  long since;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Exit after N changes (default: follow until stopped).")
  Long count;

  @Option(names = "--json", description = "Print each change as one line of JSON, as the node sends it.")
  boolean json;

  @Override
  public Integer call() throws InterruptedException {
    if (since < 0) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--since must be 0 or more (got " + since + ")");
    }
    if (count != null && count < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--count must be at least 1 (got " + count + ")");
    }
    NodeClient c = client();
    String resumeAfter = null;
    String logId = null;
    long printed = 0;
    long retry = 1000;
    boolean connectedOnce = false;
    while (true) {
      EventStreamReader events;
      try {
        events = c.openChanges(prefix, since, resumeAfter, logId);
      } catch (NodeClient.NodeClientException e) {
        if (!connectedOnce || e.getMessage().contains(" answered 4")) {
          main.err().println("edgesync: watch on " + c.base() + " failed: " + e.getMessage());
          return Main.EXIT_FAILURE;
        }
        main.err().println("edgesync: watch: " + e.getMessage() + "; retrying in " + retry + " ms");
        Thread.sleep(retry);
        retry = Math.min(MAX_RETRY_MILLIS, retry * 2);
        continue;
      }
      connectedOnce = true;
      retry = 1000;
      String why;
      EventStreamReader watched = events;
      java.util.concurrent.ScheduledFuture<?> silence =
          SILENCE_WATCH.scheduleWithFixedDelay(
              () -> {
                if (System.nanoTime() - watched.lastLineNanos() > SILENCE_MILLIS * 1_000_000) {
                  try {
                    watched.close();
                  } catch (IOException ignored) {
                    // It ends the read either way.
                  }
                }
              },
              1,
              1,
              java.util.concurrent.TimeUnit.SECONDS);
      try (events) {
        EventStreamReader.Event e;
        while ((e = events.next()) != null) {
          switch (e.name()) {
            case "change" -> {
              print(e.data());
              resumeAfter = e.id();
              if (count != null && ++printed >= count) {
                main.out().flush();
                return Main.EXIT_OK;
              }
            }
            case "open" -> logId = MAPPER.readTree(e.data()).path("logId").asText(null);
            case "reset", "close" -> {
              JsonNode d = MAPPER.readTree(e.data());
              main.err().println("edgesync: watch: " + d.path("reason").asText() + " (" + d.path("fix").asText() + ")");
            }
            default -> {
              // Events of later versions: nothing to print.
            }
          }
          if (events.lastEventId() != null) {
            resumeAfter = events.lastEventId();
          }
        }
        why = "the node ended the stream";
      } catch (IOException ex) {
        why =
            System.nanoTime() - events.lastLineNanos() > SILENCE_MILLIS * 1_000_000
                ? "nothing arrived for " + SILENCE_MILLIS / 1000 + " s, not even a heartbeat"
                : "the connection failed: " + ex.getMessage();
      } finally {
        silence.cancel(false);
      }
      if (events.retryMillis() > 0) {
        retry = events.retryMillis();
      }
      main.err()
          .println(
              "edgesync: watch: "
                  + why
                  + "; reconnecting to "
                  + c.base()
                  + (resumeAfter != null ? " after seq " + resumeAfter : " from seq " + since)
                  + " in "
                  + retry
                  + " ms");
      Thread.sleep(retry);
    }
  }

  private void print(String data) throws IOException {
    if (json) {
      main.out().println(data);
    } else {
      JsonNode d = MAPPER.readTree(data);
      String value =
          d.path("deleted").asBoolean(false)
              ? "(deleted)"
              : d.path("value").isNull() ? "base64:" + d.path("valueBase64").asText() : d.path("value").asText();
      String key = d.path("key").isNull() ? "base64:" + d.path("keyBase64").asText() : d.path("key").asText();
      main.out()
          .println(
              d.path("seq").asLong()
                  + "\t"
                  + key
                  + "\t"
                  + value
                  + "\t"
                  + Versions.readable(d.path("version").asText()));
    }
    main.out().flush();
  }
}
