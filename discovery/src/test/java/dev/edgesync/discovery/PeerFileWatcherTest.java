package dev.edgesync.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.edgesync.testing.LogCapture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerFileWatcherTest {

  private static final String TWO_PEERS =
      """
      peers:
        - {id: site-b, address: "host-b:7400"}
        - {id: site-c, address: "host-c:7400"}
      """;
  private static final String THREE_PEERS =
      TWO_PEERS + "  - {id: site-d, address: \"host-d:7400\"}\n";
  private static final String BROKEN =
      "peers:\n  - {id: site-b, address: \"host-b:7400\"}\n  - {id: site-c, address: \"host-c";

  @TempDir Path dir;

  private Path file;
  private PeerSet initial;
  private final List<PeerSet> emitted = new ArrayList<>();
  private PeerFileWatcher watcher;
  private LogCapture logs;

  @BeforeEach
  void setUp() throws IOException {
    file = Files.writeString(dir.resolve("site-a.yaml"), TWO_PEERS);
    initial = PeerFileSource.read(file);
    watcher = new PeerFileWatcher(file, initial, Clock.systemUTC(), emitted::add);
    logs = LogCapture.of(PeerFileWatcher.class);
  }

  @AfterEach
  void tearDown() {
    logs.close();
    watcher.close();
  }

  @Test
  void unchangedFileEmitsNothing() {
    watcher.checkNow();
    watcher.checkNow();

    assertEquals(List.of(), emitted);
    assertEquals(initial, watcher.current());
  }

  @Test
  void goodEditEmitsTheNewSet() throws IOException {
    watcher.checkNow();
    Files.writeString(file, THREE_PEERS);

    watcher.checkNow();

    PeerSet three = PeerListParser.parse(
        "site-b=host-b:7400,site-c=host-c:7400,site-d=host-d:7400", "test");
    assertEquals(List.of(three), emitted);
    assertEquals(three, watcher.current());
  }

  @Test
  void editMadeBeforeTheFirstCheckIsNotMissed() throws IOException {
    Files.writeString(file, THREE_PEERS);

    watcher.checkNow();

    assertEquals(1, emitted.size());
    assertEquals(3, emitted.get(0).size());
  }

  @Test
  void brokenEditKeepsThePreviousSetAndWarnsOnce() throws IOException {
    watcher.checkNow();
    Files.writeString(file, BROKEN);

    watcher.checkNow();
    watcher.checkNow();

    assertEquals(List.of(), emitted);
    assertEquals(initial, watcher.current());
    List<String> warnings = logs.messages(Level.WARN);
    assertEquals(1, warnings.size(), warnings.toString());
    String warning = warnings.get(0);
    assertTrue(warning.contains("file " + file + ": line "), warning);
    assertTrue(warning.contains("not valid YAML"), warning);
    assertTrue(warning.contains("Keeping the previous 2 peer(s)"), warning);
  }

  @Test
  void invalidPeerInAnEditKeepsThePreviousSet() throws IOException {
    watcher.checkNow();
    Files.writeString(file, TWO_PEERS.replace("host-c:7400", "host-c:99999"));

    watcher.checkNow();

    assertEquals(List.of(), emitted);
    String warning = logs.messages(Level.WARN).get(0);
    assertTrue(
        warning.contains(
            "file " + file + ": peers[1].address: port is out of range (got 'host-c:99999')"),
        warning);
  }

  @Test
  void fixingABrokenEditEmitsTheFixedSet() throws IOException {
    watcher.checkNow();
    Files.writeString(file, BROKEN);
    watcher.checkNow();
    Files.writeString(file, THREE_PEERS);

    watcher.checkNow();

    assertEquals(1, emitted.size());
    assertEquals(3, emitted.get(0).size());
  }

  @Test
  void editorStyleAtomicReplaceIsSeen() throws IOException {
    watcher.checkNow();
    Path temp = Files.writeString(dir.resolve(".site-a.yaml.swp"), THREE_PEERS);
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

    watcher.checkNow();

    assertEquals(1, emitted.size());
  }

  @Test
  void sameSizeEditWithTheSameTimestampIsSeen() throws IOException {
    watcher.checkNow();
    FileTime before = Files.getLastModifiedTime(file);
    String moved = TWO_PEERS.replace("host-c:7400", "host-x:7400");
    assertEquals(TWO_PEERS.length(), moved.length());
    Files.writeString(file, moved);
    Files.setLastModifiedTime(file, before);

    watcher.checkNow();

    assertEquals(1, emitted.size());
    assertEquals("host-x", emitted.get(0).get("site-c").orElseThrow().host());
  }

  @Test
  void contentChangeThatKeepsThePeersEmitsNothing() throws IOException {
    watcher.checkNow();
    Files.writeString(file, "# reordered, with a comment\ncluster: shop\n" + TWO_PEERS);

    watcher.checkNow();

    assertEquals(List.of(), emitted);
  }

  @Test
  void missingFileKeepsThePreviousSetAndWarnsOnce() throws IOException {
    watcher.checkNow();
    Files.delete(file);

    watcher.checkNow();
    watcher.checkNow();

    assertEquals(List.of(), emitted);
    assertEquals(initial, watcher.current());
    List<String> warnings = logs.messages(Level.WARN);
    assertEquals(1, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).contains("does not exist"), warnings.get(0));

    Files.writeString(file, THREE_PEERS);
    watcher.checkNow();
    assertEquals(1, emitted.size());
  }

  @Test
  void failingListenerIsLoggedAndWatchingGoesOn() throws IOException {
    List<PeerSet> seen = new ArrayList<>();
    watcher.close();
    watcher =
        new PeerFileWatcher(
            file,
            initial,
            Clock.systemUTC(),
            peers -> {
              seen.add(peers);
              throw new IllegalStateException("engine refused");
            });
    Files.writeString(file, THREE_PEERS);
    watcher.checkNow();
    Files.writeString(file, TWO_PEERS);
    watcher.checkNow();

    assertEquals(2, seen.size());
    assertEquals(2, logs.messages(Level.ERROR).size());
  }

  @Test
  void closedWatcherCallsNoMore() throws IOException {
    watcher.close();
    Files.writeString(file, THREE_PEERS);

    watcher.checkNow();

    assertEquals(List.of(), emitted);
  }

  @Test
  void startPollsOnTheScheduler() throws Exception {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    CountDownLatch changed = new CountDownLatch(1);
    try (PeerFileWatcher started =
        PeerFileWatcher.start(
            file, initial, scheduler, Duration.ofMillis(10), peers -> changed.countDown())) {
      Files.writeString(file, THREE_PEERS);

      assertTrue(changed.await(30, TimeUnit.SECONDS), "the scheduled check never saw the edit");
      assertEquals(3, started.current().size());
    } finally {
      scheduler.shutdownNow();
    }
  }
}
