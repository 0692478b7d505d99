package dev.edgesync.engine.security;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Checks a peer's server certificate: chain to the trusted CA, and a name equal to the peer's id
 * (or its configured server name). The address the peer was reached at plays no part: sites are
 * often reached by IP or through NAT, and what matters is which node answers. Every refusal is
 * told to the {@link TlsMaterial.Rejections}.
 */
final class ClientTrust extends X509ExtendedTrustManager {
  private final String nodeId;
  private final String peerId;
  private final String expectedName;
  private final ReloadableTrust trust;
  private final TlsMaterial.Rejections rejections;

  ClientTrust(
      String nodeId, String peerId, String expectedName, ReloadableTrust trust, TlsMaterial.Rejections rejections) {
    this.nodeId = nodeId;
    this.peerId = peerId;
    this.expectedName = expectedName;
    this.trust = trust;
    this.rejections = rejections;
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
              + trust.field() + " (" + trust.file() + "): " + e.getMessage();
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
