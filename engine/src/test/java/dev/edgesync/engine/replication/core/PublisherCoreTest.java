package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.engine.storage.ChangeBatch;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Ack;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.SubscriberMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The publisher's decisions, driven by hand with a fake time. */
class PublisherCoreTest {
  private static final String LOG = "log-a";
  private final Instant now = Instant.parse("2026-11-22T10:00:00Z");

  /** The publisher's log: epoch e1 holds seqs 1..10, e2 11..30, e3 (current) from 31. */
  private static String epochOf(long seq) {
    return seq <= 0 ? "" : seq <= 10 ? "e1" : seq <= 30 ? "e2" : "e3";
  }

  private PublisherCore core(int maxMessageBytes) {
    return new PublisherCore(
        "site-a", "prod", LOG, maxMessageBytes, Duration.ofSeconds(1), Duration.ofSeconds(5), now,
        PeerAdmission.OPEN, java.util.Optional.empty(), PublisherCoreTest::epochOf);
  }

  /** A Hello naming the epoch the publisher's log has {@code sinceSeq} in. */
  private static SubscriberMessage hello(String cluster, int version, String sinceLog, long sinceSeq) {
    return hello(cluster, version, sinceLog, sinceSeq, epochOf(sinceSeq));
  }

  private static SubscriberMessage hello(String cluster, int version, String sinceLog, long sinceSeq, String sinceEpoch) {
    return SubscriberMessage.newBuilder()
        .setHello(
            Hello.newBuilder()
                .setCluster(cluster)
                .setNodeId("site-b")
                .setProtocolVersion(version)
                .setSinceLogId(sinceLog)
                .setSinceSeq(sinceSeq)
                .setSinceEpoch(sinceEpoch))
        .build();
  }

  private static StoredEntry stored(long seq, int valueBytes) {
    return new StoredEntry(
        ("k" + seq).getBytes(StandardCharsets.UTF_8), new byte[valueBytes], false, new Version(Hlc.of(1_700_000_000_000L, 0), "site-a"), seq);
  }

  @Test
  void wrongClusterIsRefusedNamingBothClusters() {
    PublisherCore.HelloOutcome out = core(1 << 20).onFirstMessage(hello("staging", ProtocolVersion.CURRENT, "", 0), 0, now);
    assertEquals("wrong_cluster", out.metricReason());
    assertEquals(Refusal.Code.WRONG_CLUSTER, out.refusal().refusal());
    assertEquals(StreamStatus.Code.FAILED_PRECONDITION, out.refusal().code());
    assertTrue(out.refusal().message().contains("'staging'"), out.refusal().message());
    assertTrue(out.refusal().message().contains("'prod'"), out.refusal().message());
  }

  /** A Hello from a subscriber calling itself site-a (this node's id), its database created at {@code createdHlc}. */
  private static SubscriberMessage helloFromSiteA(long createdHlc) {
    return SubscriberMessage.newBuilder()
        .setHello(
            Hello.newBuilder().setCluster("prod").setNodeId("site-a").setProtocolVersion(ProtocolVersion.CURRENT).setCreatedHlc(createdHlc))
        .build();
  }

  @Test
  void aSubscriberWithThisNodesIdButAnotherDatabaseIsToldTwoNodesShareTheId() {
    dev.edgesync.engine.storage.GcState mine =
        new dev.edgesync.engine.storage.GcState(0, 0, Long.MAX_VALUE, 111, 0, 0, 0, 0, java.util.Map.of(), java.util.Set.of());
    SubscriberMessage twin = helloFromSiteA(222);
    PublisherCore.HelloOutcome out = core(1 << 20).onFirstMessage(twin, 0, mine, id -> false, id -> 0L, now);
    assertEquals("same_id", out.metricReason());
    assertTrue(out.refusal().message().contains("another node also uses the id 'site-a'"), out.refusal().message());
    SubscriberMessage self = helloFromSiteA(111);
    PublisherCore.HelloOutcome itself = core(1 << 20).onFirstMessage(self, 0, mine, id -> false, id -> 0L, now);
    assertEquals("self", itself.metricReason());
    assertTrue(itself.refusal().message().contains("remove it from its own peer list"), itself.refusal().message());
  }

  @Test
  void otherProtocolVersionIsRefused() {
    PublisherCore.HelloOutcome out = core(1 << 20).onFirstMessage(hello("prod", 99, "", 0), 0, now);
    assertEquals("protocol_version", out.metricReason());
    assertEquals(Refusal.Code.PROTOCOL_VERSION, out.refusal().refusal());
    assertTrue(out.refusal().message().contains("99"), out.refusal().message());
  }

