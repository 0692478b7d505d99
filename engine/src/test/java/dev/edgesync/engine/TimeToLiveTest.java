package dev.edgesync.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.storage.StoreFixtures.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Expiring keys through the node's API: reads, scans, listeners, and the expiry travelling with the version. */
class TimeToLiveTest {
  @TempDir Path dir;

  // Every node reads the same hand-moved wall clock: expiry is judged against it, nothing sleeps.
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T12:00:00Z").toEpochMilli());

  private SyncNode node(String id) {
    return SyncNode.builder()
        .nodeId(id)
        .cluster("test")
        .dataDir(dir.resolve(id))
        .listen("127.0.0.1:0")
        .clock(clock)
        .build()
        .start();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void readsScansAndListenersAgreeWhenAValueExpires() {
    try (SyncNode n = node("a")) {
      List<Change> seen = Collections.synchronizedList(new ArrayList<>());
      n.subscribe("s/", seen::add);
      n.put("s/1", "cart", Duration.ofSeconds(10));
      n.put("s/2", "kept");
      KeyValue live = n.get(b("s/1")).orElseThrow();
      assertEquals(Optional.of(Instant.ofEpochMilli(clock.millis() + 10_000)), live.expiresAt());
      assertEquals(Optional.empty(), n.get(b("s/2")).orElseThrow().expiresAt());
      try (Stream<KeyValue> all = n.scan("s/")) {
        assertEquals(2, all.count());
      }

      clock.advance(Duration.ofSeconds(11));
      assertEquals(Optional.empty(), n.get("s/1"), "expired: absent without a new write");
      try (Stream<KeyValue> all = n.scan("s/")) {
        assertEquals(List.of("s/2"), all.map(KeyValue::keyUtf8).toList());
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 3);
      Change expiry = seen.get(2);
      assertTrue(expiry.isExpiry());
      assertFalse(expiry.isDelete());
      assertEquals("s/1", expiry.keyUtf8());
      assertEquals(live.version(), expiry.version());
      assertEquals(live.expiresHlc(), seen.get(0).expiresHlc(), "the put told its expiry");

      // The key can be written again, and a putIfAbsent sees the expired value as absent.
      n.putIfAbsent(b("s/1"), b("new cart"));
      assertEquals(Optional.of("new cart"), n.get("s/1"));
    }
  }

  @Test
  void aTimeToLiveMustBePositive() {
    try (SyncNode n = node("a")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> n.put("k", "v", Duration.ZERO));
      assertTrue(e.getMessage().contains("1 ms to 100 years"), e.getMessage());
      // Under a millisecond would round to 0 (never expire); beyond toMillis() would overflow.
      assertThrows(IllegalArgumentException.class, () -> n.put("k", "v", Duration.ofNanos(500_000)));
      assertThrows(IllegalArgumentException.class, () -> n.put("k", "v", Duration.ofDays(365L * 200)));
      assertThrows(IllegalArgumentException.class, () -> n.put("k", "v", Duration.ofSeconds(Long.MAX_VALUE)));
    }
  }

  @Test
  void theExpiryTravelsWithTheVersionAndEveryNodeHidesTheKey() {
    try (SyncNode a = node("a");
        SyncNode b = node("b")) {
      a.addPeer(PeerSpec.of("b", "127.0.0.1:" + b.status().listenPort()));
      b.addPeer(PeerSpec.of("a", "127.0.0.1:" + a.status().listenPort()));
      a.put("order/1", "open", Duration.ofMinutes(5));
      b.put("order/2", "open", Duration.ofMinutes(10));
      await().atMost(Duration.ofSeconds(30)).until(() -> b.get("order/1").isPresent() && a.get("order/2").isPresent());
      assertEquals(
          a.get(b("order/1")).orElseThrow().expiresHlc(),
          b.get(b("order/1")).orElseThrow().expiresHlc(),
          "the same expiry on both nodes");
      await().atMost(Duration.ofSeconds(10)).until(() -> a.digest().equals(b.digest()));

      clock.advance(Duration.ofMinutes(6));
      assertEquals(Optional.empty(), a.get("order/1"));
      assertEquals(Optional.empty(), b.get("order/1"));
      assertEquals(Optional.of("open"), a.get("order/2"));
      clock.advance(Duration.ofMinutes(5));
      assertEquals(Optional.empty(), a.get("order/2"));
      assertEquals(Optional.empty(), b.get("order/2"));
      assertEquals(a.digest(), b.digest(), "expiry needs no write: the digests stay equal");
    }
  }
}
