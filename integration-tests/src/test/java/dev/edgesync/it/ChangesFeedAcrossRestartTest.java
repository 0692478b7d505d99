package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.edgesync.node.client.EventStreamReader;
import dev.edgesync.testing.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The changes feed with real processes: a client follows {@code feed=sse} on node B while node A
 * writes 100,000 keys and B is killed with {@code kill -9} and restarted halfway. The client
 * reconnects with Last-Event-ID and ends up having seen every key's final version on B, in B's seq
 * order. A second client that reads nothing is cut off, and B (64 MiB heap) neither buffers for it
 * nor runs out of memory.
 */
class ChangesFeedAcrossRestartTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  static final int KEYS = 100_000;
  static final int BULK = 10_000;
  static final ObjectMapper JSON = new ObjectMapper();

  /** What the following client saw: each key's last version, and the order checks. */
  static final class Follower implements Runnable {
    final String base;
    final Map<String, String> versions = new ConcurrentHashMap<>();
    final AtomicLong lastSeq = new AtomicLong();
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger events = new AtomicInteger();
    final AtomicReference<String> failure = new AtomicReference<>();
    final AtomicBoolean stop = new AtomicBoolean();
    volatile EventStreamReader current;

    Follower(String base) {
      this.base = base;
    }

    @Override
    public void run() {
      dev.edgesync.node.client.NodeClient c =
          new dev.edgesync.node.client.NodeClient(URI.create(base), Duration.ofSeconds(10));
      String lastId = null;
      while (!stop.get()) {
        try (EventStreamReader r = c.openChanges("", 0, lastId)) {
          current = r;
          connections.incrementAndGet();
          EventStreamReader.Event e;
          while (!stop.get() && (e = r.next()) != null) {
            if (!e.name().equals("change")) {
              if (e.name().equals("reset")) {
                failure.compareAndSet(null, "the node reset the feed: " + e.data());
              }
              continue;
            }
            JsonNode d = JSON.readTree(e.data());
            long seq = d.get("seq").asLong();
            if (seq <= lastSeq.get()) {
              failure.compareAndSet(null, "seq " + seq + " after " + lastSeq.get() + " (connection " + connections.get() + ")");
            }
            lastSeq.set(seq);
            versions.put(d.get("key").asText(), d.get("version").asText());
            events.incrementAndGet();
            lastId = e.id();
          }
          if (r.lastEventId() != null) {
            lastId = r.lastEventId();
          }
        } catch (IOException | RuntimeException e) {
          // The node is down or restarting: connect again (below).
        }
        if (!stop.get()) {
          // Reconnect when the node answers again.
          await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> stop.get() || c.getPath("/health").status() == 200);
        }
      }
    }
  }

  @Test
  void aFollowerOfBSeesEveryFinalVersionAcrossBsRestartAndAStuckClientIsCutOff() throws Exception {
    Cluster c = cleanup.newCluster("changes-feed", false);
    NodeProcess a = c.add("a");
    NodeProcess b =
        c.add(
            "b",
            s -> {
              s.heapMb = 64;
              s.limits.put("httpFeedWriteTimeout", "2s");
            });
    c.link("b", "a").startAll();
    String bBase = "http://" + b.spec.httpAddress();

    Follower follower = new Follower(bBase);
    Thread t = new Thread(follower, "feed-follower");
    t.setDaemon(true);
    t.start();

    long t0 = System.nanoTime();
    java.util.function.Consumer<String> mark = what -> System.out.printf("ChangesFeedAcrossRestartTest: %s at %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
    String filler = "x".repeat(80);
    for (int round = 0; round < KEYS / BULK; round++) {
      Map<String, String> entries = new LinkedHashMap<>();
      for (int i = 0; i < BULK; i++) {
        int k = round * BULK + i;
        entries.put(String.format("feed/%06d", k), k + "-" + filler);
      }
      a.http().bulk(entries);
      // Some keys written twice: their first version is compacted out of the log.
      a.http().put(String.format("feed/%06d", round * BULK), "rewritten-" + round);
      if (round == KEYS / BULK / 2 - 1) {
        c.awaitStatus("b", "half the keys applied", Cluster.CONVERGENCE, st -> st.headSeq() >= KEYS / 4);
        mark.accept("b half-way");
        b.kill9();
        b.start();
        mark.accept("b restarted");
      }
    }

    mark.accept("all written to a");
    // A client that stops reading (4 KiB receive buffer) on the restarted B: cut off, not buffered.
    double cutOffsBefore = cutOffs(b);
    try (Socket stuck = new Socket()) {
      stuck.setReceiveBufferSize(4096);
      stuck.connect(new InetSocketAddress(b.spec.ip, b.spec.httpPort));
      stuck.getOutputStream().write("GET /changes?feed=sse&since=0 HTTP/1.1\r\nHost: b\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

      Map<String, JsonNode> state = c.awaitConverged(Duration.ofSeconds(120));
      assertEquals(KEYS, state.size(), "every key on both nodes");
      mark.accept("converged");
      Map<String, String> finalVersions = new HashMap<>();
      state.forEach((k, item) -> finalVersions.put(k, item.get("version").asText()));
      await("the follower saw every key's final version on b")
          .atMost(Duration.ofSeconds(120))
          .until(() -> follower.failure.get() != null || follower.versions.equals(finalVersions));
      assertEquals(null, follower.failure.get());
      mark.accept("follower done");
      assertTrue(follower.connections.get() >= 2, "the follower reconnected after the restart: " + follower.connections.get());

      await("the stuck client cut off").atMost(Duration.ofSeconds(60)).until(() -> cutOffs(b) > cutOffsBefore);
      mark.accept("stuck client cut");
      long read = Sockets.readUntilClosed(stuck, 30_000);
      assertTrue(read > 0, "the stuck client was sent something before the cut");
      mark.accept("stuck client drained (" + read + " bytes)");
    } finally {
      follower.stop.set(true);
      EventStreamReader r = follower.current;
      if (r != null) {
        r.close();
      }
    }
    mark.accept("follower stopped");
    assertTrue(b.isAlive(), "b still runs");
    assertFalse(b.log().contains("java.lang.OutOfMemoryError"), "b ran out of memory; log " + b.logFile());
    System.out.println(
        "ChangesFeedAcrossRestartTest: follower saw " + follower.events.get() + " events over " + follower.connections.get()
            + " connections; b's heap used now " + heapUsed(b) + " bytes of 64 MiB");
  }

  static double cutOffs(NodeProcess n) {
    return PrometheusText.value(n.http().metrics(), "edgesync_http_feed_cutoffs_total");
  }

  static long heapUsed(NodeProcess n) {
    return (long) PrometheusText.value(n.http().metrics(), "jvm_memory_used_bytes", "area=heap");
  }
}
