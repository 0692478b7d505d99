package dev.edgesync.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One node program running as its own JVM: {@code java -Xmx<heap> -jar edgesync.jar run ...} on a
 * loopback address, with its output in {@code <dir>/node.log} and its GC log in {@code
 * <dir>/gc.log}.
 *
 * <p>Memory is watched two ways. Peak heap: the largest "before" figure of the GC log (the heap
 * is fullest right before a collection) and the {@code jvm_memory_used_bytes{area="heap"}} sum of
 * {@code /metrics}, sampled by {@link #sampleMemory()}. Peak RSS: {@code VmHWM} of {@code
 * /proc/<pid>/status}, the kernel's own high-water mark, read at every sample and before the
 * process stops.
 *
 * <p>Thread safety: {@link #sampleMemory()} may run on a monitor thread while the scenario thread
 * uses {@link #http()}; each uses its own connection. Everything else is for one thread.
 */
final class NodeProcess implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern GC_HEAP = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");
  private static final Pattern HEAP_LINE =
      Pattern.compile("^jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*\\}\\s+(\\S+)", Pattern.MULTILINE);

  final String id;
  final String grpcAddress;
  final InetSocketAddress http;
  final Path dir;
  final Path dataDir;
  private final Process process;
  private final HttpConnection api;
  private final HttpConnection monitorConnection;
  private volatile long peakSampledHeap;
  private volatile long peakRss;
  private volatile long lastRss;
  private boolean stopped;

  /** What to start. */
  record Spec(
      String id,
      String cluster,
      String ip,
      int grpcPort,
      int httpPort,
      Path dir,
      Path dataDir,
      List<String> peers,
      String durability,
      String heap,
      String jvmOptions,
      boolean jfr,
      String configYaml) {}

  private NodeProcess(Spec spec, Process process) {
    this.id = spec.id();
    this.grpcAddress = spec.ip() + ":" + spec.grpcPort();
    this.http = new InetSocketAddress(spec.ip(), spec.httpPort());
    this.dir = spec.dir();
    this.dataDir = spec.dataDir();
    this.process = process;
    this.api = new HttpConnection(http, 120_000);
    this.monitorConnection = new HttpConnection(http, 30_000);
  }

  /** Starts the node program; returns at once (see {@link #awaitHealthy}). */
  static NodeProcess start(Path jar, Spec spec, Workspace workspace) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx" + spec.heap());
    command.add("-Xlog:gc:file=" + spec.dir().resolve("gc.log"));
    if (!spec.jvmOptions().isBlank()) {
      command.addAll(List.of(WHITESPACE.split(spec.jvmOptions().trim(), -1)));
    }
    if (spec.jfr()) {
      command.add("-XX:StartFlightRecording=name=bench,settings=profile");
    }
    command.add("-jar");
    command.add(jar.toString());
    command.add("run");
    command.add("--id=" + spec.id());
    command.add("--cluster=" + spec.cluster());
    command.add("--listen=" + spec.ip() + ":" + spec.grpcPort());
    command.add("--http=" + spec.ip() + ":" + spec.httpPort());
    command.add("--data-dir=" + spec.dataDir());
    command.add("--durability=" + spec.durability());
    if (!spec.peers().isEmpty()) {
      command.add("--peers=" + String.join(",", spec.peers()));
    }
    try {
      Files.createDirectories(spec.dir());
      if (spec.configYaml() != null) {
        Path config = spec.dir().resolve("node.yaml");
        Files.writeString(config, spec.configYaml(), StandardCharsets.UTF_8);
        command.add("--config=" + config);
      }
      Path log = spec.dir().resolve("node.log");
      Files.writeString(log, "==== " + String.join(" ", command) + "\n", StandardCharsets.UTF_8);
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(spec.dir().toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      // The bench's own environment must not configure the node.
      pb.environment().keySet().removeIf(k -> k.startsWith("EDGESYNC_"));
      Process p = pb.start();
      workspace.track(p);
      return new NodeProcess(spec, p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + spec.id() + ": " + command, e);
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  Path logFile() {
    return dir.resolve("node.log");
  }

  Path gcLog() {
    return dir.resolve("gc.log");
  }

  /** Waits until {@code /health} answers 200; fails with the log's tail if the process exits. */
  void awaitHealthy(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    try (HttpConnection c = new HttpConnection(http, 5_000)) {
      while (true) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "node " + id + " exited with code " + process.exitValue() + " while starting; log " + logFile()
                  + ":\n" + tail(30));
        }
        try {
          if (c.get("/health").status() == 200) {
            return;
          }
        } catch (IOException e) {
          // Not listening yet.
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("node " + id + " not healthy after " + max + "; log " + logFile() + ":\n" + tail(30));
        }
        Thread.sleep(50);
      }
    }
  }

  /** {@code GET /status} on the scenario's connection. */
  JsonNode status() throws IOException {
    return json(api.get("/status"), "/status");
  }

  /** The scenario thread's connection to this node. */
  HttpConnection http() {
    return api;
  }

  /** Parses a response that must be 200 JSON. */
  static JsonNode json(HttpConnection.Response r, String what) throws IOException {
    if (r.status() != 200) {
      throw new IOException(what + " answered " + r.status() + ": " + r.text());
    }
    return JSON.readTree(r.body());
  }

  /** The status entry of {@code peerId} in a status document, or null. */
  static JsonNode peer(JsonNode status, String peerId) {
    for (JsonNode p : status.path("peers")) {
      if (peerId.equals(p.path("id").asText())) {
        return p;
      }
    }
    return null;
  }

  /** Reads RSS and heap now and keeps the peaks. Called by the monitor thread. */
  synchronized void sampleMemory() {
    readRss();
    if (!process.isAlive()) {
      return;
    }
    try {
      HttpConnection.Response r = monitorConnection.get("/metrics");
      if (r.status() == 200) {
        peakSampledHeap = Math.max(peakSampledHeap, heapInUse(r.text()));
      }
    } catch (IOException | RuntimeException e) {
      // A sample missed while the node is busy or stopping; the GC log still has the peak.
    }
  }

  /** The heap in use a {@code /metrics} text reports: the sum of the heap pools' gauges. */
  static long heapInUse(String metrics) {
    long heap = 0;
    Matcher m = HEAP_LINE.matcher(metrics);
    while (m.find()) {
      heap += (long) Double.parseDouble(m.group(1));
    }
    return heap;
  }

  private void readRss() {
    Path status = Path.of("/proc", Long.toString(process.pid()), "status");
    try {
      for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
        if (line.startsWith("VmHWM:")) {
          peakRss = Math.max(peakRss, kib(line) * 1024);
        } else if (line.startsWith("VmRSS:")) {
          lastRss = kib(line) * 1024;
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // The process is gone; the last reading stands.
    }
  }

  private static long kib(String line) {
    String[] parts = WHITESPACE.split(line.trim(), -1);
    return Long.parseLong(parts[1]);
  }

  /** Peak heap: the larger of the GC log's largest pre-collection figure and the sampled maximum. */
  long peakHeapBytes() {
    return Math.max(peakSampledHeap, peakHeapFromGcLog());
  }

  /** Largest sampled heap from {@code /metrics}. */
  long peakSampledHeapBytes() {
    return peakSampledHeap;
  }

  /** Largest "before" heap figure in the GC log, or 0. */
  long peakHeapFromGcLog() {
    long peak = 0;
    try {
      if (!Files.exists(gcLog())) {
        return 0;
      }
      for (String line : Files.readAllLines(gcLog(), StandardCharsets.UTF_8)) {
        Matcher m = GC_HEAP.matcher(line);
        if (m.find()) {
          peak = Math.max(peak, bytes(m.group(1), m.group(2)));
        }
      }
    } catch (IOException | UncheckedIOException e) {
      return peak;
    }
    return peak;
  }

  /** Number of collections in the GC log. */
  long gcCount() {
    try {
      if (!Files.exists(gcLog())) {
        return 0;
      }
      return Files.readAllLines(gcLog(), StandardCharsets.UTF_8).stream().filter(l -> GC_HEAP.matcher(l).find()).count();
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }

  private static long bytes(String n, String unit) {
    long v = Long.parseLong(n);
    return switch (unit) {
      case "K" -> v << 10;
      case "M" -> v << 20;
      default -> v << 30;
    };
  }

  /** Peak RSS seen ({@code VmHWM}). */
  long peakRssBytes() {
    return peakRss;
  }

  /** True when the node's log shows an {@code OutOfMemoryError}. */
  boolean ranOutOfMemory() {
    try {
      return Files.readString(logFile(), StandardCharsets.UTF_8).contains("java.lang.OutOfMemoryError");
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * When this node's subscription to {@code peerId} was welcomed, from its log line {@code
   * "node <id> peer <peerId>: connected to ..."} (millisecond timestamps), or null.
   */
  Instant subscribedAt(String peerId) {
    String marker = "node " + id + " peer " + peerId + ": connected to ";
    try {
      for (String line : Files.readAllLines(logFile(), StandardCharsets.UTF_8)) {
        if (line.contains(marker)) {
          int space = line.indexOf(' ');
          return OffsetDateTime.parse(line.substring(0, space)).toInstant();
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  /** Dumps the JFR recording (if one runs) to {@code file} with {@code jcmd}. */
  void dumpJfr(Path file) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    try {
      Process p =
          new ProcessBuilder(jcmd.toString(), Long.toString(pid()), "JFR.dump", "name=bench", "filename=" + file.toAbsolutePath())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("jcmd.log").toFile()))
              .start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run jcmd for node " + id, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM (a graceful stop), then SIGKILL after 20 s; reads the RSS peak first. */
  synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    readRss();
    monitorConnection.close();
    api.close();
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** The last {@code n} lines of the node's log. */
  String tail(int n) {
    try {
      List<String> lines = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  long lastRssBytes() {
    return lastRss;
  }
}
