package dev.edgesync.engine.replication.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.replication.core.PublisherCore;
import dev.edgesync.proto.Hello;
import dev.edgesync.proto.SubscriberMessage;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Text from another node cannot forge log lines or flood a message. */
class UntrustedTextTest {
  @Test
  void controlCharactersAreEscapedAndLongTextIsCut() {
    assertEquals("a\\u000a2026-11-22 INFO forged", Untrusted.text("a\n2026-11-22 INFO forged"));
    assertEquals("\\u0000\\u001b[31m\\u202e", Untrusted.text("\u0000\u001b[31m\u202e"));
    String cut = Untrusted.text("x".repeat(10_000));
    assertTrue(cut.startsWith("x".repeat(Untrusted.MAX_CHARS) + "...(10000 characters)"), cut);
  }

  @Test
  void aHostileHelloCannotPutALineBreakIntoTheRefusal() {
    PublisherCore core = new PublisherCore("site-a", "prod", "log", 1 << 20, Duration.ofSeconds(1), Duration.ofSeconds(5), Instant.EPOCH);
    for (Hello h :
        new Hello[] {
          Hello.newBuilder().setNodeId("../../x\nINFO forged").setCluster("prod").build(),
          Hello.newBuilder().setNodeId("site-b").setCluster("prod\r\nWARN forged").setProtocolVersion(ProtocolVersion.CURRENT).build()
        }) {
      PublisherCore.HelloOutcome out = new PublisherCore("site-a", "prod", "log", 1 << 20, Duration.ofSeconds(1), Duration.ofSeconds(5), Instant.EPOCH)
          .onFirstMessage(SubscriberMessage.newBuilder().setHello(h).build(), 0, Instant.EPOCH);
      String m = out.refusal().message();
      assertFalse(m.contains("\n") || m.contains("\r"), m);
    }
    assertFalse(core.accepted());
  }
}
