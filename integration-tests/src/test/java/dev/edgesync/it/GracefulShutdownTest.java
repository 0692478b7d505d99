package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SIGTERM stops a node gracefully, exit code 0, in the situations where a shutdown is hardest:
 * clients writing at full speed, and a peer link that has gone silent with data queued for it.
 */
class GracefulShutdownTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void sigtermUnderWriteLoadExitsZeroAndKeepsEveryAcknowledgedWrite() throws Exception {
    Cluster c = cleanup.newCluster("sigterm-load", false);
    c.add("busy");
    c.add("peer");
    c.connect("busy", "peer").startAll();
    NodeProcess busy = c.node("busy");
    Map<String, String> acked = new ConcurrentHashMap<>();
    Set<String> unknown = ConcurrentHashMap.newKeySet();
    AtomicInteger count = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    int exit;
    try {
      Future<?>[] clients = new Future<?>[4];
      for (int t = 0; t < clients.length; t++) {
        int thread = t;
        clients[t] =
            pool.submit(
                () -> {
                  for (int i = 0; ; i++) {
                    String key = "load/" + thread + "/" + i;
                    unknown.add(key);
                    try {
                      busy.http().put(key, "v" + i);
                    } catch (UncheckedIOException | AssertionError e) {
                      return; // refused (503) or cut off by the shutdown
                    }
                    unknown.remove(key);
                    acked.put(key, "v" + i);
                    count.incrementAndGet();
                  }
                });
      }
      await("writes acknowledged").atMost(Cluster.CONVERGENCE).until(() -> count.get() >= 300);
      exit = busy.terminate();
      for (Future<?> f : clients) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(0, exit, "exit code of SIGTERM under write load; log " + busy.logFile());

    busy.start();
    Map<String, JsonNode> state = c.awaitConverged();
    for (Map.Entry<String, String> e : acked.entrySet()) {
      assertTrue(state.containsKey(e.getKey()), "acknowledged write " + e.getKey() + " lost by a graceful stop (" + acked.size() + " acknowledged)");
      assertEquals(e.getValue(), state.get(e.getKey()).path("value").asText());
    }
    for (String key : state.keySet()) {
      assertTrue(acked.containsKey(key) || unknown.contains(key), "key " + key + " was never written");
    }
  }

  @Test
  void sigtermWithBlackholedPeerExitsZero() {
    Cluster c = cleanup.newCluster("sigterm-blackhole", true);
    c.add("near");
    c.add("far");
    c.connect("near", "far").startAll();
    Data.bulk(c.node("far").http(), Data.keys("far/", 100, "f"), new AckedWrites());
    c.awaitConverged();
    c.setLink("near", "far", FaultProxy.Mode.BLACKHOLE);
    // Data queued for the silent subscriber, and a subscription that hears nothing.
    c.node("near").http().bulk(Data.keys("near/", 2000, "n"));
    NodeProcess near = c.node("near");
    assertEquals(0, near.terminate(), "exit code of SIGTERM while the peer link is blackholed; log " + near.logFile());
  }
}
