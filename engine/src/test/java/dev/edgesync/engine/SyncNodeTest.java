package dev.edgesync.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.engine.storage.Durability;
import dev.edgesync.engine.storage.LimitExceededException;
import dev.edgesync.engine.storage.NodeIdMismatchException;
import dev.edgesync.engine.storage.WriteResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedding API on one node, over LevelDB in a temp dir; replication has its own suites. */
class SyncNodeTest {
  @TempDir Path dir;

  private SyncNode.Builder builder(String id) {
    return SyncNode.builder().nodeId(id).cluster("test").dataDir(dir.resolve(id)).listen("127.0.0.1:0");
  }

  @Test
  void aFailedStartLeavesNoNewDatabaseBehindAndKeepsAnExistingOne() throws Exception {
    try (SyncNode first = builder("a").build().start()) {
      String taken = "127.0.0.1:" + first.port();
      // A new node on a taken port: nothing of it stays on disk.
      RuntimeException e = assertThrows(RuntimeException.class, () -> builder("b").listen(taken).build().start());
      assertTrue(e.getMessage().contains("cannot listen"), e.getMessage());
      assertFalse(java.nio.file.Files.exists(dir.resolve("b")), "no data dir, database or watermarks left for b");
      // An existing node on a taken port: its data stays.
      try (SyncNode c = builder("c").build().start()) {
        c.put("kept", "yes");
      }
      assertThrows(RuntimeException.class, () -> builder("c").listen(taken).build().start());
      try (SyncNode c = builder("c").build().start()) {
        assertEquals(java.util.Optional.of("yes"), c.get("kept"));
      }
    }
  }

