package dev.edgesync.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/** grpc's records: one line, once per cause per window, with the count of those left out. */
class GrpcLogBridgeTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
  private final GrpcLogBridge.OncePerCause filter = new GrpcLogBridge.OncePerCause(nanos::get);

  private static LogRecord unresolved(int channel, String causeText) {
    LogRecord r =
        new LogRecord(
            Level.WARNING,
            "[Channel<" + channel + ">: (nosuchhost.invalid:7400)] Failed to resolve name. status=Status{code=UNAVAILABLE,"
                + " description=Unable to resolve host nosuchhost.invalid, cause=java.net.UnknownHostException: " + causeText
                + "\n\tat java.base/java.net.InetAddress.getAllByName(InetAddress.java:1306)\n}");
    r.setLoggerName("io.grpc.internal.ManagedChannelImpl");
    r.setThrown(new IllegalStateException("x"));
    return r;
  }

  @Test
  void aCauseIsLoggedOnceInOneLinePerWindowWithTheCountLeftOut() {
    LogRecord first = unresolved(4, "nosuchhost.invalid: Name or service not known");
    assertTrue(filter.isLoggable(first));
    assertFalse(first.getMessage().contains("\n"), first.getMessage());
    assertTrue(first.getMessage().contains("Unable to resolve host nosuchhost.invalid"), first.getMessage());
    assertNull(first.getThrown(), "no stack trace");

    // The same cause on another channel, with the JDK's shorter cached text: left out.
    for (int i = 0; i < 5; i++) {
      assertFalse(filter.isLoggable(unresolved(5 + i, "nosuchhost.invalid")));
    }
    nanos.addAndGet(GrpcLogBridge.WINDOW.toNanos());
    LogRecord later = unresolved(9, "nosuchhost.invalid");
    assertTrue(filter.isLoggable(later), "logged again after the window");
    assertTrue(later.getMessage().contains("(5 more like it since it was last logged)"), later.getMessage());

    LogRecord other = new LogRecord(Level.WARNING, "something else failed");
    other.setLoggerName("io.grpc.internal.ManagedChannelImpl");
    assertTrue(filter.isLoggable(other), "another cause is logged at once");
    assertEquals("grpc: something else failed [logged at most once per 10 min]", other.getMessage());
  }
}
