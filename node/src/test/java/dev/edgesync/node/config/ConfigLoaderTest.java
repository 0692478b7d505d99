package dev.edgesync.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.engine.storage.Durability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
  @TempDir Path dir;

  private Path file(String name, String content) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, content);
    return f;
  }

  private static ConfigOverrides flags(String config) {
    return new ConfigOverrides(config, null, null, null, null, null, null, null, null);
  }

  @Test
  void defaultsApplyWhenOnlyTheIdIsGiven() {
    NodeConfig c =
        ConfigLoader.load(
            new ConfigOverrides(null, "site-a", null, null, null, null, null, null, null),
            Map.of());
    assertEquals("site-a", c.id());
    assertEquals("default", c.cluster());
    assertEquals(new HostPort("0.0.0.0", 7400), c.listen());
    assertEquals(new HostPort("127.0.0.1", 7480), c.http());
    assertEquals(Path.of("data", "site-a"), c.dataDir());
    assertTrue(c.peers().isEmpty());
    assertEquals(Durability.FSYNC, c.durability());
    assertEquals(Duration.ofSeconds(1), c.replication().heartbeatInterval());
    assertEquals(Duration.ofSeconds(5), c.replication().heartbeatTimeout());
    assertEquals(Duration.ofSeconds(60), c.replication().maxClockSkew());
    assertEquals(1024, c.limits().maxKeyBytes());
    assertEquals(1024 * 1024, c.limits().maxValueBytes());
    assertEquals(2 * 1024 * 1024, c.limits().httpMaxBodyBytes());
    assertNull(c.configFile());
    assertFalse(c.peersFromFile());
    assertEquals(Duration.ZERO, c.clockOffset());
  }

  @Test
  void stallAndAntiEntropySettingsComeFromTheFileThenTheEnvironment() throws IOException {
    NodeConfig defaults = ConfigLoader.load(ConfigOverrides.none(), Map.of("EDGESYNC_NODE_ID", "site-a"));
    assertEquals(Duration.ofSeconds(15), defaults.replication().stallTimeout(), "3 x heartbeatTimeout");
    assertEquals(Duration.ofSeconds(10), defaults.replication().antiEntropySettle());
    assertEquals(Duration.ofSeconds(60), defaults.replication().antiEntropyMinInterval());
    assertEquals(10_000, defaults.replication().repairMaxEntries());

    Path derived = file("derived.yaml", "id: site-a\nreplication: {heartbeatTimeout: 8s}\n");
    assertEquals(
        Duration.ofSeconds(24),
        ConfigLoader.load(flags(derived.toString()), Map.of()).replication().stallTimeout(),
        "an unset stallTimeout follows the heartbeat timeout");

    Path f =
        file(
            "ae.yaml",
            """
            id: site-a
            replication:
              stallTimeout: 20s
              antiEntropySettle: 0s
              antiEntropyMinInterval: 2m
              repairMaxEntries: 500
            """);
    NodeConfig.Replication r = ConfigLoader.load(flags(f.toString()), Map.of()).replication();
    assertEquals(Duration.ofSeconds(20), r.stallTimeout());
    assertEquals(Duration.ZERO, r.antiEntropySettle());
    assertEquals(Duration.ofMinutes(2), r.antiEntropyMinInterval());
    assertEquals(500, r.repairMaxEntries());

    NodeConfig.Replication fromEnv =
        ConfigLoader.load(
                flags(f.toString()),
                Map.of(
                    "EDGESYNC_STALL_TIMEOUT", "3s",
                    "EDGESYNC_ANTI_ENTROPY_SETTLE", "1s",
                    "EDGESYNC_ANTI_ENTROPY_MIN_INTERVAL", "5s",
                    "EDGESYNC_REPAIR_MAX_ENTRIES", "42"))
            .replication();
    assertEquals(Duration.ofSeconds(3), fromEnv.stallTimeout());
    assertEquals(Duration.ofSeconds(1), fromEnv.antiEntropySettle());
    assertEquals(Duration.ofSeconds(5), fromEnv.antiEntropyMinInterval());
    assertEquals(42, fromEnv.repairMaxEntries());
  }

  @Test
  void aStallTimeoutBelowTwoHeartbeatsNamesItsSource() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                ConfigLoader.load(
                    ConfigOverrides.none(),
                    Map.of("EDGESYNC_NODE_ID", "site-a", "EDGESYNC_STALL_TIMEOUT", "1500ms")));
    assertEquals("environment variable EDGESYNC_STALL_TIMEOUT", e.getSource());
    assertEquals("replication.stallTimeout", e.getField());
    assertTrue(e.getMessage().contains("2 x replication.heartbeatInterval"), e.getMessage());
  }

  @Test
  void precedenceIsDefaultsThenFileThenEnvThenFlags() throws IOException {
    Path f =
        file(
            "a.yaml",
            """
            id: from-file
            cluster: file-cluster
            listen: 10.0.0.1:7400
            http: 127.0.0.1:9000
            dataDir: /var/lib/file
            durability: buffered
            peers:
              - id: site-b
                address: "10.0.0.2:7400"
            """);
    // File only.
    NodeConfig c = ConfigLoader.load(flags(f.toString()), Map.of());
    assertEquals("from-file", c.id());
    assertEquals("file-cluster", c.cluster());
    assertEquals(new HostPort("10.0.0.1", 7400), c.listen());
    assertEquals(Path.of("/var/lib/file"), c.dataDir());
    assertEquals(Durability.BUFFERED, c.durability());
    assertEquals("[site-b=10.0.0.2:7400]", c.peers().toString());
    assertTrue(c.peersFromFile());

    // Environment beats the file.
    Map<String, String> env =
        Map.of(
            "EDGESYNC_NODE_ID", "from-env",
            "EDGESYNC_CLUSTER", "env-cluster",
            "EDGESYNC_HTTP", "127.0.0.1:9100",
            "EDGESYNC_PEERS", "site-c=10.0.0.3:7400",
            "EDGESYNC_DURABILITY", "fsync");
    c = ConfigLoader.load(flags(f.toString()), env);
    assertEquals("from-env", c.id());
    assertEquals("env-cluster", c.cluster());
    assertEquals(new HostPort("127.0.0.1", 9100), c.http());
    assertEquals(new HostPort("10.0.0.1", 7400), c.listen(), "not in env: the file's value stays");
    assertEquals("[site-c=10.0.0.3:7400]", c.peers().toString());
    assertFalse(
        c.peersFromFile(), "env peers override the file, so the file is not watched for them");
    assertEquals(Durability.FSYNC, c.durability());

    // Flags beat the environment.
    c =
        ConfigLoader.load(
            new ConfigOverrides(
                f.toString(),
                "from-flag",
                "flag-cluster",
                "127.0.0.1:0",
                "127.0.0.1:0",
                dir.resolve("flagdata").toString(),
                "site-d=[::1]:7400",
                "buffered",
                null),
            env);
    assertEquals("from-flag", c.id());
    assertEquals("flag-cluster", c.cluster());
    assertEquals(new HostPort("127.0.0.1", 0), c.listen());
    assertEquals(new HostPort("127.0.0.1", 0), c.http());
    assertEquals(dir.resolve("flagdata"), c.dataDir());
    assertEquals("[site-d=[::1]:7400]", c.peers().toString());
    assertEquals(Durability.BUFFERED, c.durability());
  }

  @Test
  void configFileComesFromEdgesyncConfigWhenNoFlag() throws IOException {
    Path f =
        file(
            "env.json",
            "{\"id\": \"json-node\", \"replication\": {\"heartbeatInterval\": \"500ms\","
                + " \"heartbeatTimeout\": \"PT2S\", \"compression\": true, \"batchMaxBytes\":"
                + " \"4MiB\"}, \"limits\": {\"maxValueBytes\": 2048, \"httpMaxBodyBytes\":"
                + " \"64KiB\"}}");
    NodeConfig c =
        ConfigLoader.load(ConfigOverrides.none(), Map.of("EDGESYNC_CONFIG", f.toString()));
    assertEquals("json-node", c.id());
    assertEquals(f, c.configFile());
    assertEquals(Duration.ofMillis(500), c.replication().heartbeatInterval());
    assertEquals(Duration.ofSeconds(2), c.replication().heartbeatTimeout());
    assertTrue(c.replication().compression());
    assertEquals(4 * 1024 * 1024, c.replication().batchMaxBytes());
    assertEquals(2048, c.limits().maxValueBytes());
    assertEquals(64 * 1024, c.limits().httpMaxBodyBytes());
  }

  @Test
  void unknownKeyNamesTheKeyTheFileAndSuggestsTheRightOne() throws IOException {
    Path f = file("typo.yaml", "id: a\nreplicaton:\n  heartbeatInterval: 1s\n");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(flags(f.toString()), Map.of()));
    assertEquals("file " + f, e.getSource());
    assertEquals("replicaton", e.getField());
    assertTrue(e.getMessage().contains("did you mean 'replication'"), e.getMessage());
  }

  @Test
  void unknownNestedKeyIsNamedWithItsPath() throws IOException {
    Path f = file("typo2.yaml", "id: a\nlimits:\n  maxValueByte: 10\n");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(flags(f.toString()), Map.of()));
    assertEquals("limits.maxValueByte", e.getField());
    assertTrue(e.getMessage().contains("limits.maxValueBytes"), e.getMessage());
  }

  static Stream<Arguments> badFileValues() {
    return Stream.of(
        Arguments.of("id: 'bad id!'", "id"),
        Arguments.of("cluster: ''", "cluster"),
        Arguments.of("listen: 'localhost'", "listen"),
        Arguments.of("listen: 'localhost:99999'", "listen"),
        Arguments.of("http: '::1:7480'", "http"),
        Arguments.of("durability: sometimes", "durability"),
        Arguments.of("dataDir: [a, b]", "dataDir"),
        Arguments.of("peers: [{id: site-b, address: 'h:74OO'}]", "peers[0].address"),
        Arguments.of("peers: [{id: site-b, adress: 'h:7400'}]", "peers[0].adress"),
        Arguments.of("replication: {heartbeatInterval: 5}", "replication.heartbeatInterval"),
        Arguments.of("replication: {heartbeatTimeout: -1s}", "replication.heartbeatTimeout"),
        Arguments.of("replication: {reconnectMaxDelay: soon}", "replication.reconnectMaxDelay"),
        Arguments.of("replication: {batchMaxEntries: 0}", "replication.batchMaxEntries"),
        Arguments.of("replication: {batchMaxBytes: 1TB}", "replication.batchMaxBytes"),
        Arguments.of("replication: {compression: maybe}", "replication.compression"),
        Arguments.of("replication: {maxClockSkew: 0s}", "replication.maxClockSkew"),
        Arguments.of("replication: {stallTimeout: 0s}", "replication.stallTimeout"),
        Arguments.of("replication: {stallTimeout: stuck}", "replication.stallTimeout"),
        Arguments.of("replication: {antiEntropySettle: -1s}", "replication.antiEntropySettle"),
        Arguments.of("replication: {antiEntropyMinInterval: 2d}", "replication.antiEntropyMinInterval"),
        Arguments.of("replication: {repairMaxEntries: 0}", "replication.repairMaxEntries"),
        Arguments.of("replication: {repairMaxEntries: 2000000}", "replication.repairMaxEntries"),
        Arguments.of("replication: {stalTimeout: 10s}", "replication.stalTimeout"),
        Arguments.of("replication: 5", "replication"),
        Arguments.of("limits: {maxKeyBytes: 100000}", "limits.maxKeyBytes"),
        Arguments.of("limits: {writeQueueDepth: lots}", "limits.writeQueueDepth"),
        // Rules between fields name the field that breaks them.
        Arguments.of(
            "replication: {heartbeatInterval: 3s, heartbeatTimeout: 5s}",
            "replication.heartbeatTimeout"),
        Arguments.of(
            "replication: {heartbeatInterval: 2s, stallTimeout: 3s}", "replication.stallTimeout"),
        Arguments.of(
            "replication: {reconnectBaseDelay: 10s, reconnectMaxDelay: 1s}",
            "replication.reconnectMaxDelay"),
        Arguments.of(
            "limits: {maxValueBytes: 1MiB, httpMaxBodyBytes: 1KiB}", "limits.httpMaxBodyBytes"),
        Arguments.of("peers: [{id: site-a, address: 'h:7400'}]", "peers"));
  }

  @ParameterizedTest
  @MethodSource("badFileValues")
  void badFileValueNamesTheFileAndTheKey(String yaml, String key) throws IOException {
    Path f = file("bad.yaml", (yaml.startsWith("id:") ? "" : "id: site-a\n") + yaml + "\n");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(flags(f.toString()), Map.of()));
    assertEquals("file " + f, e.getSource(), e.getMessage());
    assertEquals(key, e.getField(), e.getMessage());
    assertTrue(e.getMessage().startsWith("file " + f + ": " + key + ": "), e.getMessage());
    assertTrue(e.getMessage().contains("expected "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line");
  }

  static Stream<Arguments> badEnvValues() {
    return Stream.of(
        Arguments.of("EDGESYNC_NODE_ID", "has space", "id"),
        Arguments.of("EDGESYNC_CLUSTER", "", "cluster"),
        Arguments.of("EDGESYNC_LISTEN", "0.0.0.0:port", "listen"),
        Arguments.of("EDGESYNC_HTTP", "127.0.0.1", "http"),
        Arguments.of("EDGESYNC_DATA_DIR", " ", "dataDir"),
        Arguments.of("EDGESYNC_PEERS", "site-b", "peers[0]"),
        Arguments.of("EDGESYNC_DURABILITY", "always", "durability"),
        Arguments.of("EDGESYNC_STALL_TIMEOUT", "-5s", "replication.stallTimeout"),
        Arguments.of("EDGESYNC_ANTI_ENTROPY_SETTLE", "later", "replication.antiEntropySettle"),
        Arguments.of("EDGESYNC_ANTI_ENTROPY_MIN_INTERVAL", "-1m", "replication.antiEntropyMinInterval"),
        Arguments.of("EDGESYNC_REPAIR_MAX_ENTRIES", "many", "replication.repairMaxEntries"),
        Arguments.of("EDGESYNC_CONFIG", "/no/such/file.yaml", "(file)"));
  }

  @ParameterizedTest
  @MethodSource("badEnvValues")
  void badEnvironmentValueNamesTheVariableAndTheKey(String variable, String value, String key) {
    Map<String, String> env = new HashMap<>(Map.of("EDGESYNC_NODE_ID", "site-a"));
    env.put(variable, value);
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(ConfigOverrides.none(), env));
    if (variable.equals("EDGESYNC_CONFIG")) {
      assertEquals("file /no/such/file.yaml", e.getSource());
    } else {
      assertEquals("environment variable " + variable, e.getSource());
    }
    assertEquals(key, e.getField());
    assertTrue(e.getMessage().contains("(got '" + value + "')"), e.getMessage());
  }

  @Test
  void badFlagValueNamesTheFlag() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                ConfigLoader.load(
                    new ConfigOverrides(
                        null, "site-a", null, null, "127.0.0.1:70000", null, null, null, null),
                    Map.of()));
    assertEquals("flag --http", e.getSource());
    assertEquals("http", e.getField());
    e =
        assertThrows(
            ConfigException.class,
            () ->
                ConfigLoader.load(
                    new ConfigOverrides(null, "site-a", null, null, null, null, "x=", null, null),
                    Map.of()));
    assertEquals("flag --peers", e.getSource());
    e =
        assertThrows(
            ConfigException.class,
            () ->
                ConfigLoader.load(
                    new ConfigOverrides(
                        null, "site-a", null, null, null, null, null, null, "yesterday"),
                    Map.of()));
    assertEquals("flag --clock-offset", e.getSource());
  }

  @Test
  void missingIdSaysWhereToSetIt() {
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> ConfigLoader.load(ConfigOverrides.none(), Map.of()));
    assertEquals("id", e.getField());
    assertTrue(e.getMessage().contains("--id"), e.getMessage());
    assertTrue(e.getMessage().contains("EDGESYNC_NODE_ID"), e.getMessage());
  }

  @Test
  void ownIdInEnvPeersNamesTheVariable() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                ConfigLoader.load(
                    ConfigOverrides.none(),
                    Map.of("EDGESYNC_NODE_ID", "site-a", "EDGESYNC_PEERS", "site-a=h:7400")));
    assertEquals("environment variable EDGESYNC_PEERS", e.getSource());
  }

  @Test
  void blankPeersVariableIsAnExplicitEmptyListOverridingTheFile() throws IOException {
    Path f = file("p.yaml", "id: a\npeers: [{id: b, address: 'h:1'}]\n");
    NodeConfig c = ConfigLoader.load(flags(f.toString()), Map.of("EDGESYNC_PEERS", ""));
    assertTrue(c.peers().isEmpty());
    assertFalse(c.peersFromFile());
  }

  @Test
  void clockOffsetAcceptsSignedDurations() {
    NodeConfig c =
        ConfigLoader.load(
            new ConfigOverrides(null, "a", null, null, null, null, null, null, "-90s"), Map.of());
    assertEquals(Duration.ofSeconds(-90), c.clockOffset());
  }

  @Test
  void syntaxErrorNamesLineAndFile() throws IOException {
    Path f = file("broken.yaml", "id: a\npeers: [\n");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(flags(f.toString()), Map.of()));
    assertEquals("file " + f, e.getSource());
    assertTrue(e.getField().startsWith("line "), e.getField());
  }
}
