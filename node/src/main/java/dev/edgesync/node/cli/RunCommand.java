package dev.edgesync.node.cli;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.engine.storage.NodeIdMismatchException;
import dev.edgesync.engine.storage.errors.StorageException;
import dev.edgesync.node.Main;
import dev.edgesync.node.config.ConfigLoader;
import dev.edgesync.node.config.ConfigOverrides;
import dev.edgesync.node.config.NodeConfig;
import dev.edgesync.node.server.NodeServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code edgesync run}: runs one node until SIGTERM or SIGINT, then stops it gracefully and exits
 * 0.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a node until SIGTERM or SIGINT (Ctrl-C), then stops it gracefully and exits 0.",
      "Configuration: defaults < config file < EDGESYNC_* environment variables < these flags.",
      "A bad value exits 2 with one line naming its source and key; nothing is started."
    })
public final class RunCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

  @ParentCommand Main main;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "YAML or JSON config file (default: $EDGESYNC_CONFIG, else none).")
  String config;

  @Option(
      names = "--id",
      paramLabel = "ID",
      description = "This node's id, e.g. site-a ($EDGESYNC_NODE_ID; required somewhere).")
  String id;

  @Option(
      names = "--cluster",
      paramLabel = "NAME",
      description =
          "Cluster name; nodes of other clusters are refused ($EDGESYNC_CLUSTER; default:"
              + " default).")
  String cluster;

  @Option(
      names = "--listen",
      paramLabel = "HOST:PORT",
      description = "gRPC replication address ($EDGESYNC_LISTEN; default: 0.0.0.0:7400).")
  String listen;

  @Option(
      names = "--http",
      paramLabel = "HOST:PORT",
      description = "HTTP API address ($EDGESYNC_HTTP; default: 127.0.0.1:7480).")
  String http;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Data directory ($EDGESYNC_DATA_DIR; default: ./data/<id>).")
  String dataDir;

  @Option(
      names = "--peers",
      paramLabel = "ID=HOST:PORT,...",
      description = "Peers, e.g. site-b=10.0.0.2:7400,site-c=10.0.0.3:7400 ($EDGESYNC_PEERS).")
  String peers;

  @Option(
      names = "--durability",
      paramLabel = "fsync|buffered",
      description = "When a write counts as committed ($EDGESYNC_DURABILITY; default: fsync).")
  String durability;

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description = "PEM certificate chain of this node for mutual TLS ($EDGESYNC_TLS_CERT).")
  String tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "Its unencrypted PKCS#8 PEM private key ($EDGESYNC_TLS_KEY).")
  String tlsKey;

  @Option(
      names = "--tls-ca",
      paramLabel = "FILE",
      description = "PEM bundle of the CAs that sign peers' certificates ($EDGESYNC_TLS_CA).")
  String tlsCa;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "File with the cluster token, one per line; the first is sent, all are accepted"
              + " ($EDGESYNC_TOKEN_FILE, or the token itself in $EDGESYNC_TOKEN).")
  String tokenFile;

  @Option(
      names = "--allowed-peers",
      paramLabel = "ID,...",
      description =
          "Node ids that may subscribe to this node ($EDGESYNC_ALLOWED_PEERS; default: every node"
              + " that authenticates).")
  String allowedPeers;

  @Option(
      names = "--http-token-file",
      paramLabel = "FILE",
      description =
          "File with the HTTP API's bearer token ($EDGESYNC_HTTP_TOKEN_FILE, or the token in"
              + " $EDGESYNC_HTTP_TOKEN); required when --http is not a loopback address.")
  String httpTokenFile;

  @Option(
      names = "--clock-offset",
      hidden = true,
      paramLabel = "DURATION",
      description = "Adds this offset to the wall clock, e.g. -30s (fault tests only).")
  String clockOffset;

  @Override
  public Integer call() throws InterruptedException {
    NodeConfig cfg;
    try {
      cfg =
          ConfigLoader.load(
              new ConfigOverrides(
                  config,
                  id,
                  cluster,
                  listen,
                  http,
                  dataDir,
                  peers,
                  durability,
                  clockOffset,
                  tlsCert,
                  tlsKey,
                  tlsCa,
                  tokenFile,
                  allowedPeers,
                  httpTokenFile),
              main.env());
    } catch (ConfigException e) {
      main.err().println("edgesync: " + e.getMessage());
      return Main.EXIT_USAGE;
    }
    NodeServer server;
    try {
      server = NodeServer.start(cfg);
    } catch (ConfigException e) {
      main.err().println("edgesync: " + e.getMessage());
      return Main.EXIT_USAGE;
    } catch (NodeIdMismatchException | StorageException | NodeServer.HttpBindException e) {
      main.err().println("edgesync: cannot start node " + cfg.id() + ": " + e.getMessage());
      return Main.EXIT_FAILURE;
    } catch (RuntimeException e) {
      main.err().println("edgesync: cannot start node " + cfg.id() + ": " + describe(e));
      log.debug("start failed", e);
      return Main.EXIT_FAILURE;
    }
    log.info(
        "edgesync {} node {} running: cluster {}, gRPC {}:{}, HTTP {}:{}, data dir {}, durability"
            + " {}, peers {}{}",
        Main.version(),
        cfg.id(),
        cfg.cluster(),
        cfg.listen().host(),
        server.grpcPort(),
        server.httpAddress().getHostString(),
        server.httpAddress().getPort(),
        cfg.dataDir().toAbsolutePath().normalize(),
        cfg.durability().name().toLowerCase(java.util.Locale.ROOT),
        server.peers().isEmpty() ? "(none)" : server.peers(),
        cfg.clockOffset().isZero() ? "" : ", clock offset " + cfg.clockOffset());
    NodeConfig.Security sec = cfg.security();
    log.info(
        "node {} security: replication {}, cluster token {}, subscribers {}, HTTP API {} {}",
        cfg.id(),
        sec.tls() ? "mutual TLS (certificate " + sec.tlsCert() + ", CAs " + sec.tlsCa() + ")" : "plaintext",
        sec.token() == null ? "none" : sec.token(),
        sec.allowedPeers().isEmpty() ? "any authenticated node" : "only " + sec.allowedPeers(),
        sec.httpTls() ? "over HTTPS" : "over plain HTTP",
        sec.httpToken() == null ? "without a token (loopback only)" : "with a bearer token " + sec.httpToken());
    if (!main.ownsProcess()) {
      // Under a test there is no signal to wait for; the caller stops what it started.
      server.close();
      return Main.EXIT_OK;
    }
    CountDownLatch forever = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server), "edgesync-shutdown"));
    forever.await();
    return Main.EXIT_OK;
  }

  /**
   * Runs on SIGTERM/SIGINT. The JVM would exit with 128+signal after its hooks; a node stopped on
   * purpose has succeeded, so once it has closed cleanly the process ends with status 0.
   */
  private static void stop(NodeServer server) {
    log.info(
        "Stopping node {}: refusing new writes, finishing the batch in flight, persisting"
            + " watermarks",
        server.node().nodeId());
    try {
      server.close();
    } catch (RuntimeException e) {
      log.error("Node {} did not stop cleanly", server.node().nodeId(), e);
      Runtime.getRuntime().halt(Main.EXIT_FAILURE);
    }
    log.info("Node {} stopped", server.node().nodeId());
    Runtime.getRuntime().halt(Main.EXIT_OK);
  }

  private static String describe(Throwable e) {
    StringBuilder s =
        new StringBuilder(String.valueOf(e.getMessage() != null ? e.getMessage() : e));
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !s.toString().contains(c.getMessage())) {
        s.append(": ").append(c.getMessage());
      }
    }
    return s.toString();
  }
}
