package dev.edgesync.engine.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.StoreOptions;
import dev.edgesync.engine.storage.VersionedStore;
import dev.edgesync.engine.storage.kv.MemoryKvStore;
import dev.edgesync.engine.transport.inmemory.Network;
import dev.edgesync.watermark.WatermarkStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A publisher's drain that dies of an {@link Error} (not a RuntimeException) must end the stream.
 * Before the fix the drain caught only RuntimeException: an Error left its work-in-progress
 * counter above 0, so no later commit started a drain, while the heartbeat timer kept the stream
 * alive. The subscriber stayed connected and heartbeating, was sent nothing, and never converged:
 * one way a chaos run can fail to converge with every node healthy (issue 12).
 */
class PublisherDrainErrorTest {
  private static final Duration CONVERGE = Duration.ofSeconds(30);

  @TempDir Path root;

  private final Network network = new Network();
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private GroupCommitStore pubStore;
  private WatermarkStore pubWatermarks;
  private ReplicationEngine pub;
  private TestNode sub;

  /** Thrown by the store wrapper; an Error as the JVM would throw (a StackOverflowError, say). */
  static final class InjectedError extends Error {
    InjectedError() {
      super("injected by PublisherDrainErrorTest");
    }
  }

  @AfterEach
  void tearDown() {
    if (sub != null) {
      sub.close();
    }
    if (pub != null) {
      pub.close();
    }
    if (pubStore != null) {
      pubStore.close();
    }
    if (pubWatermarks != null) {
      pubWatermarks.close();
    }
    scheduler.shutdownNow();
  }

  @Test
  void anErrorInTheDrainEndsTheStreamAndTheSubscriberStillConverges() {
    ReplicationSettings settings = settings("pub");
    pubStore = GroupCommitStore.open(new MemoryKvStore(), root.resolve("pub/db").toString(), StoreOptions.defaults("pub", Clock.systemUTC()), EngineMetrics.noRegistry());
    pubWatermarks = WatermarkStore.open(root.resolve("pub"), Clock.systemUTC());
    // The first two change-log reads after seq 0 (the live tail, once the subscriber is
    // connected) throw an Error; later reads go through.
    AtomicInteger errorsLeft = new AtomicInteger(2);
    AtomicInteger thrown = new AtomicInteger();
    VersionedStore failing =
        (VersionedStore)
            Proxy.newProxyInstance(
                VersionedStore.class.getClassLoader(),
                new Class<?>[] {VersionedStore.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("readChanges") && (long) args[0] > 0 && errorsLeft.getAndDecrement() > 0) {
                    thrown.incrementAndGet();
                    throw new InjectedError();
                  }
                  try {
                    return method.invoke(pubStore, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    pub =
        new ReplicationEngine(
            failing, pubWatermarks, settings, network.transport("pub"), EngineMetrics.noRegistry(), Clock.systemUTC(), scheduler, 1,
            ReplicationEngine.ioPool("pub"));
    pub.start();
    sub = new TestNode("sub", root.resolve("sub"), new MemoryKvStore(), Clock.systemUTC(), settings("sub"), network.transport("sub"), "127.0.0.1", scheduler, 2);
    sub.engine.start();
    sub.engine.addPeer(new dev.edgesync.discovery.PeerSpec("pub", "127.0.0.1", pub.boundPort()));

    put("k0", "before");
    await("sub holds the first write").dontCatchUncaughtExceptions().atMost(CONVERGE).until(() -> sub.value("k0").equals(Optional.of("before")));
    for (int i = 1; i <= 50; i++) {
      put("k" + i, "v" + i);
    }
    // Awaitility would fail on the Error seen by the I/O thread before the fix; what matters is
    // the symptom, a subscriber that never gets the writes.
    await("sub holds every write, after the drain failed " + thrown.get() + " times")
        .dontCatchUncaughtExceptions()
        .atMost(CONVERGE)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> sub.store.headSeq() == 51 && pubStore.digest().equals(sub.store.digest()));
    assertEquals(2, thrown.get(), "test premise: the drain hit the injected Error twice");
    for (int i = 1; i <= 50; i++) {
      assertEquals(Optional.of("v" + i), sub.value("k" + i));
    }
  }

  private void put(String key, String value) {
    pubStore.submitLocal(key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)).join();
  }

  private static ReplicationSettings settings(String id) {
    return ReplicationSettings.defaults(id, "test")
        .withListen("127.0.0.1", 0)
        .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(2))
        .withReconnect(Duration.ofMillis(20), Duration.ofMillis(200))
        // The subscriber's stall detector would reopen a silent stream after a few heartbeat
        // timeouts and hide the publisher's bug: this test is about the publisher alone.
        .withStallTimeout(Duration.ofHours(1));
  }
}
