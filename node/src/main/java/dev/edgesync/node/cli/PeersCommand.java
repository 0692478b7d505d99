package dev.edgesync.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code edgesync peers list|add|remove|reset|forget}: the peer list of a running node, changed at
 * run time (kept across restarts), and decommissioning.
 */
@Command(
    name = "peers",
    mixinStandardHelpOptions = true,
    description = {
      "peers list: this node's peers (from its config or changed at run time) with their links, and the",
      "  nodes that pull from it (inbound subscribers, which count toward --acks).",
      "peers add ID HOST:PORT: adds peer ID, or changes its address (PUT /peers/{id}).",
      "peers remove ID: removes peer ID; its stream closes (DELETE /peers/{id}).",
      "  Both are kept in <dataDir>/peers.json across restarts and win over the config, also when",
      "  the config file changes.",
      "peers reset ID: drops the run-time change of ID; the config decides again.",
      "peers forget ID: decommissions node ID, gone for good (POST /admin/forget/{id}). It no longer",
      "  holds back the tombstone horizon, on this node and, as the news travels with replication, on",
      "  every node, and it may not sync again under its id. First remove ID from the peer list of",
      "  every node that lists it."
    })
public final class PeersCommand extends ClientCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "ACTION", description = "list, add, remove, reset or forget")
  String action;

  @Parameters(index = "1..*", arity = "0..2", paramLabel = "ARG", description = "ID, and for add HOST:PORT")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() {
    int wanted =
        switch (action) {
          case "list" -> 0;
          case "add" -> 2;
          case "remove", "reset", "forget" -> 1;
          default -> -1;
        };
    if (wanted < 0) {
      main.err().println("edgesync: peers knows list, add, remove, reset and forget, not '" + action + "'; see edgesync peers --help");
      return Main.EXIT_USAGE;
    }
    if (args.size() != wanted) {
      main.err().println(
          "edgesync: peers " + action + " takes " + (wanted == 0 ? "no arguments" : wanted == 1 ? "ID" : "ID HOST:PORT")
              + ", got " + args.size() + " argument(s); see edgesync peers --help");
      return Main.EXIT_USAGE;
    }
    NodeClient c = client();
    NodeClient.Response r =
        switch (action) {
          case "list" -> c.peers();
          case "add" -> c.putPeer(args.get(0), args.get(1));
          case "remove" -> c.removePeer(args.get(0));
          case "reset" -> c.resetPeer(args.get(0));
          default -> c.forget(args.get(0));
        };
    if (r.status() != 200) {
      main.err().println("edgesync: peers " + String.join(" ", action, String.join(" ", args)).strip() + " on " + c.base()
          + " failed (" + r.status() + "): " + r.errorMessage());
      return Main.EXIT_FAILURE;
    }
    JsonNode j = r.json();
    switch (action) {
      case "list" -> printList(j);
      case "add" ->
          main.out().println(
              j.path("previousAddress").isNull()
                  ? "added peer '" + args.get(0) + "' at " + j.path("address").asText() + " on " + c.base()
                  : "peer '" + args.get(0) + "' moved from " + j.path("previousAddress").asText() + " to "
                      + j.path("address").asText() + " on " + c.base());
      case "remove" ->
          main.out().println(
              j.path("wasPeer").asBoolean()
                  ? "removed peer '" + args.get(0) + "' on " + c.base() + " (its watermark stays, should it come back)"
                  : "'" + args.get(0) + "' was not a peer of " + c.base() + "; nothing changed");
      case "reset" ->
          main.out().println(
              j.path("hadChange").asBoolean()
                  ? "peer '" + args.get(0) + "' follows the config of " + c.base() + " again"
                  : "peer '" + args.get(0) + "' had no run-time change on " + c.base());
      default ->
          main.out().println(
              "forgot node '" + args.get(0) + "' on " + c.base()
                  + (j.path("wasMember").asBoolean() ? "" : " (it was not known there; the news still travels)")
                  + ": it no longer holds the tombstone horizon back, and may not sync again under this id");
    }
    return Main.EXIT_OK;
  }

  private void printList(JsonNode j) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"PEER", "ADDRESS", "FROM", "CONNECTED", "WATERMARK", "LAG", "LAST ERROR"});
    for (JsonNode p : j.path("peers")) {
      rows.add(
          new String[] {
            p.path("id").asText(),
            p.path("address").asText(),
            p.path("source").asText(),
            p.path("connected").asBoolean() ? "yes" : "NO",
            Long.toString(p.path("watermark").asLong()),
            Long.toString(p.path("lagEntries").asLong()),
            p.path("lastError").isNull() ? "-" : p.path("lastError").asText()
          });
    }
    main.out().print(j.path("peers").isEmpty() ? "no peers\n" : Table.format(rows));
    if (!j.path("removedFromConfig").isEmpty()) {
      List<String> ids = new ArrayList<>();
      j.path("removedFromConfig").forEach(id -> ids.add(id.asText()));
      main.out().println("removed at run time though the config names them: " + String.join(", ", ids)
          + " (edgesync peers reset ID to follow the config again)");
    }
    List<String[]> subs = new ArrayList<>();
    subs.add(new String[] {"SUBSCRIBER", "CONNECTED", "ACKED SEQ", "SENT", "IN PEERS"});
    for (JsonNode s : j.path("subscribers")) {
      subs.add(
          new String[] {
            s.path("id").asText(),
            s.path("connected").asBoolean() ? "yes" : "no",
            Long.toString(s.path("ackedSeq").asLong()),
            Long.toString(s.path("entriesSent").asLong()),
            s.path("inPeers").asBoolean() ? "yes" : "no"
          });
    }
    main.out().println();
    main.out().print(j.path("subscribers").isEmpty() ? "no node pulls from this one yet\n" : Table.format(subs));
  }
}
