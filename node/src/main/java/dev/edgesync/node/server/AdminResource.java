package dev.edgesync.node.server;

import static dev.edgesync.node.server.HttpExchanges.allow;
import static dev.edgesync.node.server.HttpExchanges.query;
import static dev.edgesync.node.server.HttpExchanges.sendJson;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.SyncNode;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /admin/...}: an operator's actions on the node, each a {@code POST}.
 *
 * <ul>
 *   <li>{@code POST /admin/backup}: streams a consistent backup of the database as the response
 *       body ({@code StoreBackup}); writes go on meanwhile. One at a time: each holds a snapshot
 *       and a request thread for its duration. A backup that fails part-way ends the body without
 *       its trailer, which the reader detects.
 *   <li>{@code POST /admin/forget/{id}}: decommissions a node that is gone for good, so that it no
 *       longer holds the tombstone horizon back (on every node, once reports carry it).
 * </ul>
 */
final class AdminResource {
  private static final Logger log = LoggerFactory.getLogger(AdminResource.class);

  private final SyncNode node;
  private final AtomicBoolean backupRunning = new AtomicBoolean();

  AdminResource(SyncNode node) {
    this.node = node;
  }

  /** Whether {@code path} is one of these endpoints. */
  static boolean serves(String path) {
    return path.equals("/admin/backup") || path.startsWith("/admin/forget/");
  }

  void handle(HttpExchange ex, String method, String path) throws IOException {
    allow(ex, method, java.util.Set.of("POST"));
    query(ex, java.util.Set.of());
    if (path.equals("/admin/backup")) {
      backup(ex);
    } else {
      forget(ex, path.substring("/admin/forget/".length()));
    }
  }

  private void backup(HttpExchange ex) throws IOException {
    if (!backupRunning.compareAndSet(false, true)) {
      throw new HttpError(409, "node '" + node.nodeId() + "' is already taking a backup", "wait for it to finish");
    }
    try {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + node.nodeId() + ".edgesync-backup\"");
      ex.sendResponseHeaders(200, 0);
      try (OutputStream out = ex.getResponseBody()) {
        node.backup(out, rows -> log.info("node {}: backup in progress, {} rows written", node.nodeId(), rows));
      } catch (RuntimeException e) {
        log.error("node {}: the backup failed part-way; the client gets a file without its trailer", node.nodeId(), e);
        throw new IOException(e);
      }
    } finally {
      backupRunning.set(false);
    }
  }

  private void forget(HttpExchange ex, String id) throws IOException {
    if (!PeerSpec.isValidId(id)) {
      throw new HttpError(400, "'" + id + "' is not a node id", "a node id: " + PeerSpec.ID_FORMAT);
    }
    if (id.equals(node.nodeId())) {
      throw new HttpError(400, "node '" + id + "' cannot forget itself", "send this to another node");
    }
    boolean known;
    try {
      known = node.forget(id);
    } catch (IllegalArgumentException e) {
      throw new HttpError(409, e.getMessage(), "remove '" + id + "' from this node's peers, then forget it");
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("forgotten", id);
    o.put("wasMember", known);
    sendJson(ex, 200, o);
  }
}
