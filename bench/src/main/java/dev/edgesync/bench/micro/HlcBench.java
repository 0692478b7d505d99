package dev.edgesync.bench.micro;

import dev.edgesync.conflict.ClockSkewException;
import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.HybridLogicalClock;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hybrid logical clock with the system wall clock: {@code now()} for every local write,
 * {@code update()} for every received entry (the writer thread calls it once per remote entry),
 * and {@code now()} from two threads at once (the clock is one monitor).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HlcBench {
  private final HybridLogicalClock clock =
      new HybridLogicalClock(InstantSource.system(), HybridLogicalClock.DEFAULT_MAX_CLOCK_SKEW, 0);

  @Benchmark
  public long now() {
    return clock.now();
  }

  // A peer's timestamp from the start of the iteration: at most a second old, like a fresh write
  // replicated from another site. (Deriving it from the clock itself made the clock run ahead of
  // the wall clock by one logical tick per call, until the skew check refused it.)
  private long remote;

  @Setup(Level.Iteration)
  public void newRemote() {
    remote = Hlc.of(System.currentTimeMillis(), 0);
  }

  @Benchmark
  public long updateWithRemote() throws ClockSkewException {
    clock.update(remote);
    return remote;
  }

  @Benchmark
  @Threads(2)
  public long nowContended() {
    return clock.now();
  }
}
