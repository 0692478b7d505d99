package dev.edgesync.bench.load;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The load generator's progress lines, each stamped with the UTC time, on standard error. */
final class ProgressLog {
  private final PrintStream err;

  ProgressLog(PrintStream err) {
    this.err = err;
  }

  void line(String line) {
    err.println("[" + DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC).format(Instant.now()) + "] " + line);
  }
}
