package dev.edgesync.engine.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.edgesync.testing.TestPki;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which node ids a certificate speaks for: its SAN DNS names, else its CN (RFC 6125). */
class CertificateNamesTest {
  private static final TestPki.Ca CA = TestPki.newCa("names CA");

  @Test
  void sanDnsNamesWinOverTheCommonName() {
    assertEquals(Set.of("site-b", "site-b.example"), CertificateNames.of(CA.issue("ignored-cn", List.of("site-b", "site-b.example"), Duration.ofDays(1)).cert()));
  }

  @Test
  void theCommonNameCountsOnlyWithoutSans() {
    assertEquals(Set.of("site-c"), CertificateNames.of(CA.issue("site-c", List.of(), Duration.ofDays(1)).cert()));
  }
}
