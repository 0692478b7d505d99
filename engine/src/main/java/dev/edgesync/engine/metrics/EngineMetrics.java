package dev.edgesync.engine.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Every meter the engine records, registered in the {@link MeterRegistry} the embedding app
 * passes in (a {@link SimpleMeterRegistry} when it passes none). Names use Micrometer's dotted
 * convention; a Prometheus registry renders {@code edgesync.replication.entries.applied} as
 * {@code edgesync_replication_entries_applied_total}.
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
public final class EngineMetrics {
  /**
   * Histogram buckets of the latencies: 13, from 0.5 ms to 5 s (Micrometer's percentile histogram
   * has about 70, which per peer on a hub of hundreds of sites is tens of thousands of series).
   */
  static final java.time.Duration[] LATENCY_BUCKETS = {
    java.time.Duration.ofNanos(500_000), java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(2),
    java.time.Duration.ofMillis(5), java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(20),
    java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(100), java.time.Duration.ofMillis(200),
    java.time.Duration.ofMillis(500), java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(2),
    java.time.Duration.ofSeconds(5)
  };

  /** Histogram buckets of entry counts: 13, from 1 to 10,000. */
  static final double[] ENTRY_BUCKETS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000};

  private final MeterRegistry registry;
  private final Counter localWrites;
  private final Counter conflicts;
  private final DistributionSummary commitBatchEntries;
  private final Timer commitLatency;
  private final Counter tombstonesPurged;
  private final Counter staleDropped;

  /** Registers the node-wide meters. */
  public EngineMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.localWrites =
        Counter.builder("edgesync.local.writes").description("Local puts and deletes committed").register(registry);
    this.conflicts =
        Counter.builder("edgesync.conflicts")
            .description("Incoming versions that lost last-writer-wins and were dropped")
            .register(registry);
    this.commitBatchEntries =
        DistributionSummary.builder("edgesync.commit.batch.entries")
            .description("Entries per group commit")
            .serviceLevelObjectives(ENTRY_BUCKETS)
            .register(registry);
    this.commitLatency =
        Timer.builder("edgesync.commit.latency")
            .description("Time to apply and commit one group commit")
            .serviceLevelObjectives(LATENCY_BUCKETS)
            .register(registry);
    this.tombstonesPurged =
        Counter.builder("edgesync.tombstones.purged")
            .description("Tombstones purged because no node can still hold or send an older version of their key")
            .register(registry);
    this.staleDropped =
        Counter.builder("edgesync.gc.stale.dropped")
            .description("Incoming versions older than the purge horizon for a key not held here (superseded by a purged tombstone), not applied")
            .register(registry);
  }

  /** Meters for tests and embedding without a registry. */
  public static EngineMetrics noRegistry() {
    return new EngineMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void localWrites(int n) {
    localWrites.increment(n);
  }

  public void conflicts(int n) {
    conflicts.increment(n);
  }

  public void tombstonesPurged(int n) {
    tombstonesPurged.increment(n);
  }

  public void staleDropped(int n) {
    staleDropped.increment(n);
  }

  /** Registers a gauge. */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    io.micrometer.core.instrument.Gauge.builder(name, source, value).description(description).register(registry);
  }

  public DistributionSummary commitBatchEntries() {
    return commitBatchEntries;
  }

  public Timer commitLatency() {
    return commitLatency;
  }

  /** Registers a gauge of the node's head seq. */
  public <T> void headSeq(T source, ToDoubleFunction<T> value) {
    io.micrometer.core.instrument.Gauge.builder("edgesync.head.seq", source, value)
        .description("Highest seq of this node's change log")
        .register(registry);
  }

  /** Entries applied from {@code peer} (winners stored). */
  public Counter entriesApplied(String peer) {
    return Counter.builder("edgesync.replication.entries.applied")
        .description("Entries received from a peer that won LWW and were stored")
        .tag("peer", peer)
        .register(registry);
  }

  /** Entries sent to subscriber {@code peer}. */
  public Counter entriesSent(String peer) {
    return Counter.builder("edgesync.replication.entries.sent")
        .description("Entries streamed to a subscribing peer")
        .tag("peer", peer)
        .register(registry);
  }

  /** Entries received from {@code peer} that were already stored (echoes, re-sends). */
  public Counter duplicates(String peer) {
    return Counter.builder("edgesync.replication.duplicates")
        .description("Entries received that equal the stored version")
        .tag("peer", peer)
        .register(registry);
  }

  /** Replication errors by peer and kind (e.g. clock_skew, crc, wrong_cluster, io). */
  public Counter errors(String peer, String kind) {
    return Counter.builder("edgesync.replication.errors")
        .description("Replication errors by peer and kind")
        .tag("peer", peer)
        .tag("kind", kind)
        .register(registry);
  }

  /** Reconnect attempts to {@code peer}. */
  public Counter reconnects(String peer) {
    return Counter.builder("edgesync.replication.reconnects")
        .description("Stream re-openings to a peer")
        .tag("peer", peer)
        .register(registry);
  }

  /** Entries per batch received from peers. */
  public DistributionSummary batchEntries(String peer) {
    return DistributionSummary.builder("edgesync.replication.batch.entries")
        .description("Entries per replication batch received")
        .tag("peer", peer)
        .serviceLevelObjectives(ENTRY_BUCKETS)
        .register(registry);
  }

  /** Time from receiving a batch to its commit. */
  public Timer applyLatency(String peer) {
    return Timer.builder("edgesync.replication.apply.latency")
        .description("Time from receiving a batch to its durable commit")
        .tag("peer", peer)
        .serviceLevelObjectives(LATENCY_BUCKETS)
        .register(registry);
  }

  /**
   * Registers the per-peer gauges: lag in entries and in seconds (0 only while connected and caught
   * up; it grows while the peer is down), connected 0/1, stalled 0/1 (connected, behind and no
   * progress for {@code replication.stallTimeout}).
   */
  public <T> void peerGauges(
      String peer,
      T source,
      ToDoubleFunction<T> lagEntries,
      ToDoubleFunction<T> lagSeconds,
      ToDoubleFunction<T> connected,
      ToDoubleFunction<T> stalled) {
    Tags tags = Tags.of("peer", peer);
    peerGauge("edgesync.replication.lag.entries", "Peer's head seq minus this node's watermark for it", tags, source, lagEntries);
    peerGauge(
        "edgesync.replication.lag.seconds",
        "0 while connected and caught up; else seconds since this node was last caught up with the peer",
        tags, source, lagSeconds);
    peerGauge("edgesync.replication.connected", "1 while the stream from the peer is up", tags, source, connected);
    peerGauge(
        "edgesync.replication.stalled",
        "1 while the link is connected and behind but has made no progress for replication.stallTimeout",
        tags, source, stalled);
  }

  private <T> void peerGauge(String name, String description, Tags tags, T source, ToDoubleFunction<T> value) {
    io.micrometer.core.instrument.Gauge.builder(name, source, value).description(description).tags(tags).register(registry);
  }

  /** Anti-entropy repairs this node started against publisher {@code peer}. */
  public Counter antiEntropyRepairs(String peer) {
    return Counter.builder("edgesync.replication.antientropy.repairs")
        .description("Anti-entropy repairs started: digests differed while both sides were caught up")
        .tag("peer", peer)
        .register(registry);
  }

  /** Keys whose version a repair from {@code peer} replaced (the repaired entry won LWW). */
  public Counter antiEntropyKeysRepaired(String peer) {
    return Counter.builder("edgesync.replication.antientropy.keys.repaired")
        .description("Keys repaired by anti-entropy: received in a repair and newer than the stored version")
        .tag("peer", peer)
        .register(registry);
  }

  /** Rows sent to subscriber {@code peer} in answer to its repair requests. */
  public Counter antiEntropyEntriesSent(String peer) {
    return Counter.builder("edgesync.replication.antientropy.entries.sent")
        .description("State rows sent to a subscriber in answer to its anti-entropy requests")
        .tag("peer", peer)
        .register(registry);
  }

  /**
   * Registers the time (epoch milliseconds in {@code millis}, 0 for never) at which the digests of
   * this node and {@code peer} last differed while both were caught up, exported in seconds.
   */
  public void antiEntropyLastDivergence(String peer, AtomicLong millis) {
    io.micrometer.core.instrument.Gauge.builder(
            "edgesync.replication.antientropy.last.divergence.timestamp", millis, m -> m.get() / 1000.0)
        .description("When the state digests of this node and the peer last differed while both were caught up (0: never)")
        .baseUnit("seconds")
        .tag("peer", peer)
        .register(registry);
  }

  /** Removes the per-peer gauges of a removed peer. */
  public void removePeerGauges(String peer) {
    registry.getMeters().stream()
        .filter(m -> peer.equals(m.getId().getTag("peer")) && m.getId().getName().startsWith("edgesync.replication."))
        .filter(m -> m instanceof io.micrometer.core.instrument.Gauge)
        .toList()
        .forEach(registry::remove);
  }

  /**
   * Refused inbound streams by reason: wrong_cluster, protocol_version, protocol_error,
   * not_allowed, identity_mismatch, bad_token, missing_token, no_client_certificate,
   * untrusted_certificate, too_many_streams, too_many_streams_per_peer, hello_timeout,
   * malformed_message, message_too_large, ...
   */
  public Counter refused(String reason) {
    return Counter.builder("edgesync.replication.refused")
        .description("Inbound subscriptions refused, by reason")
        .tag("reason", reason)
        .register(registry);
  }

  /**
   * Inbound replication streams by the gRPC status they ended with ({@code OK}, {@code CANCELLED},
   * {@code UNAUTHENTICATED}, {@code RESOURCE_EXHAUSTED}, ...): garbage and refused streams show up
   * here even when they never got as far as a {@code Hello}.
   */
  public Counter inboundStreamsClosed(String status) {
    return Counter.builder("edgesync.replication.inbound.streams.closed")
        .description("Inbound replication streams by final status")
        .tag("status", status)
        .register(registry);
  }

  /**
   * Inbound connections that ended before their transport was ready: a failed TLS handshake,
   * bytes that are not HTTP/2, a handshake that took longer than {@code limits.handshakeTimeout}.
   */
  public Counter inboundConnectionsFailed() {
    return Counter.builder("edgesync.replication.inbound.connections.failed")
        .description("Inbound connections that ended before the TLS/HTTP2 handshake completed")
        .register(registry);
  }

  /** Re-reads of TLS or token files by what was read (identity, trust, token) and result (ok, failed). */
  public Counter securityReloads(String what, String result) {
    return Counter.builder("edgesync.security.reloads")
        .description("Reloads of certificate, CA and token files after they changed")
        .tag("what", what)
        .tag("result", result)
        .register(registry);
  }

  /** Registers a gauge computed on scrape. */
  public void gauge(String name, String description, Supplier<Number> value) {
    io.micrometer.core.instrument.Gauge.builder(name, value).description(description).register(registry);
  }
}
