package dev.edgesync.engine.security;

import io.grpc.util.CertificateUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * Reading the PEM files of the TLS settings: a bounded read, the certificates in a file, and the
 * SHA-256 by which a reload tells whether a file changed. Every failure is an {@link
 * UnusableTlsFile} naming the setting and the file.
 */
final class PemFiles {
  private static final int MAX_PEM_BYTES = 1024 * 1024;

  private PemFiles() {}

  /** The content of {@code file}, the setting {@code field}; at most 1 MiB. */
  static byte[] read(Path file, String field) throws UnusableTlsFile {
    try (var in = Files.newInputStream(file)) {
      byte[] content = in.readNBytes(MAX_PEM_BYTES + 1);
      if (content.length > MAX_PEM_BYTES) {
        throw new UnusableTlsFile(field, file, "the file is larger than " + MAX_PEM_BYTES + " bytes", "a PEM file");
      }
      return content;
    } catch (IOException e) {
      throw new UnusableTlsFile(field, file, "the file cannot be read: " + e, "a readable PEM file");
    }
  }

  /** The certificates in {@code pem}, in file order; at least one. */
  static X509Certificate[] certificates(byte[] pem, Path file, String field) throws UnusableTlsFile {
    X509Certificate[] certs;
    try {
      certs = CertificateUtils.getX509Certificates(new ByteArrayInputStream(pem));
    } catch (CertificateException | RuntimeException e) {
      throw new UnusableTlsFile(field, file, "the certificates cannot be read: " + e.getMessage(), "PEM certificates (BEGIN CERTIFICATE)");
    }
    if (certs.length == 0) {
      throw new UnusableTlsFile(field, file, "the file holds no certificate", "PEM certificates (BEGIN CERTIFICATE)");
    }
    return certs;
  }

  static byte[] sha256(byte[] content) {
    return sha256().digest(content);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
