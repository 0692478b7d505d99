package dev.edgesync.discovery;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Peers from DNS: the SRV records of one name, re-resolved every {@code interval}. Each record's
 * target names a peer: its node id is the target's first label ({@code site-0} of {@code
 * site-0.edgesync.shops.svc.cluster.local}, as a Kubernetes StatefulSet's headless service gives
 * it), its address the target's A (else AAAA) record and the record's port. This node's own id is
 * left out.
 *
 * <p>A name that does not exist, or has no SRV records, means no peers: they disappear. A lookup
 * that fails (timeout, server failure) keeps the peers of the last answer, so a DNS outage never
 * takes peers away; it is logged once per distinct failure. The listener hears a new list only
 * when it differs from the last one.
 *
 * <p>Threading: lookups run on the caller's scheduler, one at a time; {@link #close()} cancels the
 * next ones. Memory is bounded by {@link #MAX_PEERS}.
 */
public final class DnsPeerDiscovery implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DnsPeerDiscovery.class);

  /** Most peers taken from one answer; the rest are left out with a warning. */
  public static final int MAX_PEERS = 1024;

  /**
   * What to resolve.
   *
   * @param srvName the name whose SRV records list the peers
   * @param interval time between two lookups
   * @param servers DNS servers ({@code host:port}) to ask; empty: the system's
   */
  public record Settings(String srvName, Duration interval, List<InetSocketAddress> servers) {
    public Settings {
      Objects.requireNonNull(srvName, "srvName");
      Objects.requireNonNull(interval, "interval");
      servers = List.copyOf(servers);
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("the DNS lookup interval must be positive, got " + interval);
      }
    }
  }

  private final Settings settings;
  private final String selfId;
  private final Name name;
  private final Resolver resolver;
  private List<PeerSpec> last;
  private String lastProblem;
  private ScheduledFuture<?> task;

  DnsPeerDiscovery(Settings settings, String selfId) {
    this.settings = settings;
    this.selfId = selfId;
    try {
      this.name = Name.fromString(settings.srvName().endsWith(".") ? settings.srvName() : settings.srvName() + ".");
    } catch (TextParseException e) {
      throw new ConfigException("DNS discovery", "srv", settings.srvName(), "is not a DNS name", "a name such as _grpc._tcp.edgesync.shops.svc.cluster.local");
    }
    Resolver r =
        settings.servers().isEmpty()
            ? new ExtendedResolver()
            : new ExtendedResolver(settings.servers().stream().map(SimpleResolver::new).map(Resolver.class::cast).toList());
    r.setTimeout(Duration.ofSeconds(3));
    this.resolver = r;
  }

  /**
   * Starts looking up at once and then every interval; {@code listener} hears each new peer list
   * (on the scheduler's thread).
   */
  public static DnsPeerDiscovery start(
      Settings settings, String selfId, ScheduledExecutorService scheduler, Consumer<List<PeerSpec>> listener) {
    DnsPeerDiscovery d = new DnsPeerDiscovery(settings, selfId);
    long every = settings.interval().toMillis();
    d.task =
        scheduler.scheduleWithFixedDelay(
            () -> {
              try {
                d.lookup().ifPresent(listener);
              } catch (RuntimeException e) {
                // A periodic task that throws is never run again: log and keep looking up.
                log.error("DNS discovery of {} failed", settings.srvName(), e);
              }
            },
            0,
            every,
            TimeUnit.MILLISECONDS);
    return d;
  }

  /** One lookup: the new peer list when it changed, empty when unchanged or the lookup failed. */
  synchronized Optional<List<PeerSpec>> lookup() {
    List<PeerSpec> now = resolve();
    if (now == null || now.equals(last)) {
      return Optional.empty();
    }
    log.info("DNS discovery: {} names {} peer(s): {}", settings.srvName(), now.size(), now);
    last = now;
    return Optional.of(now);
  }

  /** The peers the records name now; null when the lookup failed (keep the last ones). */
  private List<PeerSpec> resolve() {
    Record[] records = query(name, Type.SRV);
    if (records == null) {
      return null;
    }
    TreeMap<String, PeerSpec> peers = new TreeMap<>();
    for (Record r : records) {
      if (!(r instanceof SRVRecord srv)) {
        continue;
      }
      String target = srv.getTarget().toString(true);
      String id = target.contains(".") ? target.substring(0, target.indexOf('.')) : target;
      if (!PeerSpec.isValidId(id)) {
        problem("the SRV target " + target + " does not start with a node id (" + PeerSpec.ID_FORMAT + "); left out");
        continue;
      }
      if (id.equals(selfId) || peers.containsKey(id)) {
        continue;
      }
      if (peers.size() >= MAX_PEERS) {
        problem(settings.srvName() + " names more than " + MAX_PEERS + " peers; the rest are left out");
        break;
      }
      InetAddress address = address(srv.getTarget());
      if (address == null) {
        return null;
      }
      peers.put(id, new PeerSpec(id, address.getHostAddress(), srv.getPort()));
    }
    lastProblem = null;
    return List.copyOf(peers.values());
  }

  /** The target's A record, else its AAAA record; null when neither is there or a lookup failed. */
  private InetAddress address(Name target) {
    for (int type : new int[] {Type.A, Type.AAAA}) {
      Record[] records = query(target, type);
      if (records == null) {
        return null;
      }
      for (Record r : records) {
        if (r instanceof ARecord a) {
          return a.getAddress();
        }
        if (r instanceof AAAARecord a) {
          return a.getAddress();
        }
      }
    }
    problem("the SRV target " + target + " has no A or AAAA record; waiting for it");
    return null;
  }

  /** The records of {@code n}; empty when it does not exist; null when the lookup failed. */
  private Record[] query(Name n, int type) {
    Lookup lookup = new Lookup(n, type);
    lookup.setResolver(resolver);
    lookup.setCache(null);
    Record[] out = lookup.run();
    switch (lookup.getResult()) {
      case Lookup.SUCCESSFUL:
        return out;
      case Lookup.HOST_NOT_FOUND:
      case Lookup.TYPE_NOT_FOUND:
        return new Record[0];
      default:
        problem("looking up " + Type.string(type) + " " + n + " failed (" + lookup.getErrorString() + "); keeping the peers"
            + " of the last answer: " + (last == null ? "none yet" : last));
        return null;
    }
  }

  private void problem(String what) {
    if (!what.equals(lastProblem)) {
      log.warn("DNS discovery: {}", what);
      lastProblem = what;
    }
  }

  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
    }
  }

  /** The settings this discovery runs with. */
  public Settings settings() {
    return settings;
  }

  /** The peers of the last answer; empty before one. */
  public synchronized List<PeerSpec> peers() {
    return last == null ? List.of() : new ArrayList<>(last);
  }
}
