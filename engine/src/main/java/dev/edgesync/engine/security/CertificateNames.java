package dev.edgesync.engine.security;

import dev.edgesync.engine.replication.wire.Untrusted;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * The node ids a certificate speaks for: its subject alternative DNS names, or, only when it has
 * none, the common name of its subject (the rule of RFC 6125: a certificate with SANs is judged
 * by them alone). Names are compared exactly with node ids.
 */
public final class CertificateNames {
  private static final int SAN_DNS_NAME = 2;

  private CertificateNames() {}

  /** The names of {@code cert}, in the order the certificate lists them; may be empty. */
  public static Set<String> of(X509Certificate cert) {
    Set<String> names = new LinkedHashSet<>();
    Collection<List<?>> sans;
    try {
      sans = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      // A SAN extension that cannot be parsed names nobody: safer than falling back to the CN.
      return Set.of();
    }
    if (sans != null) {
      for (List<?> san : sans) {
        if (san.size() >= 2 && san.get(0) instanceof Integer type && type == SAN_DNS_NAME && san.get(1) instanceof String dns) {
          names.add(dns);
        }
      }
      if (!names.isEmpty()) {
        return Set.copyOf(names);
      }
    }
    String cn = commonName(cert.getSubjectX500Principal());
    return cn == null ? Set.of() : Set.of(cn);
  }

  /** The (last) CN of {@code principal}, or null. */
  static String commonName(X500Principal principal) {
    try {
      String cn = null;
      for (Rdn rdn : new LdapName(principal.getName(X500Principal.RFC2253)).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN") && rdn.getValue() instanceof String s) {
          cn = s;
        }
      }
      return cn;
    } catch (InvalidNameException e) {
      return null;
    }
  }

  /** One line about {@code cert} for logs and errors: subject, names, issuer, serial, expiry. */
  public static String describe(X509Certificate cert) {
    // Subjects and names come from whoever made the certificate: escaped before they reach a log.
    return "certificate '" + Untrusted.text(cert.getSubjectX500Principal().getName(X500Principal.RFC2253)) + "' (names "
        + Untrusted.text(of(cert).toString()) + ", issued by '"
        + Untrusted.text(cert.getIssuerX500Principal().getName(X500Principal.RFC2253))
        + "', serial " + cert.getSerialNumber().toString(16) + ", valid until " + cert.getNotAfter().toInstant() + ")";
  }
}
