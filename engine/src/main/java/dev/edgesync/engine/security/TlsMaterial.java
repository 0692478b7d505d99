package dev.edgesync.engine.security;

import dev.edgesync.engine.metrics.EngineMetrics;
import io.grpc.util.AdvancedTlsX509KeyManager;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
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
 * <p>This class holds the key manager and decides when to reload; {@link TlsIdentity} reads and
 * checks the certificate and key, {@link ReloadableTrust} one CA bundle, {@link ServerTrust} and
 * {@link ClientTrust} check the peer's certificate in a handshake.
 *
 * <p>Thread safety: the managers may be used by any number of handshakes at once; {@link
 * #reload()} is serialised.
 */
public final class TlsMaterial {
  private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);

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
  private final Map<Path, ReloadableTrust> trusts = new LinkedHashMap<>();

  /**
   * Reads every file now.
   *
   * @throws dev.edgesync.discovery.ConfigException naming the setting and the file when a file cannot be used
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
    TlsIdentity identity;
    try {
      identity = TlsIdentity.read(nodeId, files);
    } catch (UnusableTlsFile e) {
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
    return new ServerTrust(trustFor(files.trustedCa(), "security.tls.ca"), rejections);
  }

  /**
   * The trust manager of the client to {@code peerId}: a server certificate signed by the peer's
   * CA (its override, else {@code security.tls.ca}) that names the peer's id (or its configured
   * server name).
   */
  public X509ExtendedTrustManager clientTrust(String peerId) {
    SecuritySettings.PeerTls override = peerTls.get(peerId);
    ReloadableTrust trust =
        override != null && override.trustedCa() != null
            ? trustFor(override.trustedCa(), "security.tls.peers." + peerId + ".ca")
            : trustFor(files.trustedCa(), "security.tls.ca");
    String expected = override != null && override.serverName() != null ? override.serverName() : peerId;
    return new ClientTrust(nodeId, peerId, expected, trust, rejections);
  }

  /** Re-reads every file and installs what changed and is valid. Called by the poller. */
  public synchronized void reload() {
    byte[] hash;
    try {
      hash = TlsIdentity.hashOf(files);
    } catch (UnusableTlsFile e) {
      identityFailed(null, e.getMessage());
      return;
    }
    if (!Arrays.equals(hash, identityHash)) {
      try {
        TlsIdentity identity = TlsIdentity.read(nodeId, files);
        install(identity);
        failedIdentityHash = null;
        log.info("node {}: reloaded its TLS identity from {}: {}", nodeId, files.certChain(), CertificateNames.describe(identity.chain()[0]));
        metrics.securityReloads("identity", "ok").increment();
      } catch (UnusableTlsFile e) {
        identityFailed(hash, e.getMessage());
      }
    }
    for (ReloadableTrust trust : trusts.values()) {
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

  private synchronized void install(TlsIdentity identity) {
    keyManager.updateIdentityCredentials(identity.chain(), identity.key());
    identityHash = identity.hash();
  }

  private synchronized ReloadableTrust trustFor(Path file, String field) {
    return trusts.computeIfAbsent(file, f -> new ReloadableTrust(f, field, nodeId, metrics));
  }
}
