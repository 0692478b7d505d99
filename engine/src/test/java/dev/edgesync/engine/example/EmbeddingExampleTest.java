package dev.edgesync.engine.example;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.edgesync.engine.Acks;
import dev.edgesync.engine.SyncNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding example of the README, run as a test so that it keeps compiling and working: two
 * sites in one JVM (in production each is its own app), over real gRPC on loopback.
 */
class EmbeddingExampleTest {
  @TempDir Path dir;

  @Test
  void twoEmbeddedSitesSync() {
    // --- README example starts here ---
    SyncNode shopA =
        SyncNode.builder()
            .nodeId("shop-a")
            .cluster("shops")
            .dataDir(dir.resolve("shop-a"))
            .listen("127.0.0.1:0") // port 0: any free port
            .build()
            .start();
    SyncNode shopB =
        SyncNode.builder()
            .nodeId("shop-b")
            .cluster("shops")
            .dataDir(dir.resolve("shop-b"))
            .listen("127.0.0.1:0")
            .peer("shop-a", "127.0.0.1:" + shopA.port())
            .build()
            .start();
    shopA.addPeer(dev.edgesync.discovery.PeerSpec.of("shop-b", "127.0.0.1:" + shopB.port()));

    List<String> seenOnB = new CopyOnWriteArrayList<>();
    shopB.subscribe("price/", change -> seenOnB.add(change.keyUtf8() + "=" + change.valueUtf8()));

    shopA.put("price/sku-42", "9.90"); // returns once committed (fsynced) on shop A
    shopA.put("price/sku-43", "4.50", Acks.of(1, Duration.ofSeconds(5))); // ... and on one peer

    await().atMost(Duration.ofSeconds(30)).until(() -> shopB.get("price/sku-42").isPresent());
    System.out.println(shopB.get("price/sku-42").orElseThrow()); // 9.90
    System.out.println(shopB.status().peers()); // connected, watermark, lag, ...
    shopB.close();
    shopA.close();
    // --- README example ends here ---

    assertEquals(List.of("price/sku-42=9.90", "price/sku-43=4.50"), seenOnB.stream().sorted().toList());
  }
}
