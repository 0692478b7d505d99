package dev.edgesync.engine.security;

import io.grpc.util.CertificateUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's certificate chain and private key as read from {@code security.tls.cert} and {@code
 * security.tls.key}, checked to belong together and to be current, with the hash of both files
 * that tells a reload whether anything changed.
 */
record TlsIdentity(X509Certificate[] chain, PrivateKey key, byte[] hash) {
  // Logs under TlsMaterial, the type operators know for TLS, so their log settings keep working.
  private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);
  private static final String CERT_FIELD = "security.tls.cert";
  private static final String KEY_FIELD = "security.tls.key";

  /** The hash of the two files as they are now, without parsing them. */
  static byte[] hashOf(SecuritySettings.Tls files) throws UnusableTlsFile {
    return hash(PemFiles.read(files.certChain(), CERT_FIELD), PemFiles.read(files.privateKey(), KEY_FIELD));
  }

  /**
   * Reads and checks the identity of node {@code nodeId}. A certificate that does not name the
   * node is only warned about: peers will refuse it, but the node may still serve.
   */
  static TlsIdentity read(String nodeId, SecuritySettings.Tls files) throws UnusableTlsFile {
    byte[] certBytes = PemFiles.read(files.certChain(), CERT_FIELD);
    byte[] keyBytes = PemFiles.read(files.privateKey(), KEY_FIELD);
    X509Certificate[] chain = PemFiles.certificates(certBytes, files.certChain(), CERT_FIELD);
    PrivateKey key = privateKey(keyBytes, files);
    checkKeyMatches(chain[0], key, files);
    Instant now = Instant.now();
    if (chain[0].getNotAfter().toInstant().isBefore(now)) {
      throw new UnusableTlsFile(
          CERT_FIELD,
          files.certChain(),
          "the certificate expired at " + chain[0].getNotAfter().toInstant(),
          "a current certificate of this node");
    }
    if (!CertificateNames.of(chain[0]).contains(nodeId)) {
      log.warn(
          "node {}: its own {} does not name node id '{}' (SAN DNS name or CN): peers will refuse it",
          nodeId, CertificateNames.describe(chain[0]), nodeId);
    }
    return new TlsIdentity(chain, key, hash(certBytes, keyBytes));
  }

  private static byte[] hash(byte[] cert, byte[] key) {
    MessageDigest d = PemFiles.sha256();
    d.update(PemFiles.sha256(cert));
    d.update(PemFiles.sha256(key));
    return d.digest();
  }

  private static PrivateKey privateKey(byte[] pem, SecuritySettings.Tls files) throws UnusableTlsFile {
    String text = new String(pem, StandardCharsets.US_ASCII);
    String convert =
        "an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY); convert with 'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8'";
    if (text.contains("BEGIN ENCRYPTED PRIVATE KEY")) {
      throw new UnusableTlsFile(KEY_FIELD, files.privateKey(), "the key is encrypted", convert);
    }
    if (text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY")) {
      throw new UnusableTlsFile(KEY_FIELD, files.privateKey(), "the key is in the traditional (PKCS#1/SEC1) form", convert);
    }
    if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
      throw new UnusableTlsFile(KEY_FIELD, files.privateKey(), "no PEM private key found", convert);
    }
    try {
      return CertificateUtils.getPrivateKey(new ByteArrayInputStream(pem));
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new UnusableTlsFile(KEY_FIELD, files.privateKey(), "the key cannot be read: " + e.getMessage(), "an RSA or EC key");
    }
  }

  private static void checkKeyMatches(X509Certificate cert, PrivateKey key, SecuritySettings.Tls files) throws UnusableTlsFile {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> null;
        };
    if (algorithm == null) {
      throw new UnusableTlsFile(KEY_FIELD, files.privateKey(), "the key is of type " + key.getAlgorithm(), "an RSA or EC key");
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
    throw new UnusableTlsFile(
        KEY_FIELD,
        files.privateKey(),
        "the key does not belong to the first certificate of " + files.certChain() + " (" + CertificateNames.describe(cert) + ")",
        "the private key of that certificate (replace both files together, key last)");
  }
}
