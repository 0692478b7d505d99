package dev.edgesync.bench.load;

import dev.edgesync.engine.NodeStatus;
import dev.edgesync.engine.SyncNode;
import dev.edgesync.engine.storage.Durability;
import dev.edgesync.engine.storage.WriteResult;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Fills a node's data dir in this JVM through the embedding API, before the node program starts
 * on it: buffered durability and a window of pipelined writes, the fastest honest way to give a
 * node N entries of its own (they get seqs, versions and digest contributions exactly as in
 * production). Not timed as part of any figure.
 */
final class Preload {
  /** Writes in flight; below the default write queue depth (10,000). */
  static final int WINDOW = 4000;

  private Preload() {}

  record Result(long entries, double seconds, long headSeq, String digest) {}

  static Result run(String nodeId, String cluster, Path dataDir, long entries, Workload workload) {
    long start = System.nanoTime();
    try (SyncNode node =
        SyncNode.builder()
            .nodeId(nodeId)
            .cluster(cluster)
            .dataDir(dataDir)
            .listen("127.0.0.1:0")
            .durability(Durability.BUFFERED)
            .batchMaxBytes(2 * 1024 * 1024)
            .build()
            .start()) {
      ArrayDeque<CompletableFuture<WriteResult>> window = new ArrayDeque<>(WINDOW);
      for (long i = 0; i < entries; i++) {
        if (window.size() == WINDOW) {
          window.poll().join();
        }
        window.add(node.putAsync(Workload.key("k", i), workload.value(i)));
      }
      window.forEach(CompletableFuture::join);
      NodeStatus s = node.status();
      if (s.headSeq() != entries) {
        throw new IllegalStateException("preload of " + dataDir + " ended at head seq " + s.headSeq() + ", expected " + entries);
      }
      return new Result(entries, (System.nanoTime() - start) / 1e9, s.headSeq(), s.digest());
    }
  }
}
