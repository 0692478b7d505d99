package dev.edgesync.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * {@code jfr-summary FILE.jfr [--top N]}: what a node spent its time on, from a JFR recording made
 * with {@code --jfr} (settings=profile). Prints the CPU load the recording saw, the GC pauses, the
 * execution samples by thread, by top (self) frame and inclusively for the engine's and LevelDB's
 * methods, and the native-method samples (threads blocked in fsync, socket reads, parking) by top
 * frame. The same data as {@code jfr print --events jdk.ExecutionSample}, counted.
 */
final class JfrSummary {
  private JfrSummary() {}

  static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
    if (args.length == 0) {
      err.println("usage: jfr-summary FILE.jfr [--top N]");
      return 2;
    }
    int top = 25;
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--top") && i + 1 < args.length) {
        top = Integer.parseInt(args[++i]);
      }
    }
    Map<String, Integer> byThread = new HashMap<>();
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> inclusive = new HashMap<>();
    Map<String, Integer> nativeTop = new HashMap<>();
    Map<String, Integer> nativeByThread = new HashMap<>();
    int samples = 0;
    int nativeSamples = 0;
    int gcs = 0;
    Duration gcPause = Duration.ZERO;
    double cpuJvm = 0;
    double cpuMachine = 0;
    int cpuEvents = 0;
    Map<String, double[]> threadCpu = new HashMap<>();
    for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
      String type = e.getEventType().getName();
      switch (type) {
        case "jdk.ExecutionSample" -> {
          samples++;
          byThread.merge(thread(e, "sampledThread"), 1, Integer::sum);
          RecordedStackTrace st = e.getStackTrace();
          if (st != null && !st.getFrames().isEmpty()) {
            self.merge(frame(st.getFrames().get(0)), 1, Integer::sum);
            Set<String> seen = new HashSet<>();
            for (RecordedFrame f : st.getFrames()) {
              String m = method(f);
              if (seen.add(m)) {
                inclusive.merge(m, 1, Integer::sum);
              }
            }
          }
        }
        case "jdk.NativeMethodSample" -> {
          nativeSamples++;
          nativeByThread.merge(thread(e, "sampledThread"), 1, Integer::sum);
          RecordedStackTrace st = e.getStackTrace();
          if (st != null) {
            nativeTop.merge(firstInteresting(st.getFrames()), 1, Integer::sum);
          }
        }
        case "jdk.GarbageCollection" -> {
          gcs++;
          gcPause = gcPause.plus(e.getDuration("sumOfPauses"));
        }
        case "jdk.ThreadCPULoad" -> {
          double[] sum = threadCpu.computeIfAbsent(thread(e, "eventThread"), k -> new double[2]);
          sum[0] += e.getFloat("user") + e.getFloat("system");
          sum[1]++;
        }
        case "jdk.CPULoad" -> {
          cpuEvents++;
          cpuJvm += e.getFloat("jvmUser") + e.getFloat("jvmSystem");
          cpuMachine += e.getFloat("machineTotal");
        }
        default -> {}
      }
    }
    out.println("recording: " + args[0]);
    if (cpuEvents > 0) {
      out.printf(Locale.ROOT, "CPU load (mean of %d samples, 1.0 = all cores): this JVM %.2f, whole machine %.2f%n",
          cpuEvents, cpuJvm / cpuEvents, cpuMachine / cpuEvents);
    }
    out.printf(Locale.ROOT, "GC: %d collections, %d ms of pauses in all%n", gcs, gcPause.toMillis());
    if (!threadCpu.isEmpty()) {
      // jdk.ThreadCPULoad is a share of the whole machine: 1/cores means one core kept busy.
      out.printf(Locale.ROOT, "thread CPU (mean of jdk.ThreadCPULoad; %d cores, so %.2f = one core busy):%n",
          Runtime.getRuntime().availableProcessors(), 1.0 / Runtime.getRuntime().availableProcessors());
      threadCpu.entrySet().stream()
          .sorted((x, y) -> Double.compare(y.getValue()[0] / y.getValue()[1], x.getValue()[0] / x.getValue()[1]))
          .limit(8)
          .forEach(t -> out.printf(Locale.ROOT, "    %.3f  %s (%d readings)%n", t.getValue()[0] / t.getValue()[1], t.getKey(),
              (int) t.getValue()[1]));
    }
    out.printf(Locale.ROOT, "%n%d execution samples (threads on CPU, Java code)%n", samples);
    print(out, "by thread", byThread, samples, top, s -> true);
    print(out, "top frames (self)", self, samples, top, s -> true);
    print(out, "inclusive: edgesync, LevelDB, gRPC/protobuf methods on the stack", inclusive, samples, top,
        s -> s.startsWith("dev.edgesync") || s.startsWith("org.iq80") || s.startsWith("com.google.protobuf")
            || s.startsWith("io.grpc.stub") || s.startsWith("com.google.common.hash"));
    out.printf(Locale.ROOT, "%n%d native-method samples (threads in native code: I/O, fsync, waiting)%n", nativeSamples);
    print(out, "by thread", nativeByThread, nativeSamples, top, s -> true);
    print(out, "by first Java frame", nativeTop, nativeSamples, top, s -> true);
    return 0;
  }

  private static String thread(RecordedEvent e, String field) {
    RecordedThread t = e.getThread(field);
    String name = t == null ? "?" : t.getJavaName() != null ? t.getJavaName() : t.getOSName();
    // Pool threads differ only by a number: count them together.
    return name == null ? "?" : name.replaceAll("-\\d+$", "-N").replaceAll("#\\d+", "#N");
  }

  private static String method(RecordedFrame f) {
    return f.getMethod().getType().getName() + "." + f.getMethod().getName();
  }

  private static String frame(RecordedFrame f) {
    return method(f) + (f.isJavaFrame() ? "" : " [native]");
  }

  /** The first frame that is not a JDK-internal wrapper around the blocking call, with the call itself. */
  private static String firstInteresting(List<RecordedFrame> frames) {
    if (frames.isEmpty()) {
      return "?";
    }
    String first = method(frames.get(0));
    for (RecordedFrame f : frames) {
      String m = method(f);
      if (!m.startsWith("java.") && !m.startsWith("sun.") && !m.startsWith("jdk.")) {
        return m + "  <- " + first;
      }
    }
    return first;
  }

  private static void print(
      PrintStream out, String title, Map<String, Integer> counts, int total, int top, Predicate<String> keep) {
    out.println("  " + title + ":");
    counts.entrySet().stream()
        .filter(e -> keep.test(e.getKey()))
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(top)
        .forEach(e -> out.printf(Locale.ROOT, "    %6.2f%%  %6d  %s%n", 100.0 * e.getValue() / Math.max(1, total), e.getValue(), e.getKey()));
  }
}
