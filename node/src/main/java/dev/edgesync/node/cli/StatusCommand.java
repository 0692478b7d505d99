package dev.edgesync.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code edgesync status}. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Shows a running node's state and its peers (GET /status).",
      "Node id, head seq, digest; per peer: connected (or STALLED: connected, behind, and no",
      "progress for replication.stallTimeout), watermark, lag in entries and seconds, entries",
      "applied, duplicates, conflicts, entries sent, keys repaired by anti-entropy, last error."
    })
public final class StatusCommand extends ClientCommand implements Callable<Integer> {
  @Option(names = "--json", description = "Print the raw JSON of GET /status.")
  boolean json;

  @Option(names = "--watch", description = "Refresh every second until interrupted (Ctrl-C).")
  boolean watch;

  @Override
  public Integer call() throws InterruptedException {
    NodeClient c = client();
    while (true) {
      JsonNode s = c.status();
      if (watch && !json) {
        // Clear the terminal and move home, so the table redraws in place.
        main.out().print("\033[H\033[2J");
      }
      if (json) {
        main.out().println(watch ? s.toString() : s.toPrettyString());
      } else {
        print(s, main.out());
      }
      main.out().flush();
      if (!watch) {
        return Main.EXIT_OK;
      }
      TimeUnit.SECONDS.sleep(1);
    }
  }

  /** Prints the human-readable form of a {@code /status} body. */
  static void print(JsonNode s, PrintStream out) {
    out.printf(
        "node %s   cluster %s   state %s%n",
        s.path("nodeId").asText(), s.path("cluster").asText(), s.path("state").asText());
    out.printf(
        "head seq %d   digest %s   gRPC port %d   HTTP port %d%n",
        s.path("headSeq").asLong(),
        s.path("digest").asText(),
        s.path("grpcPort").asInt(),
        s.path("httpPort").asInt());
    if (!s.path("failure").isNull() && !s.path("failure").isMissingNode()) {
      out.println("FAILURE: " + s.path("failure").asText());
    }
    JsonNode gc = s.path("gc");
    if (!gc.isMissingNode()) {
      StringBuilder line =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "tombstones %d   expiring %d   collected %d   purge horizon %s",
                  gc.path("tombstones").asLong(),
                  gc.path("expiring").asLong(),
                  gc.path("purgedTotal").asLong(),
                  gc.path("purgeHorizon").isNull() ? "none yet" : gc.path("purgeHorizon").asText()));
      if (gc.path("waitingFor").size() > 0) {
        line.append("   waiting for ").append(gc.path("waitingFor").toString());
      } else if (gc.path("members").size() > 0) {
        JsonNode oldest = gc.path("members").get(0);
        line.append("   held by ").append(oldest.path("id").asText()).append(" (stable ")
            .append(oldest.path("stableTime").isNull() ? "never" : oldest.path("stableTime").asText()).append(')');
      }
      out.println(line);
    }
    JsonNode peers = s.path("peers");
    if (peers.size() == 0) {
      out.println("no peers");
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "PEER",
          "ADDRESS",
          "CONNECTED",
          "WATERMARK",
          "LAG",
          "LAG(s)",
          "APPLIED",
          "DUPLICATES",
          "CONFLICTS",
          "SENT",
          "REPAIRED",
          "LAST ERROR"
        });
    for (JsonNode p : peers) {
      String error =
          p.path("lastError").isNull()
              ? "-"
              : p.path("lastError").asText()
                  + (p.path("lastErrorAt").isNull()
                      ? ""
                      : " (" + p.path("lastErrorAt").asText()
                          + (p.path("lastErrorResolved").asBoolean(false) ? ", reconnected since" : "") + ")");
      rows.add(
          new String[] {
            p.path("id").asText(),
            p.path("address").asText(),
            !p.path("stalledSince").isNull() && !p.path("stalledSince").isMissingNode()
                ? "STALLED"
                : p.path("connected").asBoolean() ? "yes" + olderProtocol(p) : "NO",
            Long.toString(p.path("watermark").asLong()),
            Long.toString(p.path("lagEntries").asLong()),
            String.format(Locale.ROOT, "%.1f", p.path("lagSeconds").asDouble()),
            Long.toString(p.path("entriesApplied").asLong()),
            Long.toString(p.path("duplicates").asLong()),
            Long.toString(p.path("conflicts").asLong()),
            Long.toString(p.path("entriesSent").asLong()),
            Long.toString(p.path("keysRepaired").asLong()),
            error
          });
    }
    out.print(Table.format(rows));
    for (JsonNode p : peers) {
      if (!p.path("stalledSince").isNull() && !p.path("stalledSince").isMissingNode()) {
        out.printf(
            "peer %s is STALLED since %s: connected and %d entries behind, without progress; its stream is being"
                + " reopened (check the network path to %s and the peer's log)%n",
            p.path("id").asText(), p.path("stalledSince").asText(), p.path("lagEntries").asLong(), p.path("address").asText());
      }
      if (!p.path("lastDivergenceAt").isNull() && !p.path("lastDivergenceAt").isMissingNode()) {
        out.printf(
            "peer %s: anti-entropy found a divergence last at %s (%d repairs, %d keys repaired in all)%n",
            p.path("id").asText(), p.path("lastDivergenceAt").asText(), p.path("repairs").asLong(), p.path("keysRepaired").asLong());
      }
    }
  }

  /** " (protocol 1)" for a peer that speaks an older replication protocol than this build, else "". */
  private static String olderProtocol(JsonNode peer) {
    int v = peer.path("protocolVersion").asInt(0);
    return v > 0 && v < dev.edgesync.engine.replication.wire.ProtocolVersion.CURRENT ? " (protocol " + v + ")" : "";
  }
}