  /** A Hello offering versions {@code min..max}; min 0 is a build before negotiation. */
  private static SubscriberMessage helloSpeaking(int min, int max) {
    SubscriberMessage h = hello("prod", max, "", 0);
    return h.toBuilder().setHello(h.getHello().toBuilder().setMinProtocolVersion(min)).build();
  }

  @Test
  void theWelcomeNamesTheNewestVersionBothSpeak() {
    assertEquals(2, core(1 << 20).onFirstMessage(helloSpeaking(1, 2), 0, now).welcome().getProtocolVersion());
    assertEquals(1, core(1 << 20).onFirstMessage(helloSpeaking(0, 1), 0, now).welcome().getProtocolVersion(),
        "a build before negotiation speaks only its own version, and is answered in it");
    assertEquals(2, core(1 << 20).onFirstMessage(helloSpeaking(1, 7), 0, now).welcome().getProtocolVersion(),
        "a newer build that still speaks this one's version");
    PublisherCore capped = core(1 << 20).maxProtocolVersion(1);
    assertEquals(1, capped.onFirstMessage(helloSpeaking(1, 2), 0, now).welcome().getProtocolVersion());
    assertEquals(1, capped.protocolVersion());
  }

  @Test
  void rangesThatDoNotMeetAreRefusedNamingBoth() {
    PublisherCore.HelloOutcome newer = core(1 << 20).onFirstMessage(helloSpeaking(3, 4), 0, now);
    assertEquals("protocol_version", newer.metricReason());
    assertTrue(newer.refusal().message().contains("versions 3..4") && newer.refusal().message().contains("speaks 1..2"),
        newer.refusal().message());
    PublisherCore.HelloOutcome older = core(1 << 20).maxProtocolVersion(1).onFirstMessage(helloSpeaking(2, 2), 0, now);
    assertEquals(Refusal.Code.PROTOCOL_VERSION, older.refusal().refusal());
    assertTrue(older.refusal().message().contains("upgrade the older"), older.refusal().message());
  }

  private static StoredEntry expiring(long seq) {
    StoredEntry e = stored(seq, 10);
    return new StoredEntry(e.key(), e.value(), false, e.version(), seq, e.version().hlc() + Hlc.of(60_000, 0));
  }

  @Test
  void aVersion1StreamSendsEverythingBeforeAnExpiringEntryThenStopsAtIt() throws Exception {
    PublisherCore core = core(1 << 20);
    core.onFirstMessage(helloSpeaking(0, 1), 10, now);
    Batch first = core.nextBatch(new ChangeBatch(List.of(stored(1, 10), stored(2, 10), expiring(3), stored(4, 10)), 4, 4))
        .message().getBatch();
    assertEquals(2, first.getEntriesCount());
    assertEquals(2, first.getLastSeq(), "the batch ends before the entry version 1 cannot carry");
    assertEquals(2, core.cursor());
    UnsendableEntryException stop =
        assertThrows(
            UnsendableEntryException.class,
            () -> core.nextBatch(new ChangeBatch(List.of(expiring(3), stored(4, 10)), 4, 4)));
    assertEquals("protocol_version", stop.reason());
    assertEquals(StreamStatus.Code.FAILED_PRECONDITION, stop.status());
    assertTrue(stop.getMessage().contains("node 'site-b' offered at most version 1") && stop.getMessage().contains("upgrade it"),
        stop.getMessage());
    assertEquals(2, core.cursor(), "nothing is skipped: the stream resumes from the expiring entry");

    java.util.ArrayDeque<StoredEntry> repair = new java.util.ArrayDeque<>(List.of(stored(5, 10), expiring(6)));
    assertEquals(1, core.repairBatch(repair, 100).entries());
    assertThrows(UnsendableEntryException.class, () -> core.repairBatch(repair, 100));

    // Capped itself: the message names this node's own setting, not the subscriber.
    PublisherCore capped = core(1 << 20).maxProtocolVersion(1);
    capped.onFirstMessage(helloSpeaking(1, 2), 10, now);
    UnsendableEntryException own =
        assertThrows(UnsendableEntryException.class, () -> capped.nextBatch(new ChangeBatch(List.of(expiring(3)), 3, 3)));
    assertTrue(own.getMessage().contains("node 'site-a' itself is capped at version 1"), own.getMessage());

    PublisherCore v2 = core(1 << 20);
    v2.onFirstMessage(helloSpeaking(1, 2), 10, now);
    Batch all = v2.nextBatch(new ChangeBatch(List.of(stored(1, 10), expiring(3)), 3, 3)).message().getBatch();
    assertEquals(2, all.getEntriesCount());
    assertTrue(all.getEntries(1).getExpiresHlc() > 0);
  }

