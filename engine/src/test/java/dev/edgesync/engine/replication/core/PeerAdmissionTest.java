package dev.edgesync.engine.replication.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.replication.wire.ProtocolVersion;
import dev.edgesync.engine.replication.wire.StreamStatus;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.Refusal;
import dev.edgesync.proto.SubscriberMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Identity check (certificate names vs the Hello's node id) and allowlist, alone and in the publisher's core. */
class PeerAdmissionTest {
  private final Instant now = Instant.parse("2026-11-22T10:00:00Z");

  @Test
  void withoutCertificatesOrAllowlistEveryoneIsAdmitted() {
    assertNull(PeerAdmission.OPEN.check("site-a", "anyone", Optional.empty()));
  }

  @Test
  void helloMustNameANodeTheCertificateNames() {
    assertNull(PeerAdmission.OPEN.check("site-a", "site-b", Optional.of(Set.of("site-b"))));
    assertNull(PeerAdmission.OPEN.check("site-a", "site-b", Optional.of(Set.of("site-b", "site-b.example"))));
    Failure f = PeerAdmission.OPEN.check("site-a", "site-c", Optional.of(Set.of("site-b")));
    assertEquals("identity_mismatch", f.kind());
    assertEquals(Refusal.Code.NOT_ALLOWED, f.refusal());
    assertEquals(StreamStatus.Code.PERMISSION_DENIED, f.code());
    assertTrue(f.message().contains("'site-c'") && f.message().contains("[site-b]"), f.message());
    // Names compare exactly: a DNS-style case change is another node id.
    assertEquals("identity_mismatch", PeerAdmission.OPEN.check("site-a", "Site-B", Optional.of(Set.of("site-b"))).kind());
  }

  @Test
  void aCertificateThatNamesNobodyAdmitsNobody() {
    Failure f = PeerAdmission.OPEN.check("site-a", "site-b", Optional.of(Set.of()));
    assertEquals("identity_mismatch", f.kind());
    assertTrue(f.message().contains("names no node"), f.message());
  }

  @Test
  void allowlistAdmitsOnlyItsIds() {
    PeerAdmission a = new PeerAdmission(Set.of("site-b"));
    assertNull(a.check("site-a", "site-b", Optional.empty()));
    Failure f = a.check("site-a", "site-x", Optional.empty());
    assertEquals("not_allowed", f.kind());
    assertEquals(StreamStatus.Code.PERMISSION_DENIED, f.code());
    assertTrue(f.message().contains("security.allowedPeers"), f.message());
    // Identity is checked first: a stranger with someone else's id learns nothing about the list.
    assertEquals("identity_mismatch", a.check("site-a", "site-b", Optional.of(Set.of("site-x"))).kind());
  }

  @Test
  void publisherRefusesBeforeRevealingItsClusterOrVersion() {
    PublisherCore core =
        new PublisherCore(
            "site-a", "prod", "log-a", 1 << 20, Duration.ofSeconds(1), Duration.ofSeconds(5), now,
            new PeerAdmission(Set.of("site-b")), Optional.of(Set.of("site-c")), seq -> "");
    SubscriberMessage hello =
        SubscriberMessage.newBuilder()
            .setHello(Hello.newBuilder().setCluster("other").setNodeId("site-c").setProtocolVersion(99))
            .build();
    PublisherCore.HelloOutcome out = core.onFirstMessage(hello, 0, now);
    assertEquals("not_allowed", out.metricReason());
    assertTrue(!out.refusal().message().contains("prod"), "a refused stranger is not told the cluster: " + out.refusal().message());
    assertEquals(false, core.accepted());
  }

  @Test
  void publisherWelcomesTheNodeItsCertificateNames() {
    PublisherCore core =
        new PublisherCore(
            "site-a", "prod", "log-a", 1 << 20, Duration.ofSeconds(1), Duration.ofSeconds(5), now,
            new PeerAdmission(Set.of("site-b")), Optional.of(Set.of("site-b")), seq -> "");
    SubscriberMessage hello =
        SubscriberMessage.newBuilder()
            .setHello(Hello.newBuilder().setCluster("prod").setNodeId("site-b").setProtocolVersion(ProtocolVersion.CURRENT))
            .build();
    PublisherCore.HelloOutcome out = core.onFirstMessage(hello, 0, now);
    assertNull(out.refusal(), () -> out.refusal().message());
    assertEquals("site-a", out.welcome().getNodeId());
    assertEquals("site-b", core.subscriberId());
  }
}