  @Test
  void aLinkErrorIsOneLineAndMarkedResolvedOnceThePeerIsBack() {
    int port;
    try (SyncNode probe = builder("b").build().start()) {
      port = probe.port();
    }
    try (SyncNode a = builder("a").peer("b", "127.0.0.1:" + port).build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> a.status().peers().get(0).lastError() != null);
      var down = a.status().peers().get(0);
      assertFalse(down.lastError().contains("\n"), "one line: " + down.lastError());
      assertFalse(down.lastErrorResolved(), "the peer is still down");
      try (SyncNode b = builder("b").listen("127.0.0.1:" + port).build().start()) {
        await().atMost(Duration.ofSeconds(30)).until(() -> a.status().peers().get(0).connected());
        var back = a.status().peers().get(0);
        assertTrue(back.lastErrorResolved(), "connected since the error: " + back);
        assertTrue(back.lastError() != null, "the error stays as history");
      }
    }
  }

  @Test
  void putGetDeleteScan() {
    try (SyncNode node = builder("a").build().start()) {
      WriteResult w1 = node.put("fruit/apple", "red");
      WriteResult w2 = node.put("fruit/banana", "yellow");
      node.put("veg/carrot", "orange");
      assertTrue(w2.seq() > w1.seq());
      assertEquals("a", w1.version().origin());
      assertEquals("red", node.get("fruit/apple").orElseThrow());

      node.delete("fruit/apple");
      assertTrue(node.get("fruit/apple").isEmpty());
      assertTrue(node.getEntry("fruit/apple".getBytes(StandardCharsets.UTF_8)).orElseThrow().tombstone());

      try (Stream<KeyValue> fruit = node.scan("fruit/")) {
        assertEquals(List.of("fruit/banana"), fruit.map(KeyValue::keyUtf8).toList());
      }
      assertTrue(node.verifyDigest());
    }
  }

  @Test
  void scanPagesStrictlyAfterTheGivenKey() {
    try (SyncNode node = builder("a").durability(Durability.BUFFERED).build().start()) {
      for (int i = 0; i < 25; i++) {
        node.put(String.format("p/%03d", i), "v" + i);
      }
      node.put("q/after-the-prefix", "x");
      List<String> pages = new ArrayList<>();
      byte[] after = null;
      while (true) {
        List<KeyValue> page;
        try (Stream<KeyValue> s = node.scan("p/".getBytes(StandardCharsets.UTF_8), after)) {
          page = s.limit(10).toList();
        }
        if (page.isEmpty()) {
          break;
        }
        page.forEach(kv -> pages.add(kv.keyUtf8()));
        after = page.get(page.size() - 1).key();
      }
      assertEquals(25, pages.size());
      assertEquals("p/000", pages.get(0));
      assertEquals("p/024", pages.get(24));
      assertEquals(pages.stream().distinct().count(), pages.size());
      // A start key before the prefix starts at the prefix.
      try (Stream<KeyValue> s = node.scan("p/".getBytes(StandardCharsets.UTF_8), "a".getBytes(StandardCharsets.UTF_8))) {
        assertEquals("p/000", s.findFirst().orElseThrow().keyUtf8());
      }
    }
  }

  @Test
  void restartKeepsEveryAcknowledgedWriteAndContinuesSeqs() {
    String digest;
    long head;
    try (SyncNode node = builder("a").build().start()) {
      for (int i = 0; i < 500; i++) {
        node.put("k" + i, "v" + i);
      }
      node.delete("k7");
      digest = node.digest();
      head = node.status().headSeq();
    }
    try (SyncNode node = builder("a").build().start()) {
      assertEquals(digest, node.digest());
      assertEquals(head, node.status().headSeq());
      for (int i = 0; i < 500; i++) {
        if (i != 7) {
          assertEquals("v" + i, node.get("k" + i).orElseThrow());
        }
      }
      assertTrue(node.get("k7").isEmpty());
      assertEquals(head + 1, node.put("next", "x").seq());
      assertTrue(node.verifyDigest());
    }
  }

  @Test
  void dataDirOfAnotherNodeIsRefusedAndUntouched() {
    String digest;
    try (SyncNode node = builder("a").build().start()) {
      node.put("k", "v");
      digest = node.digest();
    }
    SyncNode impostor =
        SyncNode.builder().nodeId("b").cluster("test").dataDir(dir.resolve("a")).listen("127.0.0.1:0").build();
    NodeIdMismatchException e = assertThrows(NodeIdMismatchException.class, impostor::start);
    assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("'b'"), e.getMessage());
    try (SyncNode node = builder("a").build().start()) {
      assertEquals(digest, node.digest());
    }
  }

  @Test
  void oversizeKeysAndValuesAreRefusedNamingTheLimit() {
    try (SyncNode node = builder("a").maxKeyBytes(16).maxValueBytes(32).build().start()) {
      LimitExceededException key =
          assertThrows(LimitExceededException.class, () -> node.put("k".repeat(17), "v"));
      assertEquals("limits.maxKeyBytes", key.limitName());
      LimitExceededException value =
          assertThrows(LimitExceededException.class, () -> node.put("k", "v".repeat(33)));
      assertEquals("limits.maxValueBytes", value.limitName());
      assertEquals(0, node.status().headSeq());
      assertTrue(node.get("k").isEmpty());
    }
  }

  @Test
  void builderErrorsNameTheField() {
    ConfigException badId = assertThrows(ConfigException.class, () -> SyncNode.builder().nodeId("a b"));
    assertTrue(badId.getMessage().contains("nodeId"), badId.getMessage());
    ConfigException noDir = assertThrows(ConfigException.class, () -> SyncNode.builder().nodeId("a").build());
    assertTrue(noDir.getMessage().contains("dataDir"), noDir.getMessage());
    ConfigException badListen =
        assertThrows(ConfigException.class, () -> SyncNode.builder().listen("localhost"));
    assertTrue(badListen.getMessage().contains("listen"), badListen.getMessage());
    ConfigException heartbeat =
        assertThrows(
            ConfigException.class,
            () ->
                builder("a")
                    .heartbeatInterval(Duration.ofSeconds(2))
                    .heartbeatTimeout(Duration.ofSeconds(3))
                    .build());
    assertTrue(heartbeat.getMessage().contains("heartbeatTimeout"), heartbeat.getMessage());
    ConfigException self = assertThrows(ConfigException.class, () -> builder("a").peer("a", "127.0.0.1:1").build());
    assertTrue(self.getMessage().contains("peers"), self.getMessage());
  }

  @Test
  void subscribersSeeCommittedLocalChangesInOrderUnderTheirPrefix() {
    try (SyncNode node = builder("a").build().start()) {
      List<String> seen = Collections.synchronizedList(new ArrayList<>());
      Subscription sub =
          node.subscribe("orders/", c -> seen.add(c.keyUtf8() + "=" + (c.isDelete() ? "<deleted>" : c.valueUtf8())));
      node.put("orders/1", "new");
      node.put("other", "ignored");
      node.put("orders/1", "paid");
      node.delete("orders/1");
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 3);
      assertEquals(List.of("orders/1=new", "orders/1=paid", "orders/1=<deleted>"), List.copyOf(seen));
      sub.close();
      assertFalse(sub.isActive());
    }
  }

  @Test
  void aSlowListenerIsUnsubscribedNotAllowedToStallWrites() throws Exception {
    try (SyncNode node = builder("a").listenerQueueCapacity(4).durability(Durability.BUFFERED).build().start()) {
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.atomic.AtomicBoolean overflowed = new java.util.concurrent.atomic.AtomicBoolean();
      Subscription sub =
          node.subscribe(
              "",
              new ChangeListener() {
                @Override
                public void onChange(Change change) {
                  try {
                    release.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }

                @Override
                public void onOverflow() {
                  overflowed.set(true);
                }
              });
      for (int i = 0; i < 50; i++) {
        node.put("k" + i, "v"); // writes keep committing while the listener is stuck
      }
      release.countDown();
      await().atMost(Duration.ofSeconds(10)).untilTrue(overflowed);
      assertFalse(sub.isActive());
      assertEquals(50, node.status().headSeq());
    }
  }

  @Test
  void binaryKeysAndValuesRoundTrip() {
    try (SyncNode node = builder("a").build().start()) {
      byte[] key = {0, (byte) 0xff, 1, (byte) 0x80};
      byte[] value = {(byte) 0xfe, 0, 0, 7};
      node.put(key, value);
      assertArrayEquals(value, node.get(key).orElseThrow().value());
      try (Stream<KeyValue> all = node.scan(new byte[0])) {
        assertEquals(1, all.collect(Collectors.toList()).size());
      }
    }
  }

  @Test
  void operationsOnAClosedNodeFailClearly() {
    SyncNode node = builder("a").build().start();
    node.close();
    node.close(); // idempotent
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> node.put("k", "v"));
    assertTrue(e.getMessage().contains("CLOSED"), e.getMessage());
  }

  @Test
  void aListenerSeesWhenAWriteMadeHereIsOvertakenByAnotherSites() {
    try (SyncNode a = builder("a").build().start();
        SyncNode b = builder("b").build().start()) {
      List<Change> seen = Collections.synchronizedList(new ArrayList<>());
      a.subscribe("k", seen::add);
      a.put("k", "a1");
      a.put("k", "a2");
      // b writes the key later (its clock is at or past a's), then a pulls from b: b's version wins.
      await().atMost(Duration.ofSeconds(5)).until(() -> b.put("k", "b1").version().isAfter(a.getEntry("k".getBytes(StandardCharsets.UTF_8)).orElseThrow().version()));
      a.addPeer(dev.edgesync.discovery.PeerSpec.of("b", "127.0.0.1:" + b.status().listenPort()));
      await().atMost(Duration.ofSeconds(30)).until(() -> a.get("k").equals(java.util.Optional.of("b1")));
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 3);
      Change first = seen.get(0);
      Change second = seen.get(1);
      Change remote = seen.get(2);
      assertEquals(null, first.replaced(), "the first write replaced nothing");
      assertEquals(first.version(), second.replaced(), "a local overwrite names the version it replaced");
      assertFalse(second.supersedesWriteOf("a"), "a local overwrite is not another site's");
      assertEquals("b", remote.fromPeer());
      assertEquals(second.version(), remote.replaced());
      assertTrue(remote.supersedesWriteOf("a"), "b's write overtook the one made on a");
      assertFalse(remote.supersedesWriteOf("b"));
    }
  }
}