  @Test
  void firstMessageMustBeHello() {
    PublisherCore.HelloOutcome out =
        core(1 << 20).onFirstMessage(SubscriberMessage.newBuilder().setAck(Ack.newBuilder().setSeq(3)).build(), 0, now);
    assertEquals("protocol_error", out.metricReason());
  }

  @Test
  void startsAfterTheWatermarkOfItsOwnLogElseFromZero() {
    assertEquals(17, core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 17), 40, now).welcome().getStartSeq());
    PublisherCore.HelloOutcome other = core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, "log-old", 17), 40, now);
    assertEquals(0, other.welcome().getStartSeq());
    assertEquals(LOG, other.welcome().getLogId());
    assertEquals(40, other.welcome().getHeadSeq());
    PublisherCore.HelloOutcome beyond = core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 99), 40, now);
    assertEquals(0, beyond.welcome().getStartSeq(), "a claim beyond the head is not trusted");
    assertNotNull(beyond.note());
  }

  @Test
  void resumesOnlyFromASeqInTheEpochTheSubscriberNames() throws Exception {
    PublisherCore.HelloOutcome same = core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 17, "e2"), 40, now);
    assertEquals(17, same.welcome().getStartSeq(), "same log, seq still in epoch e2");
    assertEquals("e2", same.welcome().getStartEpoch());
    assertNull(same.note());
    // Boundaries: the last seq of e1 and the first of e3.
    assertEquals(10, core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 10, "e1"), 40, now).welcome().getStartSeq());
    assertEquals(31, core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 31, "e3"), 40, now).welcome().getStartSeq());

    // Seq 25 was issued in an epoch this log no longer has (restored from a copy whose head was
    // below 25, which then issued 25 again in e2).
    PublisherCore.HelloOutcome lost = core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 25, "e-lost"), 40, now);
    assertEquals(0, lost.welcome().getStartSeq());
    assertEquals("", lost.welcome().getStartEpoch());
    assertTrue(lost.note().contains("seq 25 of epoch e-lost which this log no longer has"), lost.note());
    // A seq named with the epoch of a neighbouring range is just as unknown.
    assertEquals(0, core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 11, "e1"), 40, now).welcome().getStartSeq());

    // No epoch at all (a watermark from before epochs): from 0, safely.
    PublisherCore.HelloOutcome none = core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 17, ""), 40, now);
    assertEquals(0, none.welcome().getStartSeq());
    assertNotNull(none.note());
    // Seq 0 needs no epoch.
    assertNull(core(1 << 20).onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 0, ""), 40, now).note());
  }

  @Test
  void batchesNameTheEpochOfTheirLastSeq() throws Exception {
    PublisherCore core = core(1 << 20);
    core.onFirstMessage(hello("prod", ProtocolVersion.CURRENT, LOG, 8, "e1"), 40, now);
    Batch b = core.nextBatch(new ChangeBatch(List.of(stored(9, 10), stored(12, 10)), 12, 40)).message().getBatch();
    assertEquals(12, b.getLastSeq());
    assertEquals("e2", b.getLastSeqEpoch());
    Batch empty = core.nextBatch(new ChangeBatch(List.of(), 35, 40)).message().getBatch();
    assertEquals("e3", empty.getLastSeqEpoch(), "a batch of compacted-away rows names its epoch too");
  }

  @Test
  void batchesAreCutToTheMessageLimitAndCoverEverySeq() throws Exception {
    PublisherCore core = core(4096);
    core.onFirstMessage(hello("prod", ProtocolVersion.CURRENT, "", 0), 10, now);
    List<StoredEntry> read = new ArrayList<>();
    for (long seq = 1; seq <= 10; seq++) {
      read.add(stored(seq * 2, 1000));
    }
    PublisherCore.Outgoing first = core.nextBatch(new ChangeBatch(read, 20, 20));
    Batch b = first.message().getBatch();
    assertTrue(first.entries() < 10 && first.entries() > 0, "cut: " + first.entries());
    assertTrue(first.message().getSerializedSize() <= 4096);
    assertEquals(b.getEntries(b.getEntriesCount() - 1).getSeq(), b.getLastSeq(), "ends at the last entry sent");
    assertEquals(b.getLastSeq(), core.cursor());
    assertEquals(20, b.getHeadSeq());
  }

  @Test
  void batchesAreCutToTheSubscribersLimitWhenItIsSmaller() throws Exception {
    PublisherCore core = core(1 << 20);
    SubscriberMessage hello = hello("prod", ProtocolVersion.CURRENT, "", 0);
    hello = hello.toBuilder().setHello(hello.getHello().toBuilder().setMaxMessageBytes(4096)).build();
    core.onFirstMessage(hello, 10, now);
    List<StoredEntry> read = new ArrayList<>();
    for (long seq = 1; seq <= 10; seq++) {
      read.add(stored(seq, 1000));
    }
    PublisherCore.Outgoing first = core.nextBatch(new ChangeBatch(read, 10, 10));
    assertTrue(first.entries() < 10 && first.entries() > 0, "cut to the subscriber's 4096 bytes: " + first.entries());
    assertTrue(first.message().getSerializedSize() <= 4096);

    UnsendableEntryException e =
        assertThrows(
            UnsendableEntryException.class,
            () -> core.nextBatch(new ChangeBatch(List.of(stored(11, 5000)), 11, 11)));
    assertTrue(e.getMessage().contains("node 'site-b'"), "names the subscriber whose limit it is: " + e.getMessage());
  }

  @Test
  void aLargerLimitOfTheSubscriberDoesNotRaiseThePublishersOwn() throws Exception {
    PublisherCore core = core(4096);
    SubscriberMessage hello = hello("prod", ProtocolVersion.CURRENT, "", 0);
    hello = hello.toBuilder().setHello(hello.getHello().toBuilder().setMaxMessageBytes(16 << 20)).build();
    core.onFirstMessage(hello, 10, now);
    List<StoredEntry> read = new ArrayList<>();
    for (long seq = 1; seq <= 10; seq++) {
      read.add(stored(seq, 1000));
    }
    assertTrue(core.nextBatch(new ChangeBatch(read, 10, 10)).message().getSerializedSize() <= 4096);
  }

  @Test
  void nothingToSendWhenCaughtUpAndOneOversizeEntryIsAClearError() throws Exception {
    PublisherCore core = core(2048);
    core.onFirstMessage(hello("prod", ProtocolVersion.CURRENT, "", 0), 0, now);
    assertNull(core.nextBatch(new ChangeBatch(List.of(), 0, 0)));
    UnsendableEntryException e =
        assertThrows(
            UnsendableEntryException.class,
            () -> core.nextBatch(new ChangeBatch(List.of(stored(1, 4000)), 1, 1)));
    assertTrue(e.getMessage().contains("maxInboundMessageBytes"), e.getMessage());
  }

  @Test
  void ackBeyondWhatWasSentIsAProtocolError() throws Exception {
    PublisherCore core = core(1 << 20);
    core.onFirstMessage(hello("prod", ProtocolVersion.CURRENT, "", 0), 5, now);
    core.nextBatch(new ChangeBatch(List.of(stored(5, 10)), 5, 5));
    assertEquals(5, core.onMessage(ack(5), now).ackedSeq());
    assertEquals(-1, core.onMessage(ack(4), now).ackedSeq(), "an older ack changes nothing");
    assertEquals("protocol", core.onMessage(ack(6), now).failure().kind());
  }

  @Test
  void silentSubscriberTimesOut() {
    PublisherCore core = core(1 << 20);
    core.onFirstMessage(hello("prod", ProtocolVersion.CURRENT, "", 0), 0, now);
    assertTrue(core.tick(now.plusSeconds(1)).heartbeat());
    assertNull(core.tick(now.plusSeconds(4)).timeout());
    core.onMessage(ack(0), now.plusSeconds(4));
    assertNull(core.tick(now.plusSeconds(8)).timeout());
    PublisherCore.Tick t = core.tick(now.plusSeconds(9));
    assertNotNull(t.timeout());
    assertFalse(t.heartbeat());
    assertTrue(t.timeout().message().contains("site-b"), t.timeout().message());
  }

  private static SubscriberMessage ack(long seq) {
    return SubscriberMessage.newBuilder().setAck(Ack.newBuilder().setSeq(seq)).build();
  }
}
