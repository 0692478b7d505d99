package dev.edgesync.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.discovery.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The security keys, their environment variables and flags, and the rules between them. */
class SecurityConfigTest {
  private static final String TOKEN = "cluster-token-0123456789abcdef";
  private static final String HTTP_TOKEN = "http-token-fedcba9876543210";

  @TempDir Path dir;
  private Path cert;
  private Path key;
  private Path ca;
  private Path partnerCa;
  private Path tokenFile;

  @BeforeEach
  void files() throws IOException {
    // Contents do not matter here: the loader checks the files exist; the engine reads them.
    cert = Files.writeString(dir.resolve("a.crt"), "cert");
    key = Files.writeString(dir.resolve("a.key"), "key");
    ca = Files.writeString(dir.resolve("ca.crt"), "ca");
    partnerCa = Files.writeString(dir.resolve("partner-ca.crt"), "ca");
    tokenFile = Files.writeString(dir.resolve("token"), TOKEN + "\n");
  }

  private NodeConfig load(String yaml, Map<String, String> env) throws IOException {
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, "id: site-a\n" + yaml);
    return ConfigLoader.load(new ConfigOverrides(file.toString(), null, null, null, null, null, null, null, null), env);
  }

  private NodeConfig load(String yaml) throws IOException {
    return load(yaml, Map.of());
  }

  @Test
  void noSecurityByDefault() throws IOException {
    NodeConfig.Security s = load("").security();
    assertFalse(s.tls());
    assertNull(s.token());
    assertTrue(s.allowedPeers().isEmpty());
    assertEquals(64, s.maxInboundStreams());
    assertEquals(2, s.maxStreamsPerPeer());
  }

  @Test
  void everySecurityKeyFromTheFile() throws IOException {
    NodeConfig.Security s =
        load(
                "security:\n"
                    + "  tls:\n"
                    + "    cert: " + cert + "\n"
                    + "    key: " + key + "\n"
                    + "    ca: " + ca + "\n"
                    + "    peers:\n"
                    + "      partner: {ca: " + partnerCa + ", serverName: sync.partner.example}\n"
                    + "  tokenFile: " + tokenFile + "\n"
                    + "  allowedPeers: [site-b, site-c]\n"
                    + "  reloadInterval: 2s\n"
                    + "  http:\n"
                    + "    token: " + HTTP_TOKEN + "\n"
                    + "    tls: {cert: " + cert + ", key: " + key + "}\n"
                    + "limits:\n"
                    + "  maxInboundStreams: 10\n"
                    + "  maxStreamsPerPeer: 3\n"
                    + "  handshakeTimeout: 4s\n")
            .security();
    assertEquals(cert, s.tlsCert());
    assertEquals(key, s.tlsKey());
    assertEquals(ca, s.tlsCa());
    assertEquals(new NodeConfig.PeerTls(partnerCa, "sync.partner.example"), s.peerTls().get("partner"));
    assertEquals(tokenFile, s.token().file());
    assertEquals(List.of("site-b", "site-c"), s.allowedPeers());
    assertEquals(Duration.ofSeconds(2), s.reloadInterval());
    assertEquals(HTTP_TOKEN, s.httpToken().value());
    assertTrue(s.httpTls());
    assertEquals(10, s.maxInboundStreams());
    assertEquals(3, s.maxStreamsPerPeer());
    assertEquals(Duration.ofSeconds(4), s.handshakeTimeout());
    assertFalse(s.toString().contains(HTTP_TOKEN), "a token never shows in toString: " + s);
  }

  @Test
  void environmentOverridesTheFile() throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESYNC_TLS_CERT", cert.toString());
    env.put("EDGESYNC_TLS_KEY", key.toString());
    env.put("EDGESYNC_TLS_CA", ca.toString());
    env.put("EDGESYNC_TOKEN", TOKEN);
    env.put("EDGESYNC_ALLOWED_PEERS", "site-b,site-d");
    env.put("EDGESYNC_HTTP_TOKEN", HTTP_TOKEN);
    NodeConfig.Security s = load("security:\n  tokenFile: " + tokenFile + "\n  allowedPeers: [site-x]\n", env).security();
    assertTrue(s.tls());
    assertEquals(TOKEN, s.token().value(), "the environment's token replaces the file's tokenFile");
    assertNull(s.token().file());
    assertEquals(List.of("site-b", "site-d"), s.allowedPeers());
    assertEquals(HTTP_TOKEN, s.httpToken().value());
  }

  @Test
  void flagsOverrideTheEnvironment() throws IOException {
    Map<String, String> env = Map.of("EDGESYNC_TOKEN", TOKEN, "EDGESYNC_ALLOWED_PEERS", "site-b");
    NodeConfig c =
        ConfigLoader.load(
            new ConfigOverrides(
                null, "site-a", null, null, null, null, null, null, null, cert.toString(), key.toString(),
                ca.toString(), tokenFile.toString(), "site-c", null),
            env);
    assertTrue(c.security().tls());
    assertEquals(tokenFile, c.security().token().file());
    assertEquals(List.of("site-c"), c.security().allowedPeers());
  }

  @Test
  void tlsNeedsAllThreeFiles() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> load("security:\n  tls:\n    cert: " + cert + "\n    key: " + key + "\n"));
    assertTrue(e.getMessage().contains("security.tls") && e.getMessage().contains("1 missing"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> load("", Map.of("EDGESYNC_TLS_CA", ca.toString())));
    assertTrue(e.getMessage().startsWith("environment variable EDGESYNC_TLS_CA"), e.getMessage());
  }

  @Test
  void missingFilesAreNamedWithTheirSource() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> load("", Map.of("EDGESYNC_TLS_CERT", dir.resolve("nope.crt").toString())));
    assertTrue(e.getMessage().contains("EDGESYNC_TLS_CERT") && e.getMessage().contains("no such file"), e.getMessage());
  }

  @Test
  void aBadTokenIsRefusedWithoutShowingIt() {
    String weak = "short-secret";
    ConfigException e = assertThrows(ConfigException.class, () -> load("security:\n  token: " + weak + "\n"));
    assertTrue(e.getMessage().contains("security.token") && e.getMessage().contains("fewer than 16"), e.getMessage());
    assertFalse(e.getMessage().contains(weak), e.getMessage());
    e = assertThrows(ConfigException.class, () -> load("", Map.of("EDGESYNC_HTTP_TOKEN", "has spaces in it 0123456789")));
    assertFalse(e.getMessage().contains("has spaces"), e.getMessage());
  }

  @Test
  void httpOffLoopbackNeedsAToken() throws IOException {
    ConfigException e = assertThrows(ConfigException.class, () -> load("http: 0.0.0.0:7480\n"));
    assertTrue(e.getMessage().contains("EDGESYNC_HTTP_TOKEN") && e.getMessage().contains("http"), e.getMessage());
    assertEquals("0.0.0.0", load("http: 0.0.0.0:7480\n", Map.of("EDGESYNC_HTTP_TOKEN", HTTP_TOKEN)).http().host());
    assertEquals("127.0.0.5", load("http: 127.0.0.5:7480\n").http().host());
    assertEquals("::1", load("http: \"[::1]:7480\"\n").http().host());
  }

  @Test
  void unknownSecurityKeysAreErrorsWithASuggestion() {
    ConfigException e = assertThrows(ConfigException.class, () -> load("security:\n  allowedPeer: [a]\n"));
    assertTrue(e.getMessage().contains("security.allowedPeers"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> load("security:\n  tls:\n    certificate: x\n"));
    assertTrue(e.getMessage().contains("security.tls.cert"), e.getMessage());
  }

  @Test
  void perStreamCapCannotExceedTheTotal() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> load("limits:\n  maxInboundStreams: 2\n  maxStreamsPerPeer: 3\n"));
    assertTrue(e.getMessage().contains("limits.maxStreamsPerPeer"), e.getMessage());
  }
}
