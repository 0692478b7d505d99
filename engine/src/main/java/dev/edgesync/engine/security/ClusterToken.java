package dev.edgesync.engine.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The shared secret of a cluster: every replication stream carries it as {@code authorization:
 * Bearer <token>}, and a server refuses a stream without the right one. It is given inline or as
 * a file; a file is re-read when it changes, and may hold several tokens, one per line: the first
 * is the one this node sends, and every one of them is accepted. That is how a token is rotated
 * without a moment in which two nodes disagree (see docs/SECURITY.md).
 *
 * <p>A token is 16 to 4096 visible ASCII characters (no spaces): {@code openssl rand -hex 32}
 * makes a good one. {@link #toString()} never shows it, and no error message does.
 */
public final class ClusterToken {
  /** Fewest characters of a token: shorter ones are too easy to guess. */
  public static final int MIN_CHARS = 16;

  /** Most characters of a token (it travels in an HTTP/2 header). */
  public static final int MAX_CHARS = 4096;

  /** Largest token file read. */
  static final int MAX_FILE_BYTES = 64 * 1024;

  private static final String FORMAT =
      MIN_CHARS + " to " + MAX_CHARS + " visible ASCII characters without spaces, e.g. the output of"
          + " 'openssl rand -hex 32'";

  private final String inline;
  private final Path file;

  private ClusterToken(String inline, Path file) {
    this.inline = inline;
    this.file = file;
  }

  /**
   * A token given as a value.
   *
   * @throws IllegalArgumentException naming {@code field} (never the value) when it is not a
   *     valid token
   */
  public static ClusterToken of(String value, String field) {
    Objects.requireNonNull(field, "field");
    String problem = problem(value);
    if (problem != null) {
      throw new IllegalArgumentException("invalid " + field + ": " + problem + "; expected " + FORMAT);
    }
    return new ClusterToken(value, null);
  }

  /**
   * A token kept in a file, read now (to report a bad file at start) and re-read when it changes.
   *
   * @throws IllegalArgumentException naming the file when it cannot be read or holds no valid
   *     token
   */
  public static ClusterToken fromFile(Path file) {
    Objects.requireNonNull(file, "file");
    ClusterToken t = new ClusterToken(null, file);
    try {
      t.read();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          e.getMessage() != null && e.getMessage().contains(file.toString())
              ? e.getMessage()
              : "cannot read the token file " + file + ": " + e,
          e);
    }
    return t;
  }

  /** The file the token is kept in, or null for an inline token. */
  public Path file() {
    return file;
  }

  /** The tokens in force: what this node sends, and what it accepts. Never logged. */
  record Tokens(byte[] sent, List<byte[]> accepted, byte[] fingerprint) {}

  /**
   * Reads the tokens (again, for a file).
   *
   * @throws IOException when the file cannot be read or holds no valid token; the message names
   *     the file and line, never a token
   */
  Tokens read() throws IOException {
    List<String> lines = new ArrayList<>();
    if (inline != null) {
      lines.add(inline);
    } else {
      byte[] content;
      try (var in = Files.newInputStream(file)) {
        content = in.readNBytes(MAX_FILE_BYTES + 1);
      }
      if (content.length > MAX_FILE_BYTES) {
        throw new IOException("the token file " + file + " is larger than " + MAX_FILE_BYTES + " bytes");
      }
      String[] raw = new String(content, StandardCharsets.UTF_8).split("\r?\n", -1);
      for (int i = 0; i < raw.length; i++) {
        String line = raw[i].strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        String problem = problem(line);
        if (problem != null) {
          throw new IOException("line " + (i + 1) + " of the token file " + file + ": " + problem + "; expected " + FORMAT);
        }
        lines.add(line);
      }
      if (lines.isEmpty()) {
        throw new IOException("the token file " + file + " holds no token; expected one per line, " + FORMAT);
      }
    }
    List<byte[]> accepted = new ArrayList<>();
    MessageDigest all = sha256();
    for (String line : lines) {
      byte[] b = line.getBytes(StandardCharsets.US_ASCII);
      accepted.add(b);
      all.update(sha256().digest(b));
    }
    return new Tokens(accepted.get(0), List.copyOf(accepted), all.digest());
  }

  /**
   * True when {@code presented} equals one of {@code accepted}. Compares SHA-256 digests with
   * {@link MessageDigest#isEqual}, and always compares against every accepted token, so the time
   * taken says nothing about how much of a guess was right.
   */
  static boolean matches(byte[] presented, List<byte[]> accepted) {
    byte[] p = sha256().digest(presented);
    boolean ok = false;
    for (byte[] a : accepted) {
      ok |= MessageDigest.isEqual(p, sha256().digest(a));
    }
    return ok;
  }

  /** What is wrong with {@code value} as a token, in words that never repeat it; null if nothing. */
  static String problem(String value) {
    if (value == null || value.isEmpty()) {
      return "the token is empty";
    }
    if (value.length() < MIN_CHARS) {
      return "the token has " + value.length() + " characters, fewer than " + MIN_CHARS;
    }
    if (value.length() > MAX_CHARS) {
      return "the token has " + value.length() + " characters, more than " + MAX_CHARS;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return "the token holds a space, a control character or a non-ASCII character at position " + (i + 1);
      }
    }
    return null;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * Reads the token now and returns a holder of the tokens in force, for a server (or an HTTP
   * API) that checks presented tokens and re-reads a token file when it changes.
   *
   * @throws IOException when the file cannot be read or holds no valid token
   */
  public Keeper keeper() throws IOException {
    return new Keeper(this, read());
  }

  /**
   * The tokens in force for one {@link ClusterToken}: checks presented tokens in constant time
   * and re-reads a token file on {@link #reload()}. Thread-safe.
   */
  public static final class Keeper {
    private final ClusterToken token;
    private volatile Tokens current;

    private Keeper(ClusterToken token, Tokens current) {
      this.token = token;
      this.current = current;
    }

    /** True when {@code presented} is one of the accepted tokens (null: false). */
    public boolean accepts(String presented) {
      if (presented == null) {
        return false;
      }
      return matches(presented.getBytes(StandardCharsets.UTF_8), current.accepted());
    }

    /** How many tokens are accepted now (for logs: never the tokens). */
    public int acceptedCount() {
      return current.accepted().size();
    }

    /** The token this node sends. */
    public String sent() {
      return new String(current.sent(), StandardCharsets.US_ASCII);
    }

    /**
     * Re-reads a token file; returns true when the tokens changed. An inline token never
     * changes.
     *
     * @throws IOException when the file cannot be read or holds no valid token; the tokens in
     *     force stay
     */
    public synchronized boolean reload() throws IOException {
      if (token.file == null) {
        return false;
      }
      Tokens read = token.read();
      if (java.util.Arrays.equals(read.fingerprint(), current.fingerprint())) {
        return false;
      }
      current = read;
      return true;
    }

    /** The token this keeper holds, for messages. */
    public ClusterToken token() {
      return token;
    }
  }

  /** Never the token: where it comes from. */
  @Override
  public String toString() {
    return inline != null ? "<token, hidden>" : "<token from file " + file + ">";
  }
}
