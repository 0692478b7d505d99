package dev.edgesync.watermark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.edgesync.testing.LogCapture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guards the crash window of {@link WatermarkStore#write(Watermark)}: a crash after the temp file
 * is written but before it is renamed must leave the previous watermark readable.
 */
class WatermarkTornWriteTest {

  private static final Instant T1 = Instant.parse("2026-11-03T10:15:30Z");
  private static final Instant T2 = Instant.parse("2026-11-03T10:20:00Z");

  @TempDir Path dataDir;

  /**
   * Stands for the process dying. It is an Error, so the store's clean-up of the temp file (which
   * handles exceptions) does not run, exactly as it would not run in a real crash.
   */
  private static final class SimulatedCrash extends Error {
    private static final long serialVersionUID = 1L;

    SimulatedCrash() {
      super("simulated crash between temp write and rename");
    }
  }

  @Test
  void crashBetweenTempWriteAndRenameKeepsThePreviousValue() throws IOException {
    Watermark previous = new Watermark("site-b", "log-1", 5, T1);
    AtomicReference<Path> tempSeen = new AtomicReference<>();
    try (WatermarkStore store = WatermarkStore.open(dataDir)) {
      store.write(previous);
      store.setWriteHook(
          temp -> {
            tempSeen.set(temp);
            throw new SimulatedCrash();
          });

      assertThrows(
          SimulatedCrash.class, () -> store.write(new Watermark("site-b", "log-1", 9, T2)));

      // The crash left the fully written temp file next to the untouched real file.
      Path temp = tempSeen.get();
      assertTrue(Files.exists(temp));
      assertEquals(store.directory(), temp.getParent());
      assertTrue(Files.readString(temp).contains("\"seq\" : 9"));
      assertEquals(previous, store.read("site-b"));
      assertEquals(List.of("site-b"), List.copyOf(store.readAll().keySet()));
    }

    try (LogCapture logs = LogCapture.of(WatermarkStore.class);
        WatermarkStore restarted = WatermarkStore.open(dataDir)) {
      assertEquals(previous, restarted.read("site-b"));
      assertFalse(Files.exists(tempSeen.get()), "open() should delete the leftover temp file");
      assertTrue(logs.messages(Level.WARN).isEmpty());
      assertEquals(List.of(restarted.fileFor("site-b")), filesIn(restarted.directory()));
    }
  }

  @Test
  void crashWithAPartiallyWrittenTempFileKeepsThePreviousValue() throws IOException {
    Watermark previous = new Watermark("site-b", "log-1", 5, T1);
    try (WatermarkStore store = WatermarkStore.open(dataDir)) {
      store.write(previous);
    }
    // What a crash in the middle of writing the temp file leaves behind.
    Path torn = dataDir.resolve(".watermarks/.site-b.json.4711.tmp");
    Files.writeString(torn, "{\n  \"peerId\" : \"site-b\",\n  \"peerLo");

    try (WatermarkStore restarted = WatermarkStore.open(dataDir)) {
      assertEquals(previous, restarted.read("site-b"));
      assertFalse(Files.exists(torn));
    }
  }

  @Test
  void failedRenameDeletesTheTempFileAndKeepsThePreviousValue() {
    Watermark previous = new Watermark("site-b", "log-1", 5, T1);
    try (WatermarkStore store = WatermarkStore.open(dataDir)) {
      store.write(previous);
      store.setWriteHook(
          temp -> {
            throw new IOException("disk full");
          });

      UncheckedIOException e =
          assertThrows(
              UncheckedIOException.class,
              () -> store.write(new Watermark("site-b", "log-1", 9, T2)));

      assertTrue(e.getMessage().contains(store.fileFor("site-b").toString()), e.getMessage());
      assertTrue(e.getMessage().contains("disk full"), e.getMessage());
      assertEquals(previous, store.read("site-b"));
      assertEquals(List.of(store.fileFor("site-b")), filesIn(store.directory()));
    }
  }

  private static List<Path> filesIn(Path directory) {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.sorted().collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
