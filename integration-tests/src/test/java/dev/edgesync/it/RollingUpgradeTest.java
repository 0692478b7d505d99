package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.edgesync.proto.Batch;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.PublisherMessage;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.Welcome;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sites upgraded one at a time: a node of this build syncs both ways with one that speaks the
 * previous replication protocol version, both a node of this build capped with {@code
 * replication.maxProtocolVersion: 1} and a frozen speaker of the build before negotiation (which
 * refuses every version but 1).
 * An expiring value, which version 1 cannot carry, holds the old site's link at that entry with
 * an error naming the fix, and reaches it, with everything after it, once the site is upgraded.
 */
class RollingUpgradeTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  @Test
  void aSiteOfThePreviousProtocolSyncsBothWaysUntilItIsUpgraded() {
    try (Cluster c = cleanup.newCluster("upgrade", false)) {
      c.add("upgraded");
      c.add("old", spec -> spec.replication.put("maxProtocolVersion", "1"));
      c.connect("upgraded", "old").startAll();
      NodeClient upgraded = c.node("upgraded").http();
      NodeClient old = c.node("old").http();

      // Both ways at version 1: puts and deletes from each side.
      AckedWrites acked = new AckedWrites();
      for (int i = 0; i < 100; i++) {
        acked.add(upgraded.put("from-upgraded/" + i, "u" + i));
        acked.add(old.put("from-old/" + i, "o" + i));
      }
      acked.add(upgraded.delete("from-old/7"));
      acked.add(old.delete("from-upgraded/8"));
      Map<String, JsonNode> state = c.awaitConverged();
      acked.assertHeldBy("both sites", state);
      for (String id : List.of("upgraded", "old")) {
        String other = id.equals("old") ? "upgraded" : "old";
        assertEquals(1, c.node(id).http().statusJson().path("peers").get(0).path("protocolVersion").asInt(),
            id + " speaks version 1 with " + other);
      }

      // The old site refuses a ttl itself, naming the setting.
      NodeClient.Response refused = old.send("PUT", "/kv/lease?ttl=30s", "x");
      assertEquals(400, refused.status(), refused.body());
      assertTrue(refused.body().contains("replication.maxProtocolVersion"), refused.body());

      // An expiring value written on the upgraded site: the old site's link waits at it, with an
      // error that names the cause and the fix; what comes after it waits too, nothing is skipped.
      upgraded.send("PUT", "/kv/session?ttl=1h", "s");
      acked.add(upgraded.put("after-session", "a"));
      Status held =
          c.awaitStatus("old", "the link to the upgraded site waits at the expiring entry", Duration.ofSeconds(30),
              s -> {
                String e = s.peer("upgraded").lastError();
                return e != null && e.contains("cannot carry") && e.contains("upgrade it");
              });
      System.out.println("old site's error: " + held.peer("upgraded").lastError());
      assertTrue(old.get("session").isEmpty(), "version 1 never carries an expiring value without its expiry");
      assertTrue(old.get("after-session").isEmpty(), "the stream resumes at the expiring entry, not after it");
      // The other direction goes on.
      acked.add(old.put("from-old/while-held", "w"));
      await("the upgraded site still receives from the old one")
          .atMost(Duration.ofSeconds(30))
          .until(() -> upgraded.get("from-old/while-held").isPresent());

      // The old site is upgraded (restarted without the cap): it receives the value with its
      // expiry and everything after it, and both sides speak version 2.
      assertEquals(0, c.node("old").terminate(), "exit code of SIGTERM");
      c.node("old").spec.replication.remove("maxProtocolVersion");
      c.node("old").start();
      state = c.awaitConverged();
      Map<String, JsonNode> withoutSession = new java.util.TreeMap<>(state);
      withoutSession.remove("session");
      acked.assertHeldBy("both sites", withoutSession);
      assertEquals("s", old.get("session").orElseThrow());
      assertEquals("a", old.get("after-session").orElseThrow());
      assertFalse(state.get("session").path("expiresAt").isMissingNode(), "the expiry arrived: " + state.get("session"));
      for (String id : List.of("upgraded", "old")) {
        String peer = id.equals("old") ? "upgraded" : "old";
        await(id + " speaks version 2 with " + peer)
            .atMost(Duration.ofSeconds(30))
            .until(() -> c.node(id).http().statusJson().path("peers").get(0).path("protocolVersion").asInt() == 2);
      }
    }
  }

  /**
   * The build before negotiation, as a fake peer: it refuses any Hello but version 1 (sending no
   * minimum of its own) and answers version 1 with a Welcome and one entry.
   */
  @Test
  void aNodeSyncsBothWaysWithASpeakerOfTheBuildBeforeNegotiation() {
    FakePeer old =
        cleanup.track(
            new FakePeer(
                (hello, out) -> {
                  if (hello.getProtocolVersion() != 1) {
                    out.onNext(
                        PublisherMessage.newBuilder()
                            .setRefusal(
                                Refusal.newBuilder()
                                    .setCode(Refusal.Code.PROTOCOL_VERSION)
                                    .setMessage("node '" + hello.getNodeId() + "' speaks replication protocol version "
                                        + hello.getProtocolVersion() + " but node 'old' speaks 1: run the same edgesync version on both"))
                            .build());
                    out.onError(io.grpc.Status.FAILED_PRECONDITION.withDescription("protocol version").asRuntimeException());
                    return;
                  }
                  out.onNext(
                      PublisherMessage.newBuilder()
                          .setWelcome(Welcome.newBuilder().setNodeId("old").setLogId("log-of-old").setHeadSeq(1).setProtocolVersion(1).setStartSeq(0))
                          .build());
                  out.onNext(
                      PublisherMessage.newBuilder()
                          .setBatch(Batch.newBuilder().addEntries(FakePeer.entry("from-old", "o", FakePeer.hlcNow(), "old", 1)).setLastSeq(1).setHeadSeq(1))
                          .build());
                }));
    try (Cluster c = cleanup.newCluster("old-build", false)) {
      c.add("upgraded", spec -> spec.peer("old", old.address()));
      c.startAll();
      NodeClient upgraded = c.node("upgraded").http();
      await("the upgraded node pulls from the old build at version 1")
          .atMost(Duration.ofSeconds(30))
          .until(() -> upgraded.get("from-old").isPresent());
      assertEquals(2, old.hellos.get(0).getProtocolVersion(), "it offers its newest version first");
      assertEquals(1, old.hellos.get(0).getMinProtocolVersion());
      assertTrue(old.hellos.stream().anyMatch(h -> h.getProtocolVersion() == 1), "then version 1: " + old.hellos);
      assertEquals(1, upgraded.statusJson().path("peers").get(0).path("protocolVersion").asInt());

      // The other way: the old build subscribes with a Hello of version 1 and no minimum.
      FakePeer.Answer answer =
          FakePeer.probe(
              c.node("upgraded").grpcAddress(),
              Hello.newBuilder().setCluster("it").setNodeId("old").setProtocolVersion(1).build());
      assertTrue(answer.message() != null && answer.message().hasWelcome(), answer.describe());
      assertEquals(1, answer.message().getWelcome().getProtocolVersion(), "answered in the old build's version");
    }
  }
}
