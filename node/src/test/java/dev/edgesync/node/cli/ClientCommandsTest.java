package dev.edgesync.node.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.node.Main;
import dev.edgesync.node.config.ConfigLoader;
import dev.edgesync.node.config.ConfigOverrides;
import dev.edgesync.node.server.NodeServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The client commands against one in-process node: values from files, scan's forms, usage errors. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientCommandsTest {
  private NodeServer server;
  private String node;
  private Path dir;

  record Result(int code, byte[] out, String err) {
    String text() {
      return new String(out, StandardCharsets.UTF_8);
    }
  }

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    dir = tmp;
    Path config = dir.resolve("node.yaml");
    Files.writeString(config, "id: site-a\ncluster: test\nlisten: 127.0.0.1:0\nhttp: 127.0.0.1:0\ndurability: buffered\n");
    server =
        NodeServer.start(
            ConfigLoader.load(
                new ConfigOverrides(config.toString(), null, null, null, null, dir.resolve("data").toString(), null, null, null),
                Map.of()));
    node = "127.0.0.1:" + server.httpAddress().getPort();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.execute(args, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void putTakesAValueFromAFileByteForByte() throws Exception {
    byte[] bytes = {0, (byte) 0xFF, 10, 13, 'x'};
    Path file = dir.resolve("value.bin");
    Files.write(file, bytes);
    Result put = run("put", "bin/v", "--file", file.toString(), "--node", node);
    assertEquals(0, put.code(), put.err());
    Result get = run("get", "bin/v", "--raw", "--node", node);
    assertEquals(0, get.code(), get.err());
    assertArrayEquals(bytes, get.out());
    Result both = run("put", "bin/v", "text", "--file", file.toString(), "--node", node);
    assertEquals(Main.EXIT_USAGE, both.code());
    assertTrue(both.err().contains("give either VALUE or --file, not both"), both.err());
  }

  @Test
  void putWithATimeToLiveSaysWhenItExpiresAndABadOneIsRefused() {
    Result put = run("put", "ttl/k", "v", "--ttl", "10m", "--node", node);
    assertEquals(0, put.code(), put.err());
    assertTrue(put.text().contains("expires at 20"), put.text());
    assertEquals("v", run("get", "ttl/k", "--node", node).text().strip());
    Result bad = run("put", "ttl/k", "v", "--ttl", "soon", "--node", node);
    assertEquals(1, bad.code());
    assertTrue(bad.err().contains("ttl 'soon' is not valid"), bad.err());
  }

  @Test
  void scanPrintsKeysOnlyJsonAndStartsAfterAKey() {
    for (String k : List.of("s/a", "s/b", "s/c")) {
      assertEquals(0, run("put", k, "v-" + k, "--node", node).code());
    }
    assertEquals(List.of("s/a", "s/b", "s/c"), run("scan", "s/", "--keys-only", "--node", node).text().lines().toList());
    assertEquals(List.of("s/c\tv-s/c"), run("scan", "s/", "--after", "s/b", "--node", node).text().lines().toList());
    Result firstTwo = run("scan", "s/", "--limit", "2", "--node", node);
    assertEquals(2, firstTwo.text().lines().count());
    assertTrue(firstTwo.err().contains("more keys after 's/b': edgesync scan 's/' --after 's/b'"), firstTwo.err());
    assertEquals("", run("scan", "s/", "--limit", "3", "--node", node).err(), "no hint when nothing is left");
    List<String> json = run("scan", "s/", "--json", "--limit", "1", "--node", node).text().lines().toList();
    assertEquals(1, json.size());
    assertTrue(json.get(0).startsWith("{\"key\":\"s/a\",\"value\":\"v-s/a\",\"version\":"), json.get(0));
  }

  @Test
  void aUsageErrorIsOneLineNamingItAndWhereTheHelpIs() {
    Result missing = run("put", "k", "--node", node);
    assertEquals(Main.EXIT_USAGE, missing.code());
    assertTrue(missing.err().contains("put needs a VALUE, '-' (standard input) or --file FILE"), missing.err());
    Result typo = run("put", "k", "v", "--ackz", "1", "--node", node);
    assertEquals(Main.EXIT_USAGE, typo.code());
    List<String> lines = typo.err().lines().toList();
    assertTrue(lines.get(0).startsWith("edgesync: Unknown option") && lines.get(0).contains("'--ackz'"), typo.err());
    assertTrue(typo.err().contains("Try 'edgesync put --help' for its options."), typo.err());
    assertTrue(lines.size() <= 4, "not the whole help text: " + typo.err());
  }

  @Test
  void theHttpTokenFileOptionIsNamedLikeRunsAndTheOldNameStillWorks() throws Exception {
    Path token = dir.resolve("http-token");
    Files.writeString(token, "secret\n");
    assertEquals(0, run("put", "t/1", "v", "--http-token-file", token.toString(), "--node", node).code());
    assertEquals(0, run("get", "t/1", "--token-file", token.toString(), "--node", node).code());
    Result empty = run("get", "t/1", "--http-token-file", dir.resolve("missing").toString(), "--node", node);
    assertEquals(Main.EXIT_USAGE, empty.code());
    assertTrue(empty.err().contains("--http-token-file " + dir.resolve("missing") + " cannot be read"), empty.err());
  }
}
