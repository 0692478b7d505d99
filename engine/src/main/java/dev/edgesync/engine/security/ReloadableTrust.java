package dev.edgesync.engine.security;

import dev.edgesync.engine.metrics.EngineMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A CA bundle and the PKIX trust manager made from it, swapped when the file's content changes.
 *
 * <p>Thread safety: {@link #current()} may be called by any handshake; {@link #reload()} is called
 * under {@link TlsMaterial}'s lock only.
 */
final class ReloadableTrust {
  // Logs under TlsMaterial, the type operators know for TLS, so their log settings keep working.
  private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);

  private final Path file;
  private final String field;
  private final String nodeId;
  private final EngineMetrics metrics;
  private volatile X509TrustManager current;
  private byte[] hash;
  private byte[] failedHash;

  /**
   * Reads the bundle now.
   *
   * @throws dev.edgesync.discovery.ConfigException naming {@code field} and the file when the file
   *     cannot be used
   */
  ReloadableTrust(Path file, String field, String nodeId, EngineMetrics metrics) {
    this.file = file;
    this.field = field;
    this.nodeId = nodeId;
    this.metrics = metrics;
    try {
      byte[] content = PemFiles.read(file, field);
      current = trustManager(content);
      hash = PemFiles.sha256(content);
    } catch (UnusableTlsFile e) {
      throw e.toConfigException();
    }
  }

  /** The CA bundle file. */
  Path file() {
    return file;
  }

  /** The setting that names the file, e.g. {@code security.tls.ca}. */
  String field() {
    return field;
  }

  /** The trust manager of the bundle in force. */
  X509TrustManager current() {
    return current;
  }

  /** Re-reads the file and installs it if it changed and is valid. Under TlsMaterial's lock. */
  void reload() {
    try {
      byte[] content = PemFiles.read(file, field);
      byte[] h = PemFiles.sha256(content);
      if (Arrays.equals(h, hash)) {
        return;
      }
      try {
        current = trustManager(content);
        hash = h;
        failedHash = null;
        log.info("node {}: reloaded the trusted CAs from {} ({} certificates)", nodeId, file, current.getAcceptedIssuers().length);
        metrics.securityReloads("trust", "ok").increment();
      } catch (UnusableTlsFile e) {
        trustFailed(h, e.getMessage());
      }
    } catch (UnusableTlsFile e) {
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

  private X509TrustManager trustManager(byte[] content) throws UnusableTlsFile {
    X509Certificate[] cas = PemFiles.certificates(content, file, field);
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
      throw new UnusableTlsFile(field, file, "the JDK made no X.509 trust manager", "a PEM file of CA certificates");
    } catch (GeneralSecurityException | IOException e) {
      throw new UnusableTlsFile(field, file, "the CA certificates cannot be used: " + e.getMessage(), "a PEM file of CA certificates");
    }
  }
}
