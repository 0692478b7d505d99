package dev.edgesync.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away PKI for the TLS and security tests: a CA and node certificates made in memory during the test run
 * (EC P-256, SHA-256), written as PEM files like the ones {@code openssl} makes. No private key
 * is committed to the repository.
 */
public final class TestPki {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

  private TestPki() {}

  /** A certificate authority. */
  public record Ca(String name, KeyPair keys, X509Certificate cert) {
    /** A node certificate for {@code nodeId}: SAN DNS {@code nodeId}, CN {@code nodeId}. */
    public Issued issue(String nodeId) {
      return issue(nodeId, List.of(nodeId), Duration.ofDays(1));
    }

    /** A certificate for an HTTPS endpoint at {@code ip}: SAN IP address and DNS {@code cn}. */
    public Issued issueForIp(String cn, String ip) {
      return issue(cn, List.of(cn, "ip:" + ip), Duration.ofDays(1));
    }

    /**
     * A certificate with CN {@code cn} and the given SAN names (none: CN only); a name written
     * {@code ip:<address>} becomes an IP address SAN.
     */
    public Issued issue(String cn, List<String> dnsNames, Duration validity) {
      try {
        KeyPair keys = ecKeys();
        Instant now = Instant.now();
        X509v3CertificateBuilder b =
            new JcaX509v3CertificateBuilder(
                cert,
                BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofMinutes(5))),
                Date.from(now.plus(validity)),
                new X500Name("CN=" + cn + ",O=edgesync tests"),
                keys.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        b.addExtension(
            Extension.extendedKeyUsage,
            false,
            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        if (!dnsNames.isEmpty()) {
          GeneralName[] names =
              dnsNames.stream()
                  .map(n -> n.startsWith("ip:") ? new GeneralName(GeneralName.iPAddress, n.substring(3)) : new GeneralName(GeneralName.dNSName, n))
                  .toArray(GeneralName[]::new);
          b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        }
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(cert));
        return new Issued(sign(b, this.keys), keys, this);
      } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A node certificate and its key. */
  public record Issued(X509Certificate cert, KeyPair keys, Ca ca) {
    /** Writes the certificate (followed by nothing: the CA is not an intermediate) and the PKCS#8 key. */
    public void write(Path certFile, Path keyFile) {
      writeAtomically(certFile, pem("CERTIFICATE", encoded(cert)));
      writeAtomically(keyFile, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
    }
  }

  /** A new self-signed CA. */
  public static Ca newCa(String name) {
    try {
      KeyPair keys = ecKeys();
      Instant now = Instant.now();
      X500Name subject = new X500Name("CN=" + name + ",O=edgesync tests");
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              subject,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(Duration.ofDays(2))),
              subject,
              keys.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      return new Ca(name, keys, sign(b, keys));
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes CA certificates as one PEM bundle. */
  public static void writeBundle(Path file, Ca... cas) {
    StringBuilder s = new StringBuilder();
    for (Ca ca : cas) {
      s.append(pem("CERTIFICATE", encoded(ca.cert())));
    }
    writeAtomically(file, s.toString());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static byte[] encoded(X509Certificate cert) {
    try {
      return cert.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  /** Temp file + rename, as an operator's deploy tool would: a reader never sees half a file. */
  public static void writeAtomically(Path file, String content) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".pki", ".tmp");
      Files.writeString(tmp, content, StandardCharsets.US_ASCII);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
