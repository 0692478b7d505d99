package dev.edgesync.bench.micro;

import dev.edgesync.engine.metrics.EngineMetrics;
import dev.edgesync.engine.storage.GroupCommitStore;
import dev.edgesync.engine.storage.StoreOptions;
import dev.edgesync.engine.storage.WriteResult;
import dev.edgesync.engine.storage.kv.LevelDbKvStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/** Opening, filling and removing the stores the storage benchmarks run on. */
final class Stores {
  private Stores() {}

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A node's store on LevelDB in {@code dir}, with the node's default limits. */
  static GroupCommitStore open(Path dir, boolean sync) {
    StoreOptions options =
        new StoreOptions("bench", sync, 1024, 1024 * 1024, 10_000, 4096, 100_000, InstantSource.system(),
            Duration.ofSeconds(60), null);
    return GroupCommitStore.open(LevelDbKvStore.open(dir.resolve("db")), dir.toString(), options, EngineMetrics.noRegistry());
  }

  /** Writes {@code n} local entries under {@code prefix} through a window of pipelined writes. */
  static void fill(GroupCommitStore store, String prefix, int n, byte[] value) {
    ArrayDeque<CompletableFuture<WriteResult>> window = new ArrayDeque<>();
    for (int i = 0; i < n; i++) {
      if (window.size() == 4000) {
        window.poll().join();
      }
      window.add(store.submitLocal(dev.edgesync.bench.load.Workload.key(prefix, i), value));
    }
    window.forEach(CompletableFuture::join);
  }

  static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
