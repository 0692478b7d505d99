package dev.edgesync.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One edgesync node running as its own JVM ({@code java -jar edgesync.jar run ...}).
 *
 * <p>Output (stdout and stderr) is appended to {@link NodeSpec#logFile()}, across restarts, so
 * one file tells a node's whole story. Every process started here is destroyed by {@link
 * #close()} and, as a safety net, by a JVM shutdown hook.
 *
 * <p>Not thread-safe: one test thread drives a node.
 */
final class NodeProcess implements AutoCloseable {
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "edgesync-it-reaper"));
  }

  final NodeSpec spec;
  private final NodeClient client;
  private Process process;
  private int starts;
  /** Length of the log file when the current process was launched: where its own lines begin. */
  private long logOffsetAtStart;

  NodeProcess(NodeSpec spec) {
    this.spec = spec;
    this.client = new NodeClient(spec.id, spec.httpAddress(), spec.httpToken);
  }

  private static Path jarCopy;

  /**
   * The node program: a private copy, made once per test JVM, of the jar named by the system
   * property surefire sets. Node JVMs read classes from their jar lazily, so a rebuild of
   * {@code node/target/edgesync.jar} while the suite runs would otherwise break running nodes
   * with {@code NoClassDefFoundError}.
   */
  static synchronized Path jar() {
    if (jarCopy != null) {
      return jarCopy;
    }
    String jar = System.getProperty("edgesync.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "the node program jar is missing (system property edgesync.jar = " + jar + "): build it with ./mvnw -pl node -am package -DskipTests");
    }
    try {
      Path dir = Path.of(System.getProperty("edgesync.it.work", "target/it-work")).toAbsolutePath();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "edgesync", ".jar.tmp");
      Files.copy(Path.of(jar), tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      jarCopy = dir.resolve("edgesync-" + ProcessHandle.current().pid() + ".jar");
      Files.move(tmp, jarCopy, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      jarCopy.toFile().deleteOnExit();
      return jarCopy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the node program jar " + jar, e);
    }
  }

  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  String id() {
    return spec.id;
  }

  NodeClient http() {
    return client;
  }

  String grpcAddress() {
    return spec.grpcAddress();
  }

  Path logFile() {
    return spec.logFile();
  }

  /** Starts the process and waits until {@code /health} answers 200. */
  NodeProcess start() {
    startProcess();
    awaitHealthy();
    return this;
  }

  /** Starts the process without waiting for it. */
  NodeProcess startProcess() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(spec.id + " is already running");
    }
    List<String> command = new ArrayList<>();
    command.add(javaBinary());
    command.addAll(spec.jvmFlags());
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(spec.programArgs());
    try {
      logOffsetAtStart = Files.exists(spec.logFile()) ? Files.size(spec.logFile()) : 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    process = launch(command, spec, ++starts);
    LIVE.add(process);
    return this;
  }

  /** Runs the node program with arbitrary arguments (e.g. {@code demo}) and output to {@code log}. */
  static Process launchProgram(List<String> jvmFlags, List<String> args, java.util.Map<String, String> env, Path log) {
    List<String> command = new ArrayList<>();
    command.add(javaBinary());
    command.addAll(jvmFlags);
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(args);
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().keySet().removeIf(k -> k.startsWith("EDGESYNC_"));
      pb.environment().putAll(env);
      Process p = pb.start();
      LIVE.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /**
   * Runs the program once with {@code args} (a client command such as {@code backup} or {@code
   * peers}), output to a file in {@code dir}; fails unless it exits with {@code exit} within 2
   * minutes. Returns its output.
   */
  static String runCommand(Path dir, int exit, String... args) throws IOException, InterruptedException {
    Path log = dir.resolve("cli-" + System.nanoTime() + ".out");
    Process p = launchProgram(List.of(), List.of(args), java.util.Map.of(), log);
    if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("edgesync " + List.of(args) + " did not finish within 2 minutes");
    }
    String out = Files.readString(log);
    if (p.exitValue() != exit) {
      throw new AssertionError("edgesync " + List.of(args) + " exited " + p.exitValue() + ", expected " + exit + ":\n" + out);
    }
    return out;
  }

  private static Process launch(List<String> command, NodeSpec spec, int start) {
    try {
      Files.createDirectories(spec.dir);
      Files.writeString(
          spec.logFile(),
          "==== start #" + start + ": " + String.join(" ", command) + " env " + spec.environment() + "\n",
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(spec.dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()));
      // The test JVM's own EDGESYNC_* variables must not leak into a node.
      pb.environment().keySet().removeIf(k -> k.startsWith("EDGESYNC_"));
      pb.environment().putAll(spec.environment());
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + spec.id + ": " + command, e);
    }
  }

  /** Waits until {@code /health} is 200; fails at once, with the log, if the process exits. */
  void awaitHealthy() {
    try {
      await("node " + spec.id + " healthy at " + spec.httpAddress())
          .atMost(Duration.ofSeconds(60))
          .pollDelay(Duration.ofMillis(200))
          .pollInterval(Duration.ofMillis(100))
          .ignoreExceptionsMatching(e -> e instanceof UncheckedIOException)
          .until(
              () -> {
                if (!process.isAlive()) {
                  throw new AssertionError("node " + spec.id + " exited with code " + process.exitValue() + " while starting; log " + logFile() + ":\n" + tail(40));
                }
                return client.health() == 200;
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("node " + spec.id + " did not become healthy; log " + logFile() + ":\n" + tail(40), e);
    }
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** {@code kill -9}: the process gets no chance to clean up. */
  void kill9() {
    if (process != null) {
      process.destroyForcibly();
      waitFor(Duration.ofSeconds(20));
      LIVE.remove(process);
    }
  }

  /** SIGTERM, then waits for the exit; returns the exit code. */
  int terminate() {
    process.destroy();
    int code = waitFor(Duration.ofSeconds(30));
    LIVE.remove(process);
    return code;
  }

  /** Waits for the process to exit by itself (e.g. a refused configuration) and returns its code. */
  int waitFor(Duration max) {
    try {
      if (!process.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("node " + spec.id + " did not exit within " + max + "; log " + logFile() + ":\n" + tail(40));
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The whole log so far. */
  String log() {
    try {
      return Files.exists(logFile()) ? Files.readString(logFile(), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The log lines of the current process only (since its launch). */
  String logSinceStart() {
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(logFile().toFile(), "r")) {
      long from = Math.min(logOffsetAtStart, f.length());
      byte[] b = new byte[(int) (f.length() - from)];
      f.seek(from);
      f.readFully(b);
      return new String(b, StandardCharsets.UTF_8);
    } catch (java.io.FileNotFoundException e) {
      return "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last {@code n} lines of the log. */
  String tail(int n) {
    String[] lines = log().split("\n", -1);
    int end = lines.length;
    // Trailing empty lines (the log ends with a newline) do not count as lines.
    while (end > 0 && lines[end - 1].isEmpty()) {
      end--;
    }
    return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, end - n), end));
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (process != null) {
      LIVE.remove(process);
    }
  }

  @Override
  public String toString() {
    return spec.id + "(grpc " + spec.grpcAddress() + ", http " + spec.httpAddress() + ", log " + logFile() + ")";
  }
}
