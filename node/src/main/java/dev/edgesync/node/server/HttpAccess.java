package dev.edgesync.node.server;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.engine.security.ClusterToken;
import dev.edgesync.node.config.NodeConfig;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.CertificateUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may use the HTTP API and how it is served: the bearer token every request but {@code
 * /health} must carry (when one is configured), and the TLS identity of HTTPS (when configured).
 * The token file and the certificate files are re-read by {@link #reload()} when they change.
 *
 * <p>The HTTP token is separate from the cluster token of the replication port: an operator
 * script that may read and write keys need not be able to join the cluster, and the other way
 * round.
 *
 * <p>Thread safety: {@link #check} may be called from any number of request threads; {@link
 * #reload()} is serialised.
 */
final class HttpAccess {
  private static final Logger log = LoggerFactory.getLogger(HttpAccess.class);
  private static final String BEARER = "bearer ";

  private final ClusterToken.Keeper token;
  private final Path certFile;
  private final Path keyFile;
  private final AdvancedTlsX509KeyManager keyManager;
  private final SSLContext ssl;
  private byte[] identityHash;
  private String lastFailure;

  private HttpAccess(ClusterToken.Keeper token, Path certFile, Path keyFile) {
    this.token = token;
    this.certFile = certFile;
    this.keyFile = keyFile;
    if (certFile == null) {
      keyManager = null;
      ssl = null;
      return;
    }
    keyManager = new AdvancedTlsX509KeyManager();
    try {
      install(readIdentity());
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException(
          "security settings",
          "security.http.tls",
          certFile + ", " + keyFile,
          "cannot use the HTTPS certificate and key: " + e.getMessage(),
          "a PEM certificate chain and its unencrypted PKCS#8 private key (BEGIN PRIVATE KEY)",
          e);
    }
    try {
      ssl = SSLContext.getInstance("TLS");
      ssl.init(new KeyManager[] {keyManager}, null, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot make a TLS context: " + e.getMessage(), e);
    }
  }

  /** No token, plain HTTP. */
  static HttpAccess open() {
    return new HttpAccess(null, null, null);
  }

  /**
   * From the node's security settings; reads the token and certificate files now.
   *
   * @throws ConfigException when a file cannot be used
   */
  static HttpAccess of(NodeConfig.Security security) {
    ClusterToken.Keeper keeper = null;
    NodeConfig.Secret secret = security.httpToken();
    if (secret != null) {
      String field = secret.file() != null ? "security.http.tokenFile" : "security.http.token";
      try {
        ClusterToken t =
            secret.file() != null ? ClusterToken.fromFile(secret.file()) : ClusterToken.of(secret.value(), field);
        keeper = t.keeper();
      } catch (IllegalArgumentException | IOException e) {
        throw new ConfigException(
            "security settings",
            field,
            secret.file() != null ? secret.file().toString() : "<hidden>",
            e.getMessage(),
            "a token of 16 to 4096 visible ASCII characters, or a file with one per line");
      }
    }
    return new HttpAccess(keeper, security.httpTlsCert(), security.httpTlsKey());
  }

  /** True when requests (but {@code /health}) need the bearer token. */
  boolean requiresToken() {
    return token != null;
  }

  /** The TLS context for HTTPS, or null for plain HTTP. */
  SSLContext sslContext() {
    return ssl;
  }

  /**
   * Checks an {@code Authorization} header. Returns null when it carries an accepted token,
   * else {@code missing_token} or {@code bad_token}. Constant time in the token's content.
   */
  String check(String authorization) {
    if (token == null) {
      return null;
    }
    if (authorization == null) {
      return "missing_token";
    }
    if (authorization.length() <= BEARER.length()
        || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return "bad_token";
    }
    return token.accepts(authorization.substring(BEARER.length()).strip()) ? null : "bad_token";
  }

  /** Re-reads the token file and the HTTPS files; keeps what is in force when a file is bad. */
  synchronized void reload() {
    if (token != null) {
      try {
        if (token.reload()) {
          log.info("reloaded the HTTP API token from {} ({} accepted token(s))", token.token().file(), token.acceptedCount());
        }
      } catch (IOException e) {
        failed("cannot reload the HTTP API token (" + e.getMessage() + "); keeping the token in force");
      }
    }
    if (keyManager != null) {
      try {
        byte[] hash = hash(Files.readAllBytes(certFile), Files.readAllBytes(keyFile));
        if (!Arrays.equals(hash, identityHash)) {
          Identity id = readIdentity();
          install(id);
          log.info(
              "reloaded the HTTPS certificate from {}: {}, valid until {}",
              certFile, id.chain[0].getSubjectX500Principal(), id.chain[0].getNotAfter().toInstant());
        }
      } catch (IOException | GeneralSecurityException e) {
        failed("cannot reload the HTTPS certificate (" + e.getMessage() + "); keeping the one in force");
      }
    }
  }

  private void failed(String message) {
    if (!message.equals(lastFailure)) {
      lastFailure = message;
      log.warn("{}", message);
    }
  }

  private record Identity(X509Certificate[] chain, PrivateKey key, byte[] hash) {}

  private Identity readIdentity() throws IOException, GeneralSecurityException {
    byte[] cert = Files.readAllBytes(certFile);
    byte[] key = Files.readAllBytes(keyFile);
    X509Certificate[] chain = CertificateUtils.getX509Certificates(new ByteArrayInputStream(cert));
    if (chain.length == 0) {
      throw new GeneralSecurityException(certFile + " holds no certificate");
    }
    PrivateKey privateKey = CertificateUtils.getPrivateKey(new ByteArrayInputStream(key));
    return new Identity(chain, privateKey, hash(cert, key));
  }

  private synchronized void install(Identity id) {
    keyManager.updateIdentityCredentials(id.chain, id.key);
    identityHash = id.hash;
  }

  private static byte[] hash(byte[] cert, byte[] key) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(MessageDigest.getInstance("SHA-256").digest(cert));
      d.update(MessageDigest.getInstance("SHA-256").digest(key));
      return d.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
