package dev.edgesync.engine.security;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Checks client certificates on the replication server: chain to a trusted CA, no name check
 * (that is per Hello). Every refusal is told to the {@link TlsMaterial.Rejections}.
 */
final class ServerTrust extends X509ExtendedTrustManager {
  private final ReloadableTrust trust;
  private final TlsMaterial.Rejections rejections;

  ServerTrust(ReloadableTrust trust, TlsMaterial.Rejections rejections) {
    this.trust = trust;
    this.rejections = rejections;
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
              + trust.field() + " (" + trust.file() + "): " + e.getMessage();
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
