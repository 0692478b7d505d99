package dev.edgesync.engine.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.replication.ReplicationSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster token: what is a valid one, constant-time matching, rotation files, and that it never shows. */
class ClusterTokenTest {
  private static final String SECRET = "s3cr3t-token-0123456789abcdef";

  @TempDir Path dir;

  @Test
  void toStringAndSettingsNeverShowTheToken() {
    ClusterToken t = ClusterToken.of(SECRET, "security.token");
    assertFalse(t.toString().contains(SECRET), t.toString());
    SecuritySettings s = SecuritySettings.none().withToken(t);
    assertFalse(s.toString().contains(SECRET), s.toString());
    ReplicationSettings r = ReplicationSettings.defaults("site-a", "prod").withSecurity(s);
    assertFalse(r.toString().contains(SECRET), r.toString());
  }

  @Test
  void invalidTokensAreRefusedWithoutRepeatingThem() {
    for (String bad : List.of("short-secret", "has a space in it 0123456789", "tab\there-0123456789abcdef", "ünïcödé-0123456789abcdef")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterToken.of(bad, "security.token"));
      assertTrue(e.getMessage().startsWith("invalid security.token: "), e.getMessage());
      assertFalse(e.getMessage().contains(bad), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> ClusterToken.of("", "security.token"));
    assertThrows(IllegalArgumentException.class, () -> ClusterToken.of(null, "security.token"));
  }

  @Test
  void matchesOnlyAnAcceptedTokenOfAnyLength() throws IOException {
    ClusterToken.Tokens tokens = ClusterToken.of(SECRET, "t").read();
    assertTrue(ClusterToken.matches(SECRET.getBytes(StandardCharsets.US_ASCII), tokens.accepted()));
    assertFalse(ClusterToken.matches((SECRET + "x").getBytes(StandardCharsets.US_ASCII), tokens.accepted()));
    assertFalse(ClusterToken.matches(SECRET.substring(1).getBytes(StandardCharsets.US_ASCII), tokens.accepted()));
    assertFalse(ClusterToken.matches(new byte[0], tokens.accepted()));
    assertFalse(ClusterToken.matches(new byte[100_000], tokens.accepted()));
  }

  @Test
  void aFileMayHoldSeveralTokensTheFirstIsSentAllAreAccepted() throws IOException {
    Path file = dir.resolve("token");
    String next = "next-token-fedcba9876543210";
    Files.writeString(file, "# rotation in progress\n" + next + "\n\n" + SECRET + "\n");
    ClusterToken t = ClusterToken.fromFile(file);
    assertTrue(t.toString().contains(file.toString()));
    ClusterToken.Tokens tokens = t.read();
    assertEquals(next, new String(tokens.sent(), StandardCharsets.US_ASCII));
    assertTrue(ClusterToken.matches(SECRET.getBytes(StandardCharsets.US_ASCII), tokens.accepted()));
    assertTrue(ClusterToken.matches(next.getBytes(StandardCharsets.US_ASCII), tokens.accepted()));
  }

  @Test
  void aBadTokenFileNamesFileAndLineButNotTheContent() throws IOException {
    Path file = dir.resolve("token");
    Files.writeString(file, SECRET + "\nbad token xyzzy-0123456789\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterToken.fromFile(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("line 2"), e.getMessage());
    assertFalse(e.getMessage().contains(SECRET) || e.getMessage().contains("xyzzy"), e.getMessage());
    Files.writeString(file, "# only a comment\n");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ClusterToken.fromFile(file)).getMessage().contains("no token"));
    assertThrows(IllegalArgumentException.class, () -> ClusterToken.fromFile(dir.resolve("missing")));
  }
}
