package dev.edgesync.engine.sim;

import java.time.Instant;
import java.time.InstantSource;

/**
 * The wall clock of one simulated node: the simulation's time plus this node's offset, which
 * the fault schedule moves (skew, jumps forward and back).
 */
final class SimClock implements InstantSource {
  /** Simulated time 0 on every node's wall clock (2026-01-01T00:00:00Z) before offsets. */
  static final long EPOCH_MILLIS = 1_767_225_600_000L;

  private final SimLoop loop;
  private volatile long offsetMillis;

  SimClock(SimLoop loop) {
    this.loop = loop;
  }

  /** The true time: what every clock would read without an offset. */
  static long trueMillis(SimLoop loop) {
    return EPOCH_MILLIS + loop.nowMillis();
  }

  long offsetMillis() {
    return offsetMillis;
  }

  void setOffsetMillis(long offsetMillis) {
    this.offsetMillis = offsetMillis;
  }

  @Override
  public long millis() {
    return trueMillis(loop) + offsetMillis;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }
}
