package dev.edgesync.engine.security;

import dev.edgesync.discovery.ConfigException;
import dev.edgesync.engine.metrics.EngineMetrics;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.CertificateUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's TLS identity (certificate chain and private key) and the CAs it trusts, read from
 * PEM files and re-read when they change, so certificates can be rotated without a restart.
 *
 * <p>The key manager and the trust managers handed out stay the same objects for the life of the
 * transport; {@link #reload()} swaps what is behind them. A handshake after a reload uses the new
 * material; a connection already open keeps its session until it reconnects.
 *
 * <p>A reload that finds a broken file (half written, a key that does not match its certificate,
 * an expired certificate) keeps the material in force, logs why once per distinct file content
 * and counts {@code edgesync.security.reloads{result=failed}}; it tries again at the next poll.
 *
 * <p>Thread safety: the managers may be used by any number of handshakes at once; {@link
 * #reload()} is serialised.
 */
public final class TlsMaterial {
  private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);
  private static final int MAX_PEM_BYTES = 1024 * 1024;

  /** Told about every certificate this node refuses during a handshake. */
  public interface Rejections {
    /**
     * Called once per refused certificate.
     *
     * @param peerId the peer this node connects to, or null on the server side
     * @param reason the {@code reason}/{@code kind} tag of the metric
     * @param message for people: names the certificate and the cause
     */
    void rejected(String peerId, String reason, String message);
  }

  private final String nodeId;
  private final SecuritySettings.Tls files;
  private final Map<String, SecuritySettings.PeerTls> peerTls;
  private final EngineMetrics metrics;
  private final Rejections rejections;
  private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
  // Guarded by this (written by load and reload only).
  private byte[] identityHash;
  private byte[] failedIdentityHash;
  private final Map<Path, Trust> trusts = new LinkedHashMap<>();

  /**
   * Reads every file now.
   *
   * @throws ConfigException naming the setting and the file when a file cannot be used
   */
  public TlsMaterial(
      String nodeId,
      SecuritySettings.Tls files,
      Map<String, SecuritySettings.PeerTls> peerTls,
      EngineMetrics metrics,
      Rejections rejections) {
    this.nodeId = nodeId;
    this.files = Objects.requireNonNull(files, "files");
    this.peerTls = Map.copyOf(peerTls);
    this.metrics = metrics;
    this.rejections = rejections;
    Identity identity;
    try {
      identity = readIdentity();
    } catch (BadFile e) {
      throw e.toConfigException();
    }
    install(identity);
    trustFor(files.trustedCa(), "security.tls.ca");
    for (Map.Entry<String, SecuritySettings.PeerTls> e : this.peerTls.entrySet()) {
      if (e.getValue().trustedCa() != null) {
        trustFor(e.getValue().trustedCa(), "security.tls.peers." + e.getKey() + ".ca");
      }
    }
  }

  /** The key manager of this node's identity, for the server and every client. */
  public X509ExtendedKeyManager keyManager() {
    return keyManager;
  }

  /** The trust manager of the server: client certificates signed by {@code security.tls.ca}. */
  public X509ExtendedTrustManager serverTrust() {
    return new ServerTrust(trustFor(files.trustedCa(), "security.tls.ca"));
  }

  /**
   * The trust manager of the client to {@code peerId}: a server certificate signed by the peer's
   * CA (its override, else {@code security.tls.ca}) that names the peer's id (or its configured
   * server name).
   */
  public X509ExtendedTrustManager clientTrust(String peerId) {
    SecuritySettings.PeerTls override = peerTls.get(peerId);
    Trust trust =
        override != null && override.trustedCa() != null
            ? trustFor(override.trustedCa(), "security.tls.peers." + peerId + ".ca")
            : trustFor(files.trustedCa(), "security.tls.ca");
    String expected = override != null && override.serverName() != null ? override.serverName() : peerId;
    return new ClientTrust(peerId, expected, trust);
  }

  /** Re-reads every file and installs what changed and is valid. Called by the poller. */
  public synchronized void reload() {
    byte[] hash;
    try {
      hash = identityHash(read(files.certChain(), "security.tls.cert"), read(files.privateKey(), "security.tls.key"));
    } catch (BadFile e) {
      identityFailed(null, e.getMessage());
      return;
    }
    if (!Arrays.equals(hash, identityHash)) {
      try {
        Identity identity = readIdentity();
        install(identity);
        failedIdentityHash = null;
        log.info("node {}: reloaded its TLS identity from {}: {}", nodeId, files.certChain(), CertificateNames.describe(identity.chain[0]));
        metrics.securityReloads("identity", "ok").increment();
      } catch (BadFile e) {
        identityFailed(hash, e.getMessage());
      }
    }
    for (Trust trust : trusts.values()) {
      trust.reload();
    }
  }

  private void identityFailed(byte[] hash, String why) {
    if (hash == null || !Arrays.equals(hash, failedIdentityHash)) {
      failedIdentityHash = hash;
      log.warn(
          "node {}: cannot reload its TLS identity ({}); keeping the certificate in force and trying again",
          nodeId, why);
    }
    metrics.securityReloads("identity", "failed").increment();
  }

  // ------------------------------------------------------------------ identity

  private record Identity(X509Certificate[] chain, PrivateKey key, byte[] hash) {}

  private Identity readIdentity() throws BadFile {
    byte[] certBytes = read(files.certChain(), "security.tls.cert");
    byte[] keyBytes = read(files.privateKey(), "security.tls.key");
    X509Certificate[] chain = certificates(certBytes, files.certChain(), "security.tls.cert");
    PrivateKey key = privateKey(keyBytes);
    checkKeyMatches(chain[0], key);
    Instant now = Instant.now();
    if (chain[0].getNotAfter().toInstant().isBefore(now)) {
      throw new BadFile(
          "security.tls.cert",
          files.certChain(),
          "the certificate expired at " + chain[0].getNotAfter().toInstant(),
          "a current certificate of this node");
    }
    if (!CertificateNames.of(chain[0]).contains(nodeId)) {
      log.warn(
          "node {}: its own {} does not name node id '{}' (SAN DNS name or CN): peers will refuse it",
          nodeId, CertificateNames.describe(chain[0]), nodeId);
    }
    return new Identity(chain, key, identityHash(certBytes, keyBytes));
  }

  private synchronized void install(Identity identity) {
    keyManager.updateIdentityCredentials(identity.chain, identity.key);
    identityHash = identity.hash;
  }

  private PrivateKey privateKey(byte[] pem) throws BadFile {
    String text = new String(pem, StandardCharsets.US_ASCII);
    String convert =
        "an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY); convert with 'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8'";
    if (text.contains("BEGIN ENCRYPTED PRIVATE KEY")) {
      throw new BadFile("security.tls.key", files.privateKey(), "the key is encrypted", convert);
    }
    if (text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY")) {
      throw new BadFile("security.tls.key", files.privateKey(), "the key is in the traditional (PKCS#1/SEC1) form", convert);
    }
    if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
      throw new BadFile("security.tls.key", files.privateKey(), "no PEM private key found", convert);
    }
    try {
      return CertificateUtils.getPrivateKey(new ByteArrayInputStream(pem));
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new BadFile("security.tls.key", files.privateKey(), "the key cannot be read: " + e.getMessage(), "an RSA or EC key");
    }
  }

  private void checkKeyMatches(X509Certificate cert, PrivateKey key) throws BadFile {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> null;
        };
    if (algorithm == null) {
      throw new BadFile("security.tls.key", files.privateKey(), "the key is of type " + key.getAlgorithm(), "an RSA or EC key");
    }
    try {
      byte[] probe = "edgesync key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(probe);
      if (verifier.verify(signature)) {
        return;
      }
    } catch (GeneralSecurityException e) {
      // Falls through: a key of another type than the certificate's does not match either.
    }
    throw new BadFile(
        "security.tls.key",
        files.privateKey(),
        "the key does not belong to the first certificate of " + files.certChain() + " (" + CertificateNames.describe(cert) + ")",
        "the private key of that certificate (replace both files together, key last)");
  }

  // ------------------------------------------------------------------ trust

  private synchronized Trust trustFor(Path file, String field) {
    Trust t = trusts.get(file);
    if (t == null) {
      t = new Trust(file, field);
      trusts.put(file, t);
    }
    return t;
  }

  /** A CA bundle and the PKIX trust manager made from it, swapped when the file changes. */
  private final class Trust {
    final Path file;
    final String field;
    private volatile X509TrustManager current;
    private byte[] hash;
    private byte[] failedHash;

    Trust(Path file, String field) {
      this.file = file;
      this.field = field;
      try {
        byte[] content = read(file, field);
        current = trustManager(content);
        hash = sha256(content);
      } catch (BadFile e) {
        throw e.toConfigException();
      }
    }

    X509TrustManager current() {
      return current;
    }

    /** Under TlsMaterial's lock. */
    void reload() {
      try {
        byte[] content = read(file, field);
        byte[] h = sha256(content);
        if (Arrays.equals(h, hash)) {
          return;
        }
        try {
          current = trustManager(content);
          hash = h;
          failedHash = null;
          log.info("node {}: reloaded the trusted CAs from {} ({} certificates)", nodeId, file, current.getAcceptedIssuers().length);
          metrics.securityReloads("trust", "ok").increment();
        } catch (BadFile e) {
          trustFailed(h, e.getMessage());
        }
      } catch (BadFile e) {
        trustFailed(null, e.getMessage());
      }
    }

    private void trustFailed(byte[] h, String why) {
      if (h == null || !Arrays.equals(h, failedHash)) {
        failedHash = h;
        log.warn("node {}: cannot reload the trusted CAs ({}); keeping the ones in force and trying again", nodeId, why);
      }
      metrics.securityReloads("trust", "failed").increment();
    }

    private X509TrustManager trustManager(byte[] content) throws BadFile {
      X509Certificate[] cas = certificates(content, file, field);
      try {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        for (int i = 0; i < cas.length; i++) {
          store.setCertificateEntry("ca-" + i, cas[i]);
        }
        TrustManagerFactory f = TrustManagerFactory.getInstance("PKIX");
        f.init(store);
        for (TrustManager tm : f.getTrustManagers()) {
          if (tm instanceof X509TrustManager x) {
            return x;
          }
        }
        throw new BadFile(field, file, "the JDK made no X.509 trust manager", "a PEM file of CA certificates");
      } catch (GeneralSecurityException | IOException e) {
        throw new BadFile(field, file, "the CA certificates cannot be used: " + e.getMessage(), "a PEM file of CA certificates");
      }
    }
  }

  /** Checks client certificates on the server: chain to a trusted CA, no name check (that is per Hello). */
  private final class ServerTrust extends X509ExtendedTrustManager {
    private final Trust trust;

    ServerTrust(Trust trust) {
      this.trust = trust;
    }

    private void check(X509Certificate[] chain, String authType) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("no client certificate");
      }
      try {
        trust.current().checkClientTrusted(chain, authType);
      } catch (CertificateException e) {
        String message =
            "a client presented " + CertificateNames.describe(chain[0]) + ", which is not signed by a CA in "
                + trust.field + " (" + trust.file + "): " + e.getMessage();
        rejections.rejected(null, "untrusted_certificate", message);
        throw new CertificateException(message, e);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("the replication server's trust manager only checks clients");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return trust.current().getAcceptedIssuers();
    }
  }

  /**
   * Checks a peer's server certificate: chain to the trusted CA, and a name equal to the peer's
   * id (or its configured server name). The address the peer was reached at plays no part: sites
   * are often reached by IP or through NAT, and what matters is which node answers.
   */
  private final class ClientTrust extends X509ExtendedTrustManager {
    private final String peerId;
    private final String expectedName;
    private final Trust trust;

    ClientTrust(String peerId, String expectedName, Trust trust) {
      this.peerId = peerId;
      this.expectedName = expectedName;
      this.trust = trust;
    }

    private void check(X509Certificate[] chain, String authType) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("peer '" + peerId + "' presented no certificate");
      }
      try {
        trust.current().checkServerTrusted(chain, authType);
      } catch (CertificateException e) {
        String message =
            "peer '" + peerId + "' presented " + CertificateNames.describe(chain[0]) + ", which is not signed by a CA in "
                + trust.field + " (" + trust.file + "): " + e.getMessage();
        rejections.rejected(peerId, "tls_untrusted_server", message);
        throw new CertificateException(message, e);
      }
      if (!CertificateNames.of(chain[0]).contains(expectedName)) {
        String message =
            "peer '" + peerId + "' presented " + CertificateNames.describe(chain[0]) + ", which does not name '"
                + expectedName + "': node '" + nodeId + "' refuses to sync with it (the certificate must name the"
                + " peer's node id, or set security.tls.peers." + peerId + ".serverName)";
        rejections.rejected(peerId, "tls_server_identity", message);
        throw new CertificateException(message);
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("a replication client's trust manager only checks servers");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return trust.current().getAcceptedIssuers();
    }
  }

  // ------------------------------------------------------------------ files

  private static byte[] read(Path file, String field) throws BadFile {
    try (var in = Files.newInputStream(file)) {
      byte[] content = in.readNBytes(MAX_PEM_BYTES + 1);
      if (content.length > MAX_PEM_BYTES) {
        throw new BadFile(field, file, "the file is larger than " + MAX_PEM_BYTES + " bytes", "a PEM file");
      }
      return content;
    } catch (IOException e) {
      throw new BadFile(field, file, "the file cannot be read: " + e, "a readable PEM file");
    }
  }

  private static X509Certificate[] certificates(byte[] pem, Path file, String field) throws BadFile {
    X509Certificate[] certs;
    try {
      certs = CertificateUtils.getX509Certificates(new ByteArrayInputStream(pem));
    } catch (CertificateException | RuntimeException e) {
      throw new BadFile(field, file, "the certificates cannot be read: " + e.getMessage(), "PEM certificates (BEGIN CERTIFICATE)");
    }
    if (certs.length == 0) {
      throw new BadFile(field, file, "the file holds no certificate", "PEM certificates (BEGIN CERTIFICATE)");
    }
    return certs;
  }

  private static byte[] identityHash(byte[] cert, byte[] key) {
    MessageDigest d = digest();
    d.update(sha256(cert));
    d.update(sha256(key));
    return d.digest();
  }

  private static byte[] sha256(byte[] content) {
    return digest().digest(content);
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** A TLS file that cannot be used, with the setting that names it. */
  private static final class BadFile extends Exception {
    private static final long serialVersionUID = 1L;
    final String field;
    final Path file;
    final String problem;
    final String expected;

    BadFile(String field, Path file, String problem, String expected) {
      super(field + " " + file + ": " + problem, null, false, false);
      this.field = field;
      this.file = file;
      this.problem = problem;
      this.expected = expected;
    }

    ConfigException toConfigException() {
      return new ConfigException("security settings", field, file.toString(), problem, expected);
    }
  }
}
