package dev.edgesync.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code edgesync run} refuses, with exit 2 and one line, to open the HTTP API to the network without a token. */
class HttpOffLoopbackNeedsTokenTest {
  @TempDir Path dir;

  @Test
  void runWithHttpOnAllInterfacesAndNoTokenExits2() {
    MainTest.Result r =
        MainTest.run(
            Map.of(),
            "run", "--id", "site-a", "--listen", "127.0.0.1:0", "--http", "0.0.0.0:0", "--data-dir", dir.resolve("d").toString());
    assertEquals(2, r.code(), r.err());
    String line = r.err().strip();
    assertEquals(1, line.split("\n").length, line);
    assertTrue(line.startsWith("edgesync: flag --http: http: "), line);
    assertTrue(line.contains("EDGESYNC_HTTP_TOKEN"), line);
  }

  @Test
  void runWithAnUnreadableTlsFileExits2NamingIt() {
    MainTest.Result r =
        MainTest.run(
            Map.of("EDGESYNC_TLS_CERT", dir.resolve("missing.crt").toString()),
            "run", "--id", "site-a", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", dir.resolve("d").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("environment variable EDGESYNC_TLS_CERT: security.tls.cert: no such file"), r.err());
  }
}
