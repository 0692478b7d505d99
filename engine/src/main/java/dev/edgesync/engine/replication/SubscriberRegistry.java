package dev.edgesync.engine.replication;

import dev.edgesync.engine.replication.core.Failure;
import dev.edgesync.engine.replication.core.SubscriberStats;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.proto.Refusal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * The subscribers this node streams to: every open {@link PublisherFeed}, the newest feed of each
 * subscriber (an older one is superseded), the counters of each distinct subscriber (at most
 * {@link #MAX_SUBSCRIBERS}), and where their acks go.
 *
 * <p>Thread safety: all methods may be called from any thread; none is called under a feed's
 * lock that it does not own (superseding runs on the I/O executor).
 */
final class SubscriberRegistry implements PublisherFeed.Registry {
  /** Most distinct subscribers tracked ({@code replication.maxSubscribers}). */
  static final int MAX_SUBSCRIBERS = 4096;

  private final Shared shared;
  private final AckWaiters acks;
  private final Set<PublisherFeed> feeds = ConcurrentHashMap.newKeySet();
  private final Map<String, PublisherFeed> activeFeeds = new ConcurrentHashMap<>();
  private final Map<String, SubscriberStats> subscribers = new ConcurrentHashMap<>();

  SubscriberRegistry(Shared shared, AckWaiters acks) {
    this.shared = shared;
    this.acks = acks;
  }

  /** A stream was accepted; it is tracked until it {@link #ended ends}. */
  void opened(PublisherFeed feed) {
    feeds.add(feed);
  }

  /** The feeds open now. */
  List<PublisherFeed> openFeeds() {
    return List.copyOf(feeds);
  }

  /** Entries streamed to {@code subscriberId} since start. */
  long entriesSent(String subscriberId) {
    SubscriberStats s = subscribers.get(subscriberId);
    return s == null ? 0 : s.entriesSent.get();
  }

  /** Every subscriber seen since start (at most {@link #MAX_SUBSCRIBERS}), sorted by id. */
  List<SubscriberStatus> statuses() {
    List<SubscriberStatus> out = new java.util.ArrayList<>();
    for (Map.Entry<String, SubscriberStats> e : new java.util.TreeMap<>(subscribers).entrySet()) {
      PublisherFeed open = activeFeeds.get(e.getKey());
      out.add(
          new SubscriberStatus(
              e.getKey(),
              open != null,
              acks.acked(e.getKey()),
              e.getValue().entriesSent.get(),
              open == null ? 0 : open.protocolVersion()));
    }
    return out;
  }

  @Override
  public Admission accepted(PublisherFeed feed) {
    String id = feed.subscriberId();
    if (subscribers.size() >= MAX_SUBSCRIBERS && !subscribers.containsKey(id)) {
      return new Admission(
          null,
          new Failure(
              "too_many_subscribers",
              Refusal.Code.NOT_ALLOWED,
              StreamStatus.Code.RESOURCE_EXHAUSTED,
              "node '" + shared.nodeId() + "' already tracks " + MAX_SUBSCRIBERS
                  + " distinct subscribers (replication.maxSubscribers); refusing '" + id + "'"));
    }
    SubscriberStats stats = subscribers.computeIfAbsent(id, k -> new SubscriberStats(shared.metrics().entriesSent(k)));
    PublisherFeed previous = activeFeeds.put(id, feed);
    if (previous != null && previous != feed) {
      // Not under the new feed's lock: the old feed takes its own lock to close.
      try {
        shared.io().execute(previous::supersede);
      } catch (RejectedExecutionException e) {
        // Closing: close() shuts every feed down anyway.
      }
    }
    return new Admission(stats, null);
  }

  @Override
  public void ended(PublisherFeed feed) {
    feeds.remove(feed);
    String id = feed.subscriberId();
    if (id != null) {
      activeFeeds.remove(id, feed);
    }
  }

  @Override
  public void acked(String subscriberId, long seq) {
    acks.onAck(subscriberId, seq);
  }
}
