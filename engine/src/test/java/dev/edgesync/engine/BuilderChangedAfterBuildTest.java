package dev.edgesync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.config.Defaults;
import dev.edgesync.engine.replication.PeerStatus;
import dev.edgesync.engine.storage.LimitExceededException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node reads its builder once: a setter called after {@code build()} changes neither the built
 * node's {@link NodeConfig} nor the running node. (The node used to keep the builder as its
 * configuration, so a later setter reached into a running node.)
 */
class BuilderChangedAfterBuildTest {
  @TempDir Path dir;

  @Test
  void aSetterCalledAfterBuildDoesNotChangeTheBuiltNode() {
    SyncNode.Builder builder =
        SyncNode.builder()
            .nodeId("a")
            .cluster("first")
            .dataDir(dir.resolve("a"))
            .listen("127.0.0.1:0")
            .peer("b", "127.0.0.1:1")
            .allowedPeers(List.of("b"))
            .maxValueBytes(32)
            .heartbeatInterval(Duration.ofSeconds(2))
            .heartbeatTimeout(Duration.ofSeconds(10));
    SyncNode built = builder.build();

    builder
        .cluster("second")
        .peer("c", "127.0.0.1:2")
        .allowedPeers(List.of("c"))
        .maxValueBytes(1024)
        .heartbeatInterval(Duration.ofSeconds(1));

    NodeConfig config = built.config();
    assertEquals("first", config.cluster());
    assertEquals(List.of(new PeerSpec("b", "127.0.0.1", 1)), config.peers());
    assertEquals(Set.of("b"), config.security().allowedPeers());
    assertEquals(32, config.maxValueBytes());
    assertEquals(Duration.ofSeconds(2), config.replicationSettings().heartbeatInterval());
    try (SyncNode node = built.start()) {
      assertEquals("first", node.status().cluster());
      LimitExceededException tooLarge =
          assertThrows(LimitExceededException.class, () -> node.put("k", "v".repeat(33)));
      assertEquals("limits.maxValueBytes", tooLarge.limitName());
      assertEquals(List.of("b"), node.status().peers().stream().map(PeerStatus::id).toList());
    }
    // The builder itself holds the new values and builds a node with them.
    assertEquals("second", builder.build().config().cluster());
  }

  @Test
  void anUnsetValueTakesItsDefault() {
    NodeConfig config = SyncNode.builder().nodeId("a").dataDir(dir).build().config();
    assertEquals(Defaults.CLUSTER, config.cluster());
    assertEquals(Defaults.LISTEN_PORT, config.listenPort());
    assertEquals(Defaults.MAX_VALUE_BYTES, config.maxValueBytes());
    assertEquals(Defaults.HEARTBEAT_TIMEOUT, config.heartbeatTimeout());
    assertEquals(Defaults.MAX_STREAMS_PER_PEER, config.security().maxStreamsPerPeer());
    assertEquals(Defaults.LISTENER_QUEUE_CAPACITY, config.listenerQueueCapacity());
  }
}
