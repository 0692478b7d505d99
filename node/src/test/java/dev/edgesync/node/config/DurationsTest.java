package dev.edgesync.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void parsesShortFormsAndIso8601() {
    assertEquals(Duration.ofMillis(500), Durations.parseOrNull("500ms"));
    assertEquals(Duration.ofSeconds(5), Durations.parseOrNull("5s"));
    assertEquals(Duration.ofMinutes(2), Durations.parseOrNull("2m"));
    assertEquals(Duration.ofHours(1), Durations.parseOrNull("1h"));
    assertEquals(Duration.ofDays(1), Durations.parseOrNull("1d"));
    assertEquals(Duration.ofSeconds(-30), Durations.parseOrNull("-30s"));
    assertEquals(Duration.ofSeconds(5), Durations.parseOrNull("PT5S"));
    assertEquals(Duration.ofMillis(1500), Durations.parseOrNull("pt1.5s".toUpperCase(Locale.ROOT)));
  }

  @Test
  void rejectsNumbersWithoutUnitsAndGarbage() {
    assertNull(Durations.parseOrNull("5"));
    assertNull(Durations.parseOrNull("five seconds"));
    assertNull(Durations.parseOrNull(""));
    assertNull(Durations.parseOrNull("1.5s"));
  }

  @Test
  void formatsWholeUnitsShort() {
    assertEquals("500ms", Durations.format(Duration.ofMillis(500)));
    assertEquals("5s", Durations.format(Duration.ofSeconds(5)));
    assertEquals("2m", Durations.format(Duration.ofMinutes(2)));
    assertEquals("90s", Durations.format(Duration.ofSeconds(90)));
  }
}
