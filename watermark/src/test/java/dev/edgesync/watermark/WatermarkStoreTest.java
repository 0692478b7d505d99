package dev.edgesync.watermark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.edgesync.testing.LogCapture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class WatermarkStoreTest {

  private static final Instant T1 = Instant.parse("2026-11-03T10:15:30.123Z");
  private static final Instant T2 = Instant.parse("2026-11-03T10:16:00Z");

  @TempDir Path dataDir;

  private WatermarkStore store;
  private LogCapture logs;

  @BeforeEach
  void openStore() {
    store = WatermarkStore.open(dataDir, Clock.fixed(T2, ZoneOffset.UTC));
    logs = LogCapture.of(WatermarkStore.class);
  }

  @AfterEach
  void closeStore() {
    logs.close();
    store.close();
  }

  @Test
  void openCreatesTheDirectoryInsideTheDataDir() {
    assertEquals(dataDir.resolve(".watermarks"), store.directory());
    assertTrue(Files.isDirectory(store.directory()));
  }

  @Test
  void roundTrip() {
    Watermark written = new Watermark("site-b", "log-1234", 42, T1);
    store.write(written);

    assertEquals(written, store.read("site-b"));
    assertEquals(Map.of("site-b", written), store.readAll());
    assertTrue(logs.messages(Level.WARN).isEmpty());
  }

  @Test
  void fileIsPrettyJsonNamedAfterThePeer() throws IOException {
    store.write(new Watermark("site-b", "log-1234", 42, T1, "0123456789abcdef"));

    Path file = store.directory().resolve("site-b.json");
    assertEquals(file, store.fileFor("site-b"));
    String text = Files.readString(file);
    assertEquals(
        """
        {
          "peerId" : "site-b",
          "peerLogId" : "log-1234",
          "peerEpoch" : "0123456789abcdef",
          "seq" : 42,
          "updatedAt" : "2026-11-03T10:15:30.123Z"
        }
        """,
        text.replace(System.lineSeparator(), "\n"));
  }

  @Test
  void overwriteReplacesThePreviousValue() {
    store.write(new Watermark("site-b", "log-1", 10, T1));
    store.write(new Watermark("site-b", "log-1", 11, T2));
    store.write(new Watermark("site-b", "log-2", 3, T2));

    assertEquals(new Watermark("site-b", "log-2", 3, T2), store.read("site-b"));
  }

  @Test
  void epochRoundTripsAndAFileWithoutItReadsAsNoEpoch() throws IOException {
    Watermark written = store.advance("site-b", "log-1", 42, "epoch-7");
    assertEquals(new Watermark("site-b", "log-1", 42, T2, "epoch-7"), written);
    assertEquals(written, store.read("site-b"));

    // A file written before log epochs existed.
    Files.writeString(
        store.fileFor("site-c"),
        "{\"peerId\":\"site-c\",\"peerLogId\":\"log-2\",\"seq\":9,\"updatedAt\":\"2026-11-03T10:15:30.123Z\"}");
    Watermark old = store.read("site-c");
    assertEquals(new Watermark("site-c", "log-2", 9, T1), old);
    assertEquals(Watermark.NO_EPOCH, old.peerEpoch());
    assertTrue(logs.messages(Level.WARN).isEmpty());
  }

  @Test
  void advanceStampsTheWatermarkWithTheClock() {
    Watermark advanced = store.advance("site-c", "log-9", 7);

    assertEquals(new Watermark("site-c", "log-9", 7, T2), advanced);
    assertEquals(advanced, store.read("site-c"));
  }

  @Test
  void missingFileReadsAsZeroWithoutWarning() {
    Watermark read = store.read("never-seen");

    assertEquals(Watermark.zero("never-seen"), read);
    assertTrue(read.isZero());
    assertTrue(logs.messages(Level.WARN).isEmpty());
  }

  @Test
  void valuesSurviveReopening() {
    store.write(new Watermark("site-b", "log-1", 10, T1));
    store.close();

    try (WatermarkStore reopened = WatermarkStore.open(dataDir)) {
      assertEquals(new Watermark("site-b", "log-1", 10, T1), reopened.read("site-b"));
    }
  }

  @Test
  void deleteRemovesTheWatermark() {
    store.write(new Watermark("site-b", "log-1", 10, T1));

    store.delete("site-b");
    store.delete("site-b");

    assertEquals(Watermark.zero("site-b"), store.read("site-b"));
    assertEquals(Map.of(), store.readAll());
  }

  @Test
  void truncatedJsonReadsAsZeroAndWarnsNamingTheFile() throws IOException {
    store.write(new Watermark("site-b", "log-1", 10, T1));
    Path file = store.fileFor("site-b");
    byte[] full = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(full, full.length / 2));

    assertEquals(Watermark.zero("site-b"), store.read("site-b"));

    List<String> warnings = logs.messages(Level.WARN);
    assertEquals(1, warnings.size(), warnings.toString());
    String warning = warnings.get(0);
    assertTrue(warning.contains(file.toString()), warning);
    assertTrue(warning.contains("not valid JSON"), warning);
    assertTrue(warning.contains("re-sync peer 'site-b' from seq 0"), warning);
    assertTrue(warning.contains("idempotent"), warning);
  }

  static Stream<Arguments> unusableContents() {
    String valid =
        "{\"peerId\":\"site-b\",\"peerLogId\":\"l\","
            + "\"seq\":5,\"updatedAt\":\"2026-11-03T10:15:30Z\"}";
    return Stream.of(
        Arguments.of("empty file", "", "the file is empty"),
        Arguments.of("only whitespace", "  \n ", "does not hold a JSON object"),
        Arguments.of("a JSON array", "[1,2]", "does not hold a JSON object"),
        Arguments.of("truncated", valid.substring(0, 30), "not valid JSON"),
        Arguments.of("trailing garbage", valid + "}x", "not valid JSON"),
        Arguments.of("not JSON at all", "seq=5", "not valid JSON"),
        Arguments.of(
            "wrong peer inside",
            valid.replace("site-b", "site-x"),
            "holds the watermark of peer 'site-x'"),
        Arguments.of("missing seq", valid.replace("\"seq\":5,", ""), "'seq' is missing"),
        Arguments.of("fractional seq", valid.replace(":5,", ":5.5,"), "'seq' is missing"),
        Arguments.of("negative seq", valid.replace(":5,", ":-5,"), "'seq' is negative"),
        Arguments.of(
            "seq beyond long", valid.replace(":5,", ":99999999999999999999,"), "'seq' is missing"),
        Arguments.of("missing log id", valid.replace("\"peerLogId\":\"l\",", ""), "'peerLogId'"),
        Arguments.of(
            "bad timestamp",
            valid.replace("2026-11-03T10:15:30Z", "yesterday"),
            "'updatedAt' is not an ISO-8601 instant"),
        Arguments.of(
            "duplicate field",
            valid.replace("\"seq\":5,", "\"seq\":5,\"seq\":6,"),
            "not valid JSON"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unusableContents")
  void unusableContentReadsAsZeroAndWarnsWithTheReason(
      String description, String content, String expectedReason) throws IOException {
    Path file = store.fileFor("site-b");
    Files.writeString(file, content);

    assertEquals(Watermark.zero("site-b"), store.read("site-b"));
    assertEquals(Map.of(), store.readAll());

    List<String> warnings = logs.messages(Level.WARN);
    assertEquals(2, warnings.size(), warnings.toString());
    for (String warning : warnings) {
      assertTrue(warning.contains(file.toString()), warning);
      assertTrue(warning.contains(expectedReason), warning);
      assertTrue(warning.contains("from seq 0"), warning);
    }
  }

  @Test
  void randomGarbageReadsAsZero() throws IOException {
    long seed = System.nanoTime();
    System.out.println("randomGarbageReadsAsZero seed=" + seed);
    SplittableRandom random = new SplittableRandom(seed);
    Path file = store.fileFor("site-b");
    for (int round = 0; round < 200; round++) {
      byte[] garbage = new byte[random.nextInt(1, 300)];
      random.nextBytes(garbage);
      Files.write(file, garbage);

      assertEquals(
          Watermark.zero("site-b"), store.read("site-b"), "reproduce with seed=" + seed);
    }
    assertEquals(200, logs.messages(Level.WARN).size(), "reproduce with seed=" + seed);
  }

  @Test
  void oversizeFileReadsAsZero() throws IOException {
    Path file = store.fileFor("site-b");
    Files.write(file, new byte[WatermarkFileFormat.MAX_FILE_BYTES + 10]);

    assertEquals(Watermark.zero("site-b"), store.read("site-b"));
    assertTrue(logs.messages(Level.WARN).get(0).contains("larger than"));
  }

  @Test
  void readAllSkipsUnusableFilesAndNamesTheirPeer() throws IOException {
    Watermark good = new Watermark("site-b", "log-1", 10, T1);
    store.write(good);
    store.write(new Watermark("site-c", "log-2", 20, T1));
    store.write(new Watermark("ünïcode/peer", "log-3", 30, T1));
    Files.writeString(store.fileFor("site-c"), "{");
    Files.writeString(store.fileFor("ünïcode/peer"), "");

    assertEquals(Map.of("site-b", good), store.readAll());

    List<String> warnings = logs.messages(Level.WARN);
    assertEquals(2, warnings.size(), warnings.toString());
    assertTrue(
        warnings.stream().anyMatch(w -> w.contains("re-sync peer 'site-c'")), warnings::toString);
    assertTrue(
        warnings.stream().anyMatch(w -> w.contains("re-sync peer 'ünïcode/peer'")),
        warnings::toString);
  }

  @Test
  void readAllRejectsAFileRenamedToAnotherPeer() throws IOException {
    store.write(new Watermark("site-b", "log-1", 10, T1));
    Files.move(store.fileFor("site-b"), store.fileFor("site-c"));

    assertEquals(Map.of(), store.readAll());
    assertTrue(logs.messages(Level.WARN).get(0).contains("whose file would be site-b.json"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "../../etc/passwd",
        "a/b",
        "a\\b",
        "..",
        ".",
        ".hidden",
        "~site",
        "C:",
        "a\u0000b",
        "site b",
        "站点-北京",
        "émoji-\uD83D\uDE00",
        "SITE-B",
        "x1234567890123456789012345678901234567890123456789012345678901234"
      })
  void unsafeIdsStayInsideTheDirectory(String peerId) throws IOException {
    Path file = store.fileFor(peerId);
    assertEquals(store.directory(), file.getParent());
    assertFalse(file.getFileName().toString().startsWith("."), file.toString());
    assertTrue(file.getFileName().toString().length() <= 255);

    Watermark written = new Watermark(peerId, "log-1", 99, T1);
    store.write(written);

    assertEquals(written, store.read(peerId));
    assertEquals(Map.of(peerId, written), store.readAll());
    assertEquals(List.of(file), filesUnder(dataDir));
  }

  @Test
  void veryLongIdsAreHashedIntoAShortName() {
    String longId = "p".repeat(10_000);
    String otherLongId = "p".repeat(9_999) + "q";
    Path file = store.fileFor(longId);

    assertTrue(file.getFileName().toString().startsWith("~~"), file.toString());
    assertTrue(file.getFileName().toString().length() < 100, file.toString());
    assertNotEquals(file, store.fileFor(otherLongId));

    Watermark written = new Watermark(longId, "log-1", 5, T1);
    store.write(written);
    assertEquals(written, store.read(longId));
    assertEquals(Watermark.zero(otherLongId), store.read(otherLongId));
  }

  @Test
  void distinctIdsGetDistinctFiles() {
    List<String> ids =
        List.of("a", "a.b", "a_b", "a-b", "~a", "..", "...", ".a", "a/b", "a\\b", "a b", "A");
    Set<Path> files = new HashSet<>();
    for (String id : ids) {
      assertTrue(files.add(store.fileFor(id)), "collision for " + id);
    }
  }

  @Test
  void emptyIdIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> store.read(""));
    assertThrows(IllegalArgumentException.class, () -> store.delete(""));
    assertThrows(IllegalArgumentException.class, () -> store.fileFor(""));
    assertThrows(IllegalArgumentException.class, () -> Watermark.zero(""));
  }

  @Test
  void watermarkRejectsNegativeSeq() {
    assertThrows(IllegalArgumentException.class, () -> new Watermark("a", "l", -1, T1));
  }

  @Test
  void leftoverTempFileIsIgnoredByReadsAndDeletedOnOpen() throws IOException {
    store.write(new Watermark("site-b", "log-1", 10, T1));
    Path leftover = store.directory().resolve(".site-b.json.12345.tmp");
    Files.writeString(leftover, "{\"peerId\":\"site-b\",\"peerLogId\":\"log-1\",\"se");

    assertEquals(10, store.read("site-b").seq());
    assertEquals(Set.of("site-b"), store.readAll().keySet());
    assertTrue(logs.messages(Level.WARN).isEmpty());

    try (WatermarkStore reopened = WatermarkStore.open(dataDir)) {
      assertFalse(Files.exists(leftover));
      assertEquals(10, reopened.read("site-b").seq());
    }
  }

  @Test
  void concurrentWritesForSeveralPeersAreAllReadable() throws Exception {
    int peers = 8;
    int writesPerThread = 100;
    // Two threads per peer, one writing even and one odd seqs, so writes for the same peer race
    // with each other as well as with the other peers'.
    ExecutorService pool = Executors.newFixedThreadPool(peers * 2);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (int p = 0; p < peers; p++) {
        String peerId = "peer-" + p;
        for (int parity = 0; parity < 2; parity++) {
          int first = parity;
          futures.add(
              pool.submit(
                  () -> {
                    start.await();
                    for (int i = 0; i < writesPerThread; i++) {
                      store.write(new Watermark(peerId, "log", first + 2L * i, T1));
                      Watermark read = store.read(peerId);
                      assertEquals(peerId, read.peerId());
                      assertFalse(read.isZero(), "a read saw no watermark after a write");
                    }
                    return null;
                  }));
        }
      }
      start.countDown();
      for (Future<?> future : futures) {
        future.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    Map<String, Watermark> all = store.readAll();
    assertEquals(peers, all.size());
    long lastEven = 2L * (writesPerThread - 1);
    for (int p = 0; p < peers; p++) {
      long seq = all.get("peer-" + p).seq();
      assertTrue(seq == lastEven || seq == lastEven + 1, "peer-" + p + " ended at " + seq);
    }
    assertTrue(logs.messages(Level.WARN).isEmpty(), logs.messages(Level.WARN)::toString);
    assertEquals(peers, filesUnder(dataDir).size(), "temp files were left behind");
  }

  @Test
  void readOfAnUnreadableFileThrowsNamingThePath() throws IOException {
    // A directory where the file should be gives a real I/O error even when tests run as root,
    // which a permission change would not.
    Path file = store.fileFor("site-b");
    Files.createDirectories(file.resolve("child"));

    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> store.read("site-b"));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void failedWriteThrowsNamingThePathAndLeavesNoTempFile() throws IOException {
    Path file = store.fileFor("site-b");
    Files.createDirectories(file.resolve("child"));

    UncheckedIOException e =
        assertThrows(
            UncheckedIOException.class,
            () -> store.write(new Watermark("site-b", "log-1", 1, T1)));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    try (Stream<Path> entries = Files.list(store.directory())) {
      assertEquals(List.of(file), entries.collect(Collectors.toList()));
    }
  }

  @Test
  void openFailsNamingThePathWhenTheDirectoryIsAFile() throws IOException {
    Path otherDataDir = dataDir.resolve("other");
    Files.createDirectories(otherDataDir);
    Files.writeString(otherDataDir.resolve(".watermarks"), "not a directory");

    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> WatermarkStore.open(otherDataDir));
    assertTrue(e.getMessage().contains(otherDataDir.resolve(".watermarks").toString()));
  }

  @Test
  void closedStoreRefusesCalls() {
    store.close();

    assertThrows(IllegalStateException.class, () -> store.read("site-b"));
    assertThrows(
        IllegalStateException.class, () -> store.write(new Watermark("site-b", "l", 1, T1)));
  }

  @Test
  void watermarkHelpers() {
    Watermark zero = Watermark.zero("site-b");
    assertEquals(new Watermark("site-b", "", 0, Instant.EPOCH), zero);
    assertTrue(zero.isZero());

    Watermark advanced = zero.advancedTo("log-1", 5, T1);
    assertEquals(new Watermark("site-b", "log-1", 5, T1), advanced);
    assertFalse(advanced.isZero());
    assertTrue(advanced.isForLog("log-1"));
    assertFalse(advanced.isForLog("log-2"));
    assertEquals(Watermark.NO_EPOCH, advanced.peerEpoch());
    assertEquals(new Watermark("site-b", "log-1", 6, T1, "e1"), advanced.advancedTo("log-1", 6, "e1", T1));
  }

  private static List<Path> filesUnder(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      return paths.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
    }
  }
}
