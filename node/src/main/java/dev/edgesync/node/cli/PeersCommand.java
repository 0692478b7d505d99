package dev.edgesync.node.cli;

import dev.edgesync.node.Main;
import dev.edgesync.node.client.NodeClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code edgesync peers forget ID}: decommissions a node that is gone for good. */
@Command(
    name = "peers",
    mixinStandardHelpOptions = true,
    description = {
      "peers forget ID: decommissions node ID, gone for good (POST /admin/forget/{id}). It no longer",
      "holds back the tombstone horizon, on this node and, as the news travels with replication, on",
      "every node, and it may not sync again under its id. First remove ID from the peer list of",
      "every node that lists it."
    })
public final class PeersCommand extends ClientCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "ACTION", description = "forget")
  String action;

  @Parameters(index = "1", paramLabel = "ID", description = "The node id.")
  String id;

  @Override
  public Integer call() {
    if (!action.equals("forget")) {
      main.err().println("edgesync: peers knows only 'forget ID', not '" + action + "'; see edgesync peers --help");
      return Main.EXIT_USAGE;
    }
    NodeClient c = client();
    NodeClient.Response r = c.forget(id);
    if (r.status() != 200) {
      main.err().println("edgesync: peers forget " + id + " on " + c.base() + " failed (" + r.status() + "): " + r.errorMessage());
      return Main.EXIT_FAILURE;
    }
    boolean known = r.json().path("wasMember").asBoolean();
    main.out()
        .println(
            "forgot node '" + id + "' on " + c.base() + (known ? "" : " (it was not known there; the news still travels)")
                + ": it no longer holds the tombstone horizon back, and may not sync again under this id");
    return Main.EXIT_OK;
  }
}
