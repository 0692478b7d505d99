package dev.edgesync.bench.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The temporary directory of one run (data dirs, node logs, a private copy of the node jar) and
 * every process started in it. {@link #close()} kills what still runs and deletes the directory;
 * a JVM shutdown hook does the same if the run dies or is interrupted (Ctrl-C), so no node process
 * or data dir outlives the load generator.
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
final class Workspace implements AutoCloseable {
  private final Path root;
  private final boolean keep;
  private final Set<Process> processes = ConcurrentHashMap.newKeySet();
  private final Set<String> addresses = new HashSet<>();
  private final Thread hook;
  private volatile boolean closed;

  Workspace(Path parent, boolean keep) {
    try {
      Files.createDirectories(parent);
      this.root = Files.createTempDirectory(parent, "edgesync-bench-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a work directory under " + parent, e);
    }
    this.keep = keep;
    this.hook = new Thread(this::cleanUp, "edgesync-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  Path root() {
    return root;
  }

  Path dir(String name) {
    Path d = root.resolve(name);
    try {
      Files.createDirectories(d);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + d, e);
    }
    return d;
  }

  /**
   * A private copy of the node jar: a node JVM reads classes from its jar lazily, and other
   * engineers may rebuild {@code node/target/edgesync.jar} while a long run goes on.
   */
  Path copyJar(Path jar) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(
          "node program " + jar.toAbsolutePath() + " not found: build it (./mvnw -B -pl node -am package -DskipTests)"
              + " or pass --node-jar");
    }
    Path copy = root.resolve("edgesync.jar");
    try {
      Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + jar + " to " + copy, e);
    }
    return copy;
  }

  void track(Process p) {
    processes.add(p);
  }

  /** A loopback address 127.x.y.z not handed out before in this run. */
  synchronized String loopbackAddress() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    while (true) {
      String ip = "127." + (1 + r.nextInt(250)) + "." + (1 + r.nextInt(250)) + "." + (1 + r.nextInt(250));
      if (addresses.add(ip)) {
        return ip;
      }
    }
  }

  /**
   * A port free on {@code ip} a moment ago. Each node gets its own random loopback address, so
   * another process would have to pick the same address and port in between to collide (other
   * test suites run on this machine too).
   */
  static int freePort(String ip) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(ip, 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on " + ip, e);
    }
  }

  /** Copies {@code file} into {@code dir} under {@code name}, if it exists. */
  static void copyIfExists(Path file, Path dir, String name) {
    if (Files.exists(file)) {
      try {
        Files.createDirectories(dir);
        Files.copy(file, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot copy " + file + " to " + dir, e);
      }
    }
  }

  @Override
  public void close() {
    cleanUp();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook is running or ran.
    }
  }

  private synchronized void cleanUp() {
    if (closed) {
      return;
    }
    closed = true;
    for (Process p : processes) {
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    }
    for (Process p : processes) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (keep) {
      System.err.println("edgesync-bench: kept the work directory " + root);
      return;
    }
    deleteTree(root);
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      System.err.println("edgesync-bench: could not delete " + dir + ": " + e);
    }
  }
}
