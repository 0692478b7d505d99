package dev.edgesync.engine.replication;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.StoreOptions;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.engine.storage.kv.KvStore;
import dev.edgesync.engine.transport.Transport;
import dev.edgesync.watermark.WatermarkStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * One node of a test cluster: a real {@link GroupCommitStore} over a {@link KvStore}, a real
 * {@link WatermarkStore} in a temp directory and a {@link ReplicationEngine} on a test transport.
 */
public final class TestNode implements AutoCloseable {
  final String id;
  final Path dir;
  final KvStore kv;
  public final GroupCommitStore store;
  final WatermarkStore watermarks;
  public final EngineMetrics metrics;
  public final ReplicationEngine engine;
  final String host;

  public TestNode(
      String id,
      Path dir,
      KvStore kv,
      Clock storeClock,
      ReplicationSettings settings,
      Transport transport,
      String host,
      ScheduledExecutorService scheduler,
      long seed) {
    this.id = id;
    this.dir = dir;
    this.kv = kv;
    this.host = host;
    this.metrics = EngineMetrics.noRegistry();
    this.store = GroupCommitStore.open(kv, dir.resolve("db").toString(), StoreOptions.defaults(id, storeClock), metrics);
    this.watermarks = WatermarkStore.open(dir, Clock.systemUTC());
    this.engine =
        new ReplicationEngine(
            store, watermarks, settings, transport, metrics, Clock.systemUTC(), scheduler, seed,
            ReplicationEngine.ioPool(id));
  }

  /** The spec other nodes use to reach this one. */
  public PeerSpec spec() {
    return new PeerSpec(id, host, engine.boundPort());
  }

  public WriteResult put(String key, String value) {
    return store.submitLocal(bytes(key), bytes(value)).join();
  }

  WriteResult delete(String key) {
    return store.submitLocal(bytes(key), null).join();
  }

  public Optional<StoredEntry> get(String key) {
    return store.get(bytes(key));
  }

  public Optional<String> value(String key) {
    return get(key).filter(e -> !e.tombstone()).map(e -> new String(e.value(), StandardCharsets.UTF_8));
  }

  public PeerStatus status(String peerId) {
    return engine.peerStatuses().stream()
        .filter(s -> s.id().equals(peerId))
        .findFirst()
        .orElseThrow(() -> new AssertionError(id + " has no peer " + peerId));
  }

  double errors(String peer, String kind) {
    return metrics.errors(peer, kind).count();
  }

  /** Stops replication, then the store (which closes the key-value store). */
  @Override
  public void close() {
    try {
      engine.close();
    } finally {
      store.close();
      watermarks.close();
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
