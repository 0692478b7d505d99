package dev.edgesync.conflict;

import java.time.Instant;
import java.time.InstantSource;

/** A wall clock that only moves when a test moves it. */
final class ManualClock implements InstantSource {
  private long millis;

  ManualClock(long millis) {
    this.millis = millis;
  }

  void set(long newMillis) {
    millis = newMillis;
  }

  void advance(long deltaMillis) {
    millis += deltaMillis;
  }

  @Override
  public long millis() {
    return millis;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis);
  }
}
