package dev.edgesync.node.server;

import dev.edgesync.discovery.DnsPeerDiscovery;
import dev.edgesync.discovery.PeerFileWatcher;
import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.discovery.PeerSet;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.node.config.NodeConfig;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running node program: the {@link SyncNode}, its HTTP API, its Prometheus registry and the
 * watch of the config file for peer changes.
 *
 * <p>Lifecycle: {@link #start(NodeConfig)} binds the HTTP port first (so a port conflict is
 * reported before the database is opened), then starts the node, then serves HTTP. {@link #close()}
 * stops taking HTTP writes, lets requests in flight finish, then closes the node (which commits the
 * batch in flight, persists watermarks and closes streams). {@code close()} may be called from any
 * thread, e.g. a shutdown hook, and is idempotent.
 */
public final class NodeServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeServer.class);

  /** How often the config file is checked for peer changes. */
  static final Duration PEER_FILE_CHECK_INTERVAL = Duration.ofSeconds(2);

  private final NodeConfig config;
  private final PrometheusMeterRegistry registry;
  private final SyncNode node;
  private final HttpApi http;
  private final JvmGcMetrics gcMetrics;
  private final RuntimePeers peers;
  private ScheduledExecutorService watchScheduler;
  private PeerFileWatcher watcher;
  private DnsPeerDiscovery dns;
  // The configured peers: those of the file, environment or flags, and those DNS names.
  private final Object configuredLock = new Object();
  private java.util.List<PeerSpec> staticPeers;
  private java.util.List<PeerSpec> dnsPeers = java.util.List.of();
  private ScheduledExecutorService accessScheduler;
  private boolean closed;

  private NodeServer(
      NodeConfig config,
      PrometheusMeterRegistry registry,
      SyncNode node,
      HttpApi http,
      JvmGcMetrics gcMetrics,
      RuntimePeers peers) {
    this.config = config;
    this.peers = peers;
    this.staticPeers = config.peers().peers();
    this.registry = registry;
    this.node = node;
    this.http = http;
    this.gcMetrics = gcMetrics;
  }

  /**
   * Starts a node program from a resolved configuration.
   *
   * @throws HttpBindException if the HTTP address cannot be bound (nothing else was started)
   * @throws dev.edgesync.engine.storage.errors.StorageException if the database cannot be opened
   * @throws dev.edgesync.engine.storage.NodeIdMismatchException if the data dir belongs to another
   *     node id
   * @throws RuntimeException if the node cannot start for another reason (e.g. the gRPC port is
   *     taken); the message says why
   */
  public static NodeServer start(NodeConfig config) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);

    RuntimePeers peers;
    try {
      peers = RuntimePeers.load(config.dataDir(), config.id(), config.peers().peers());
    } catch (RuntimeException e) {
      gc.close();
      throw e;
    }
    SyncNode node = build(config, registry, peers.effective());
    HttpApi http;
    InetSocketAddress bind = new InetSocketAddress(config.http().host(), config.http().port());
    HttpAccess access;
    try {
      access = HttpAccess.of(config.security());
    } catch (RuntimeException e) {
      gc.close();
      throw e;
    }
    try {
      http = new HttpApi(bind, node, config.limits(), registry, access);
    } catch (IOException e) {
      gc.close();
      throw new HttpBindException(
          "cannot listen for HTTP on "
              + config.http()
              + ": "
              + e.getMessage()
              + "; choose another address with --http, EDGESYNC_HTTP or 'http:' in the config file",
          e);
    }
    http.servePeers(new PeersResource(node, peers));
    try {
      node.start();
    } catch (RuntimeException e) {
      http.close();
      gc.close();
      throw e;
    }
    peers.attach(node::setPeers);
    http.start();
    NodeServer server = new NodeServer(config, registry, node, http, gc, peers);
    server.watchPeers();
    server.watchDns();
    server.watchHttpAccess();
    return server;
  }

  /** Makes the engine's builder from the resolved configuration. */
  static SyncNode build(NodeConfig c, PrometheusMeterRegistry registry, java.util.List<dev.edgesync.discovery.PeerSpec> peers) {
    SyncNode.Builder b =
        SyncNode.builder()
            .nodeId(c.id())
            .cluster(c.cluster())
            .dataDir(c.dataDir())
            .listen(c.listen().toString())
            .peers(peers)
            .durability(c.durability())
            .maxKeyBytes(c.limits().maxKeyBytes())
            .maxValueBytes(c.limits().maxValueBytes())
            .writeQueueDepth(c.limits().writeQueueDepth())
            .batchMaxEntries(c.replication().batchMaxEntries())
            .batchMaxBytes(c.replication().batchMaxBytes())
            .maxBatchesInFlight(c.replication().maxBatchesInFlight())
            .heartbeatInterval(c.replication().heartbeatInterval())
            .heartbeatTimeout(c.replication().heartbeatTimeout())
            .reconnectBaseDelay(c.replication().reconnectBaseDelay())
            .reconnectMaxDelay(c.replication().reconnectMaxDelay())
            .compression(c.replication().compression())
            .maxClockSkew(c.replication().maxClockSkew())
            .stallTimeout(c.replication().stallTimeout())
            .antiEntropySettle(c.replication().antiEntropySettle())
            .antiEntropyMinInterval(c.replication().antiEntropyMinInterval())
            .repairMaxEntries(c.replication().repairMaxEntries())
            .maxProtocolVersion(c.replication().maxProtocolVersion())
            .gcInterval(c.replication().gc().interval())
            .gcMinAge(c.replication().gc().minAge())
            .gcBatchSize(c.replication().gc().batchSize())
            .gcEnabled(c.replication().gc().enabled())
            .meterRegistry(registry);
    NodeConfig.Security sec = c.security();
    if (sec.tls()) {
      b.tls(sec.tlsCert(), sec.tlsKey(), sec.tlsCa());
      sec.peerTls().forEach((peer, t) -> b.peerTls(peer, t.ca(), t.serverName()));
    }
    if (sec.token() != null) {
      if (sec.token().file() != null) {
        b.tokenFile(sec.token().file());
      } else {
        b.token(sec.token().value());
      }
    }
    b.allowedPeers(sec.allowedPeers())
        .maxInboundStreams(sec.maxInboundStreams())
        .maxStreamsPerPeer(sec.maxStreamsPerPeer())
        .handshakeTimeout(sec.handshakeTimeout())
        .securityReloadInterval(sec.reloadInterval());
    if (!c.clockOffset().isZero()) {
      // Fault tests run a node with a skewed wall clock; the HLC reads this clock.
      b.clock(InstantSource.offset(InstantSource.system(), c.clockOffset()));
    }
    return b.build();
  }

  private synchronized ScheduledExecutorService watchScheduler() {
    if (watchScheduler == null) {
      watchScheduler =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "edgesync-config-watch");
                t.setDaemon(true);
                return t;
              });
    }
    return watchScheduler;
  }

  /** Peers from the SRV records of {@code discovery.dnsSrv}, when set. */
  private void watchDns() {
    NodeConfig.Discovery d = config.discovery();
    if (d.dnsSrv() == null) {
      return;
    }
    java.util.List<java.net.InetSocketAddress> servers =
        d.dnsServers().stream().map(h -> new java.net.InetSocketAddress(h.host(), h.port())).toList();
    dns =
        DnsPeerDiscovery.start(
            new DnsPeerDiscovery.Settings(d.dnsSrv(), d.dnsInterval(), servers),
            config.id(),
            watchScheduler(),
            found -> {
              synchronized (configuredLock) {
                dnsPeers = found;
                peers.configuredChanged(configured(), dnsOnly());
              }
              log.info("Node {} now replicates with {} peer(s): {} (DNS {} names {})",
                  config.id(), peers.effective().size(), peers.effective(), d.dnsSrv(), found);
            });
  }

  /** Under {@code configuredLock}: the ids of the peers that only DNS names. */
  private java.util.Set<String> dnsOnly() {
    java.util.Set<String> ids = new java.util.HashSet<>();
    dnsPeers.forEach(p -> ids.add(p.id()));
    staticPeers.forEach(p -> ids.remove(p.id()));
    return ids;
  }

  /** Under {@code configuredLock}: the file's (or environment's) peers, then those only DNS names. */
  private java.util.List<PeerSpec> configured() {
    java.util.Map<String, PeerSpec> byId = new java.util.LinkedHashMap<>();
    staticPeers.forEach(p -> byId.put(p.id(), p));
    dnsPeers.forEach(p -> byId.putIfAbsent(p.id(), p));
    return java.util.List.copyOf(byId.values());
  }

  private void watchPeers() {
    if (!config.peersFromFile()) {
      return;
    }
    watchScheduler();
    watcher =
        PeerFileWatcher.start(
            config.configFile(),
            config.peers(),
            watchScheduler,
            PEER_FILE_CHECK_INTERVAL,
            this::applyPeers);
  }

  /** Re-reads the HTTP token file and the HTTPS files every {@code security.reloadInterval}. */
  private void watchHttpAccess() {
    NodeConfig.Security sec = config.security();
    boolean fileToken = sec.httpToken() != null && sec.httpToken().file() != null;
    if (!fileToken && !sec.httpTls()) {
      return;
    }
    accessScheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edgesync-http-access-watch");
              t.setDaemon(true);
              return t;
            });
    long every = sec.reloadInterval().toMillis();
    // Not kept: the task logs its own failures, and stopping the scheduler cancels it.
    var unused =
        accessScheduler.scheduleWithFixedDelay(
            () -> {
              try {
                http.reloadAccess();
              } catch (RuntimeException e) {
                // A scheduled task that throws is never run again: log and keep polling.
                log.error("checking the HTTP token and certificate files failed", e);
              }
            },
            every,
            every,
            java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private void applyPeers(PeerSet peers) {
    if (peers.contains(config.id())) {
      log.warn(
          "Ignoring the peers in {}: the list holds this node's own id '{}'; remove it.",
          config.configFile(),
          config.id());
      return;
    }
    synchronized (configuredLock) {
      staticPeers = peers.peers();
      this.peers.configuredChanged(configured(), dnsOnly());
    }
    log.info(
        "Node {} now replicates with {} peer(s): {} (the config file's {}, with the changes made at run time)",
        config.id(), this.peers.effective().size(), this.peers.effective(), peers);
  }

  /** The peers the node replicates with: the configured ones with the changes made at run time. */
  public java.util.List<dev.edgesync.discovery.PeerSpec> peers() {
    return peers.effective();
  }

  /** The embedded node. */
  public SyncNode node() {
    return node;
  }

  /** The HTTP address actually bound. */
  public InetSocketAddress httpAddress() {
    return http.address();
  }

  /** The gRPC port actually bound. */
  public int grpcPort() {
    return node.port();
  }

  /** The HTTP API, for tests in this package. */
  HttpApi httpApiForTest() {
    return http;
  }

  /** The Prometheus registry the node records to. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /**
   * Stops gracefully: HTTP writes are refused from now on, requests in flight finish, the node
   * commits what is queued, persists watermarks and closes its streams and database.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    http.stopAcceptingWrites();
    if (watcher != null) {
      watcher.close();
    }
    if (dns != null) {
      dns.close();
    }
    if (watchScheduler != null) {
      watchScheduler.shutdownNow();
    }
    if (accessScheduler != null) {
      accessScheduler.shutdownNow();
    }
    http.close();
    node.close();
    gcMetrics.close();
    registry.close();
  }

  /** The HTTP address cannot be bound. */
  public static final class HttpBindException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HttpBindException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
