package dev.edgesync.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.node.Main;
import dev.edgesync.node.config.ConfigLoader;
import dev.edgesync.node.config.ConfigOverrides;
import dev.edgesync.node.server.NodeServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line through {@link Main#execute}: exit codes, messages, client commands. */
class MainTest {
  @TempDir Path dir;

  /** The outcome of one run of the program. */
  record Result(int code, String out, String err) {}

  static Result run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.execute(
            args,
            env,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Result run(String... args) {
    return run(Map.of(), args);
  }

  private static void assertOneLineError(Result r, String... parts) {
    assertEquals(2, r.code(), r.err());
    String[] lines = r.err().strip().split("\n", -1);
    assertEquals(1, lines.length, "exactly one line on stderr: " + r.err());
    assertTrue(lines[0].startsWith("edgesync: "), lines[0]);
    for (String p : parts) {
      assertTrue(lines[0].contains(p), "'" + p + "' missing from: " + lines[0]);
    }
  }

  @Test
  void badFlagValueExits2WithOneLineAndStartsNothing() {
    Path data = dir.resolve("never");
    Result r =
        run("run", "--id", "site-a", "--data-dir", data.toString(), "--listen", "127.0.0.1:99999");
    assertOneLineError(r, "flag --listen", "listen", "(got '127.0.0.1:99999')", "expected");
    assertFalse(Files.exists(data), "nothing started, so no data dir was made");
  }

  @Test
  void badEnvironmentValueExits2NamingTheVariable() {
    Result r = run(Map.of("EDGESYNC_NODE_ID", "site-a", "EDGESYNC_DURABILITY", "sometimes"), "run");
    assertOneLineError(r, "environment variable EDGESYNC_DURABILITY", "durability", "sometimes");
  }

  @Test
  void unknownKeyInTheFileExits2NamingKeyAndFile() throws IOException {
    Path f = dir.resolve("site-a.yaml");
    Files.writeString(f, "id: site-a\nlistn: 127.0.0.1:0\n");
    Result r = run("run", "--config", f.toString());
    assertOneLineError(r, "file " + f, "listn", "unknown key", "did you mean 'listen'");
  }

  @Test
  void configFromEdgesyncConfigIsValidatedToo() throws IOException {
    Path f = dir.resolve("c.json");
    Files.writeString(f, "{\"id\": \"site-a\", \"limits\": {\"maxValueBytes\": -1}}");
    Result r = run(Map.of("EDGESYNC_CONFIG", f.toString()), "run");
    assertOneLineError(r, "file " + f, "limits.maxValueBytes");
  }

  @Test
  void missingIdExits2() {
    Result r = run("run");
    assertOneLineError(r, "id", "EDGESYNC_NODE_ID");
  }

  @Test
  void unknownOptionAndNoCommandExit2() {
    assertEquals(2, run("run", "--no-such-flag").code());
    assertEquals(2, run().code());
    assertEquals(2, run("frobnicate").code());
    assertEquals(2, run("put", "only-a-key").code());
  }

  @ParameterizedTest
  @ValueSource(strings = {"run", "put", "get", "del", "scan", "watch", "status", "demo", "version"})
  void everyCommandHasHelp(String command) {
    Result r = run(command, "--help");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("Usage: edgesync " + command), r.out());
  }

  @Test
  void versionPrintsDevFromClasses() {
    Result r = run("version");
    assertEquals(0, r.code());
    assertTrue(r.out().startsWith("edgesync "), r.out());
    assertEquals(0, run("--version").code());
  }

  @Test
  void runStartsAndStopsInProcessThenRefusesAnotherIdOnTheSameDataDir() {
    String data = dir.resolve("data").toString();
    Result ok =
        run(
            "run",
            "--id",
            "site-a",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0");
    assertEquals(0, ok.code(), ok.err());
    Result other =
        run(
            "run",
            "--id",
            "site-z",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0");
    assertEquals(1, other.code(), other.err());
    assertTrue(other.err().startsWith("edgesync: cannot start node site-z: "), other.err());
    assertTrue(other.err().contains("site-a"), other.err());
    assertEquals(1, other.err().strip().split("\n").length, other.err());
  }

  @Test
  void busyHttpPortExits1NamingTheAddress() throws IOException {
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String http = "127.0.0.1:" + busy.getLocalPort();
      Result r =
          run(
              "run",
              "--id",
              "site-a",
              "--data-dir",
              dir.resolve("d").toString(),
              "--listen",
              "127.0.0.1:0",
              "--http",
              http);
      assertEquals(1, r.code(), r.err());
      assertTrue(r.err().contains("cannot listen for HTTP on " + http), r.err());
      assertTrue(r.err().contains("--http"), r.err());
    }
  }

  @Test
  void clientCommandsAgainstARunningNode() {
    NodeServer server =
        NodeServer.start(
            ConfigLoader.load(
                new ConfigOverrides(
                    null,
                    "site-a",
                    null,
                    "127.0.0.1:0",
                    "127.0.0.1:0",
                    dir.resolve("c").toString(),
                    null,
                    "buffered",
                    null),
                Map.of()));
    try {
      String node = "http://127.0.0.1:" + server.httpAddress().getPort();
      Result put = run("put", "--node", node, "greeting/en", "hello world");
      assertEquals(0, put.code(), put.err());
      assertTrue(put.out().contains("committed 'greeting/en' at seq 1"), put.out());
      run("put", "--node", node, "greeting/fr", "bonjour");

      // EDGESYNC_NODE is used when --node is not given.
      Map<String, String> env = new HashMap<>(Map.of("EDGESYNC_NODE", node));
      Result get = run(env, "get", "greeting/en");
      assertEquals(0, get.code(), get.err());
      assertEquals("hello world\n", get.out());

      Result scan = run(env, "scan", "greeting/");
      assertEquals("greeting/en\thello world\ngreeting/fr\tbonjour\n", scan.out());
      Result limited = run(env, "scan", "greeting/", "--limit", "1");
      assertEquals("greeting/en\thello world\n", limited.out());

      Result status = run(env, "status");
      assertEquals(0, status.code(), status.err());
      assertTrue(status.out().contains("node site-a"), status.out());
      assertTrue(status.out().contains("head seq 2"), status.out());
      Result json = run(env, "status", "--json");
      assertTrue(json.out().contains("\"nodeId\" : \"site-a\""), json.out());

      Result del = run(env, "del", "greeting/en");
      assertEquals(0, del.code(), del.err());
      Result missing = run(env, "get", "greeting/en");
      assertEquals(1, missing.code());
      assertTrue(missing.err().contains("not found"), missing.err());
      Result noScheme = run("get", "--node", node.replace("http://", ""), "greeting/fr");
      assertEquals(0, noScheme.code(), "--node host:port without a scheme: " + noScheme.err());
      assertEquals("bonjour\n", noScheme.out());
      Result delAgain = run(env, "del", "greeting/en");
      assertEquals(1, delAgain.code(), "del of a key that is not there exits 1 like get");
      assertTrue(delAgain.err().contains("'greeting/en' was not there"), delAgain.err());

      run(env, "put", "cart/1", "a");
      run(env, "put", "cart/2", "b");
      Result prefix = run(env, "del", "--prefix", "cart/");
      assertEquals(0, prefix.code(), prefix.err());
      assertTrue(prefix.out().startsWith("deleted 2 key(s) under 'cart/'"), prefix.out());
      assertEquals("", run(env, "scan", "cart/").out());
      assertEquals(2, run(env, "del").code(), "no key and no prefix is a usage error");
    } finally {
      server.close();
    }
  }

  @Test
  void unreachableNodeExits1WithAHint() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Result r = run("get", "--node", "http://127.0.0.1:" + port, "k");
    assertEquals(1, r.code());
    assertTrue(r.err().contains("cannot reach a node at http://127.0.0.1:" + port), r.err());
    assertTrue(r.err().contains("--node"), r.err());
    assertEquals(2, run("get", "--node", "ftp://x", "k").code(), "a bad URL is a usage error");
  }
}
