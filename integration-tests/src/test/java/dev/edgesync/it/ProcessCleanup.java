package dev.edgesync.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Hands out clusters and working directories and makes sure every process and proxy is gone
 * after the test (clusters made in a test) or after the class (clusters made in {@code
 * @BeforeAll}), whether the test passed or not. On a failure it prints where each node's log is
 * and its last lines.
 *
 * <p>Register it as a {@code static} field with {@code @RegisterExtension}. Working directories
 * live under {@code target/it-work/<test class>/} and are kept after the run, so the log paths a
 * failure prints still exist; the next run of the class deletes them.
 */
final class ProcessCleanup implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback, TestWatcher {
  private final List<AutoCloseable> perClass = new ArrayList<>();
  private final List<AutoCloseable> perTest = new ArrayList<>();
  private final List<Cluster> clusters = new ArrayList<>();
  private Path classDir;
  private boolean inTest;
  private int counter;

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    classDir = Path.of(System.getProperty("edgesync.it.work", "target/it-work")).toAbsolutePath().resolve(context.getRequiredTestClass().getSimpleName());
    deleteTree(classDir);
    Files.createDirectories(classDir);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    inTest = true;
  }

  /** A fresh directory for this test (or class) named after {@code name}. */
  Path newDir(String name) {
    Path d = classDir.resolve(name + "-" + ++counter);
    try {
      Files.createDirectories(d);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return d;
  }

  /** A cluster closed after this test, or after the class when made in {@code @BeforeAll}. */
  Cluster newCluster(String name, boolean viaProxies) {
    Cluster c = new Cluster(newDir(name), viaProxies);
    clusters.add(c);
    track(c);
    return c;
  }

  /** Anything else to close at the same point (a proxy, a fake peer, a stray process). */
  <T extends AutoCloseable> T track(T resource) {
    (inTest ? perTest : perClass).add(resource);
    return resource;
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    StringBuilder b = new StringBuilder("\n==== " + context.getDisplayName() + " failed; node logs:\n");
    for (Cluster c : clusters) {
      for (NodeProcess n : c.nodes()) {
        b.append("---- ").append(n).append('\n').append(n.tail(30)).append('\n');
      }
    }
    System.err.println(b);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    closeAll(perTest);
    inTest = false;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    closeAll(perClass);
  }

  private void closeAll(List<AutoCloseable> resources) {
    // Newest first: proxies and fake peers made for one test go before the nodes that used them.
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        System.err.println("cleanup failed for " + resources.get(i) + ": " + e);
      }
    }
    resources.clear();
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
