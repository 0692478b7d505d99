package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Entry;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.Welcome;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Input a node must refuse, from real processes and from a fake peer speaking the wire protocol:
 * a peer of another cluster, another protocol version, a batch holding an entry with a wrong
 * CRC32C, an entry stamped beyond {@code maxClockSkew}. Each is refused with an error that names the cause, nothing of it is applied, and the
 * node keeps syncing with its good peer.
 *
 * <p>One cluster for the class: node {@code a} has a good peer {@code b}, a peer {@code x} of
 * cluster {@code other}, and three fake publishers, {@code evil-crc}, {@code evil-version} and
 * {@code evil-future}.
 */
class RefusedPeerInputTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  static final Duration BOUND = Duration.ofSeconds(30);
  static Cluster c;
  static FakePeer evilCrc;
  static FakePeer evilVersion;
  static FakePeer evilFuture;

  @BeforeAll
  static void startCluster() {
    // evil-crc sends a batch of three entries whose last one has a wrong checksum.
    evilCrc =
        cleanup.track(
            new FakePeer(
                (hello, out) -> {
                  long hlc = FakePeer.hlcNow();
                  Entry good1 = FakePeer.entry("evil-crc/1", "v1", hlc, "evil-crc", 1);
                  Entry good2 = FakePeer.entry("evil-crc/2", "v2", hlc + 1, "evil-crc", 2);
                  Entry bad = FakePeer.entry("evil-crc/3", "v3", hlc + 2, "evil-crc", 3);
                  bad = bad.toBuilder().setCrc32C(bad.getCrc32C() ^ 0x5a5a5a5a).build();
                  out.onNext(welcome("evil-crc", ProtocolVersion.CURRENT, hello.getSinceSeq()));
                  out.onNext(PublisherMessage.newBuilder().setBatch(Batch.newBuilder().addAllEntries(List.of(good1, good2, bad)).setLastSeq(3).setHeadSeq(3)).build());
                }));
    // evil-version answers with a protocol version no build speaks, then a valid batch.
    evilVersion =
        cleanup.track(
            new FakePeer(
                (hello, out) -> {
                  out.onNext(welcome("evil-version", 999, hello.getSinceSeq()));
                  Entry e = FakePeer.entry("evil-version/1", "v1", FakePeer.hlcNow(), "evil-version", 1);
                  out.onNext(PublisherMessage.newBuilder().setBatch(Batch.newBuilder().addEntries(e).setLastSeq(1).setHeadSeq(1)).build());
                }));
    // evil-future sends a well-formed entry stamped ten minutes ahead (maxClockSkew is 60 s).
    evilFuture =
        cleanup.track(
            new FakePeer(
                (hello, out) -> {
                  long future = (System.currentTimeMillis() + Duration.ofMinutes(10).toMillis()) << 16;
                  out.onNext(welcome("evil-future", ProtocolVersion.CURRENT, hello.getSinceSeq()));
                  out.onNext(PublisherMessage.newBuilder().setBatch(Batch.newBuilder().addEntries(FakePeer.entry("evil-future/1", "v1", future, "evil-future", 1)).setLastSeq(1).setHeadSeq(1)).build());
                }));
    c = cleanup.newCluster("refused", false);
    c.add("a");
    c.add("b");
    c.add("x", s -> s.cluster = "other");
    c.connect("a", "b").connect("a", "x");
    c.node("a").spec.peer("evil-crc", evilCrc.address()).peer("evil-version", evilVersion.address()).peer("evil-future", evilFuture.address());
    // A peer entry whose address is another node's: b answers as 'b', not 'impostor'.
    c.node("a").spec.peer("impostor", c.node("b").grpcAddress());
    c.startAll();
    // x holds data of its own cluster, which must never reach a.
    c.node("x").http().bulk(Data.keys("x/", 20, "other-cluster"));
  }

  private static PublisherMessage welcome(String id, int protocolVersion, long startSeq) {
    return PublisherMessage.newBuilder()
        .setWelcome(Welcome.newBuilder().setNodeId(id).setLogId("log-of-" + id).setHeadSeq(3).setProtocolVersion(protocolVersion).setStartSeq(startSeq))
        .build();
  }

  private static Status.Peer awaitLastError(String node, String peer, String... words) {
    Status s =
        c.awaitStatus(
            node,
            "reporting a lastError about " + peer + " that mentions " + List.of(words),
            BOUND,
            st -> {
              String e = st.peer(peer).lastError();
              if (e == null) {
                return false;
              }
              String lower = e.toLowerCase(Locale.ROOT);
              for (String w : words) {
                if (!lower.contains(w)) {
                  return false;
                }
              }
              return true;
            });
    return s.peer(peer);
  }

  /** The sum of {@code edgesync_replication_errors_total{peer=...,kind=...}} over kinds, from a's /metrics. */
  private static double errorsCounted(String peer) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(?m)^edgesync_replication_errors_total\\{([^}]*)} (\\S+)$").matcher(c.node("a").http().metrics());
    double sum = 0;
    while (m.find()) {
      if (m.group(1).contains("peer=\"" + peer + "\"") && m.group(1).contains("kind=\"")) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }

  private static void assertErrorsCounted(String peer) {
    double n = errorsCounted(peer);
    assertTrue(n >= 1, "a's /metrics counts the refusals of " + peer + " in edgesync_replication_errors_total{peer,kind}: " + n);
  }

  /** Nothing refused reached a: a equals b (which has no bad peer) and holds none of the bad keys. */
  private static void assertNothingRefusedApplied() {
    AckedWrites acked = new AckedWrites();
    acked.add(c.node("b").http().put("good/from-b-" + System.nanoTime(), "good"));
    c.awaitConverged(Cluster.CONVERGENCE, List.of("a", "b"));
    NodeClient a = c.node("a").http();
    for (String key : List.of("evil-crc/1", "evil-crc/2", "evil-crc/3", "evil-version/1", "evil-future/1", "x/00000")) {
      assertEquals(Optional.empty(), a.get(key), "refused entry " + key + " must not be on a");
    }
    assertTrue(a.statusJson().path("state").asText().equals("RUNNING"), "a keeps running");
  }

  @Test
  void peerOfAnotherClusterIsRefusedOnBothSides() {
    Status.Peer aSide = awaitLastError("a", "x", "cluster");
    Status.Peer xSide = awaitLastError("x", "a", "cluster");
    assertErrorsCounted("x");
    assertTrue(!aSide.connected() && !xSide.connected(), "neither side counts the other as connected");
    assertEquals(0, aSide.entriesApplied(), "a applied nothing from x");
    assertEquals(0, xSide.entriesApplied(), "x applied nothing from a");
    assertNothingRefusedApplied();
  }

  @Test
  void entryWithWrongChecksumRejectsItsWholeBatch() {
    Status.Peer p = awaitLastError("a", "evil-crc", "crc");
    assertErrorsCounted("evil-crc");
    assertEquals(0, p.entriesApplied(), "no entry of the corrupt batch is applied: " + p);
    assertEquals(0, p.watermark(), "the watermark does not advance past a rejected batch");
    // a reconnects and asks again from where it was: nothing of the batch was taken as applied.
    org.awaitility.Awaitility.await("a resubscribes to evil-crc").atMost(BOUND).until(() -> evilCrc.hellos.size() >= 2);
    for (Hello h : evilCrc.hellos) {
      assertEquals(0, h.getSinceSeq(), "a resumes from seq 0 after the rejected batch: " + h);
    }
    assertNothingRefusedApplied();
  }

  @Test
  void publisherSpeakingAnotherProtocolVersionIsRefused() {
    Status.Peer p = awaitLastError("a", "evil-version", "protocol", "999");
    assertErrorsCounted("evil-version");
    assertEquals(0, p.entriesApplied(), "nothing is applied from a publisher of another version: " + p);
    assertNothingRefusedApplied();
  }

  @Test
  void entryStampedBeyondMaxClockSkewIsRefused() {
    Status.Peer p = awaitLastError("a", "evil-future", "skew");
    assertErrorsCounted("evil-future");
    assertEquals(0, p.entriesApplied(), "nothing is applied from a peer whose clock is too far ahead: " + p);
    assertEquals(0, p.watermark(), "the watermark does not advance past a refused batch: " + p);
    assertNothingRefusedApplied();
  }

  @Test
  void peerAnsweringUnderAnotherIdIsRefused() {
    Status.Peer p = awaitLastError("a", "impostor", "'b'");
    assertEquals(0, p.entriesApplied(), "nothing is taken from a node that is not the configured peer: " + p);
    assertErrorsCounted("impostor");
    assertNothingRefusedApplied();
  }

  @Test
  void subscriberClaimingTheNodesOwnIdIsRefused() {
    FakePeer.Answer answer =
        FakePeer.probe(
            c.node("a").grpcAddress(),
            Hello.newBuilder().setCluster("it").setNodeId("a").setProtocolVersion(ProtocolVersion.CURRENT).build());
    assertTrue(answer.message() == null || answer.message().hasRefusal(), "a must refuse a subscriber that claims to be a: " + answer.describe());
  }

  @Test
  void subscriberSpeakingAnotherProtocolVersionIsRefused() {
    FakePeer.Answer answer =
        FakePeer.probe(
            c.node("a").grpcAddress(),
            Hello.newBuilder().setCluster("it").setNodeId("probe").setProtocolVersion(999).build());
    String text = answer.describe().toLowerCase(Locale.ROOT);
    assertTrue(answer.message() == null || answer.message().hasRefusal(), "a must refuse, not welcome, a subscriber of version 999: " + answer.describe());
    if (answer.message() != null) {
      assertEquals(dev.edgesync.proto.Refusal.Code.PROTOCOL_VERSION, answer.message().getRefusal().getCode(), answer.describe());
    }
    assertTrue(text.contains("protocol") && text.contains("999"), "the refusal names the protocol version: " + answer.describe());
  }

  @Test
  void subscriberOfAnotherClusterIsRefused() {
    FakePeer.Answer answer =
        FakePeer.probe(
            c.node("a").grpcAddress(),
            Hello.newBuilder().setCluster("not-it").setNodeId("probe").setProtocolVersion(ProtocolVersion.CURRENT).build());
    assertTrue(answer.message() == null || answer.message().hasRefusal(), "a must refuse a subscriber of cluster not-it: " + answer.describe());
    if (answer.message() != null) {
      assertEquals(dev.edgesync.proto.Refusal.Code.WRONG_CLUSTER, answer.message().getRefusal().getCode(), answer.describe());
    }
    assertTrue(answer.describe().contains("not-it"), "the refusal names the cluster: " + answer.describe());
  }
}
