package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.storage.Durability;
import dev.edgesync.engine.storage.WriteResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An empty node running with {@code -Xmx256m} catches up 200,000 entries from a peer: the
 * publisher streams under flow control in bounded batches, so memory stays bounded whatever the
 * backlog.
 */
class LargeCatchUpBoundedMemoryTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  static final int ENTRIES = 200_000;

  /** Fills {@code dataDir} as node {@code id} in this JVM (fast: buffered, pipelined writes). */
  static void preload(String id, Path dataDir, int entries) {
    byte[] filler = "x".repeat(90).getBytes(StandardCharsets.UTF_8);
    try (SyncNode node =
        SyncNode.builder()
            .nodeId(id)
            .cluster("it")
            .dataDir(dataDir)
            .listen("127.0.0.1:0")
            .durability(Durability.BUFFERED)
            .build()
            .start()) {
      List<CompletableFuture<WriteResult>> window = new ArrayList<>();
      for (int i = 0; i < entries; i++) {
        byte[] key = String.format("bulk/%07d", i).getBytes(StandardCharsets.UTF_8);
        byte[] value = new byte[filler.length + 10];
        System.arraycopy(String.format("%010d", i).getBytes(StandardCharsets.UTF_8), 0, value, 0, 10);
        System.arraycopy(filler, 0, value, 10, filler.length);
        window.add(node.putAsync(key, value));
        if (window.size() == 2000) {
          window.forEach(CompletableFuture::join);
          window.clear();
        }
      }
      window.forEach(CompletableFuture::join);
      assertEquals(entries, node.status().headSeq(), "preloaded head seq");
    }
  }

  @Test
  void emptyNodeWith256MbHeapCatchesUp200kEntries() {
    Cluster c = cleanup.newCluster("catch-up", false);
    NodeProcess src = c.add("src", s -> s.heapMb = 256);
    NodeProcess dst = c.add("dst", s -> s.heapMb = 256);
    preload("src", src.spec.dataDir, ENTRIES);
    // One-way: dst pulls from src. (Both ways would only add 200,000 duplicates going back.)
    c.link("dst", "src").startAll();

    // Writes on the source while the catch-up runs arrive too (the live tail after the backlog).
    AckedWrites acked = new AckedWrites();
    for (int i = 0; i < 50; i++) {
      acked.add(src.http().put("live/" + i, "during-catch-up-" + i));
    }

    // kill -9 in the middle of the catch-up: the restarted node resumes from its persisted
    // watermark rather than from 0 (committed batches are never asked for again).
    c.awaitStatus("dst", "a third of the way through the catch-up", Cluster.CONVERGENCE, st -> st.peer("src").watermark() >= ENTRIES / 3);
    dst.kill9();
    long resumeFrom = c.persistedWatermark("dst", "src");
    assertTrue(resumeFrom > 0, "dst persisted a watermark during the catch-up: " + resumeFrom);
    dst.start();

    c.awaitConverged();
    c.awaitWatermarkAtHead("dst", "src");
    long srcHead = src.http().status().headSeq();
    Status s = dst.http().status();
    Status.Peer p = s.peer("src");
    long received = p.entriesApplied() + p.duplicates() + p.conflicts();
    // Every seq after the persisted watermark comes once (src's seqs are contiguous: no key was
    // rewritten); only a reconnect during the resumed catch-up may send some again.
    String why = "after the restart dst resumes after its persisted watermark " + resumeFrom + " of src's " + srcHead + " seqs: " + s.json();
    if (p.reconnects() == 0) {
      assertEquals(srcHead - resumeFrom, received, why);
    } else {
      assertTrue(received >= srcHead - resumeFrom, why);
    }
    assertTrue(dst.isAlive(), "dst must still run");
    // (The start line of the log names -XX:+HeapDumpOnOutOfMemoryError: look for the error itself.)
    assertFalse(dst.log().contains("java.lang.OutOfMemoryError"), "dst ran out of memory; log " + dst.logFile());
    for (int i = 0; i < 50; i++) {
      assertEquals(java.util.Optional.of("during-catch-up-" + i), dst.http().get("live/" + i));
    }
  }
}
