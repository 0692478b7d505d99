package dev.edgesync.engine.security;

import dev.edgesync.discovery.PeerSpec;
import dev.edgesync.engine.config.Defaults;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Who may talk to a node's replication port and how the node proves who it is: TLS from PEM
 * files, a shared cluster token, an allowlist of subscriber ids, and bounds on inbound streams.
 * Validated once, when made; every rule violation names the field and the value.
 *
 * <p>What each part checks, and where:
 *
 * <ul>
 *   <li>{@link #tls()}: the server and every client speak TLS. The server asks every client for a
 *       certificate signed by {@link Tls#trustedCa()}, refuses a stream without one ({@code
 *       UNAUTHENTICATED}) and refuses a {@code Hello} whose node id is not named by that
 *       certificate (SAN DNS name or, when there is no SAN, the CN). A client accepts a server
 *       certificate signed by the trusted CA that names the peer's id (or {@link
 *       PeerTls#serverName()}). The files are re-read when they change ({@link #reloadInterval()}).
 *   <li>{@link #token()}: every stream carries {@code authorization: Bearer <token>}; the server
 *       compares it in constant time and refuses a missing or wrong one ({@code UNAUTHENTICATED}).
 *   <li>{@link #allowedPeers()}: when not empty, only these node ids may subscribe; when empty,
 *       any subscriber that passed the checks above may.
 *   <li>{@link #maxInboundStreams()}, {@link #maxStreamsPerPeer()}, {@link #handshakeTimeout()}:
 *       bounds that keep a flood of connections from starving real peers.
 * </ul>
 *
 * <p>The {@code toString} of these settings never shows a token.
 *
 * @param tls TLS material for the server and the clients, or null for plaintext
 * @param peerTls per-peer overrides of the trusted CA and the expected server name, by peer id
 * @param token the cluster token, or null for none
 * @param allowedPeers node ids that may subscribe; empty means any authenticated node
 * @param maxInboundStreams most replication streams the server serves at once, all subscribers
 *     together
 * @param maxStreamsPerPeer most streams one subscriber id may hold at once; 2 lets a reconnect
 *     overlap the stream it replaces
 * @param handshakeTimeout how long a new connection may take to finish its TLS handshake, and a
 *     new stream to send its {@code Hello}
 * @param reloadInterval how often the certificate, key, CA and token files are checked for changes
 */
public record SecuritySettings(
    Tls tls,
    Map<String, PeerTls> peerTls,
    ClusterToken token,
    Set<String> allowedPeers,
    int maxInboundStreams,
    int maxStreamsPerPeer,
    Duration handshakeTimeout,
    Duration reloadInterval) {

  /**
   * PEM files of this node's TLS identity and of the CAs it trusts.
   *
   * @param certChain this node's certificate, followed by any intermediate CA certificates
   * @param privateKey the private key of that certificate, unencrypted PKCS#8 ({@code BEGIN
   *     PRIVATE KEY}), RSA or EC
   * @param trustedCa the CA certificates that sign peers' certificates (one or more)
   */
  public record Tls(Path certChain, Path privateKey, Path trustedCa) {
    public Tls {
      requireField(certChain != null, "security.tls.cert", null, "a PEM certificate chain file");
      requireField(privateKey != null, "security.tls.key", null, "a PEM private key file");
      requireField(trustedCa != null, "security.tls.ca", null, "a PEM file of trusted CA certificates");
    }
  }

  /**
   * How this node checks one peer's server certificate, where it differs from the node-wide
   * settings.
   *
   * @param trustedCa the CA bundle that signs this peer's certificate, or null for {@link
   *     Tls#trustedCa()}
   * @param serverName the name the peer's certificate must carry, or null for the peer's id
   */
  public record PeerTls(Path trustedCa, String serverName) {
    public PeerTls {
      requireField(
          serverName == null || (!serverName.isBlank() && serverName.length() <= 253),
          "security.tls.peers.serverName",
          serverName,
          "a DNS name of at most 253 characters");
    }
  }

  /** Validates every field; see the record description. */
  public SecuritySettings {
    peerTls = peerTls == null ? Map.of() : Map.copyOf(new TreeMap<>(peerTls));
    allowedPeers = allowedPeers == null ? Set.of() : Set.copyOf(new TreeSet<>(allowedPeers));
    for (String id : peerTls.keySet()) {
      requireField(PeerSpec.isValidId(id), "security.tls.peers", id, "peer ids (" + PeerSpec.ID_FORMAT + ")");
    }
    requireField(
        peerTls.isEmpty() || tls != null,
        "security.tls.peers",
        peerTls.keySet().toString(),
        "per-peer TLS settings only together with security.tls (cert, key, ca)");
    for (String id : allowedPeers) {
      requireField(PeerSpec.isValidId(id), "security.allowedPeers", id, PeerSpec.ID_FORMAT);
    }
    requireField(
        maxInboundStreams >= 1 && maxInboundStreams <= 100_000,
        "limits.maxInboundStreams",
        maxInboundStreams,
        "1 to 100000");
    requireField(
        maxStreamsPerPeer >= 1 && maxStreamsPerPeer <= maxInboundStreams,
        "limits.maxStreamsPerPeer",
        maxStreamsPerPeer,
        "1 to limits.maxInboundStreams (" + maxInboundStreams + ")");
    requirePositive(handshakeTimeout, "limits.handshakeTimeout");
    requirePositive(reloadInterval, "security.reloadInterval");
  }

  /** No TLS, no token, no allowlist; the default bounds ({@link Defaults}). */
  public static SecuritySettings none() {
    return new SecuritySettings(
        null,
        Map.of(),
        null,
        Set.of(),
        Defaults.MAX_INBOUND_STREAMS,
        Defaults.MAX_STREAMS_PER_PEER,
        Defaults.HANDSHAKE_TIMEOUT,
        Defaults.SECURITY_RELOAD_INTERVAL);
  }

  /** True when subscribers must prove who they are (a client certificate or the token). */
  public boolean authenticates() {
    return tls != null || token != null;
  }

  /** A copy with TLS material (null: plaintext). */
  public SecuritySettings withTls(Tls newTls) {
    return new SecuritySettings(
        newTls, peerTls, token, allowedPeers, maxInboundStreams, maxStreamsPerPeer, handshakeTimeout, reloadInterval);
  }

  /** A copy with other per-peer TLS overrides. */
  public SecuritySettings withPeerTls(Map<String, PeerTls> overrides) {
    return new SecuritySettings(
        tls, overrides, token, allowedPeers, maxInboundStreams, maxStreamsPerPeer, handshakeTimeout, reloadInterval);
  }

  /** A copy with a cluster token (null: none). */
  public SecuritySettings withToken(ClusterToken newToken) {
    return new SecuritySettings(
        tls, peerTls, newToken, allowedPeers, maxInboundStreams, maxStreamsPerPeer, handshakeTimeout, reloadInterval);
  }

  /** A copy with an allowlist (empty: any authenticated node). */
  public SecuritySettings withAllowedPeers(Set<String> ids) {
    return new SecuritySettings(
        tls, peerTls, token, ids, maxInboundStreams, maxStreamsPerPeer, handshakeTimeout, reloadInterval);
  }

  /** A copy with other stream bounds. */
  public SecuritySettings withStreamLimits(int maxInbound, int maxPerPeer) {
    return new SecuritySettings(
        tls, peerTls, token, allowedPeers, maxInbound, maxPerPeer, handshakeTimeout, reloadInterval);
  }

  /** A copy with another handshake timeout. */
  public SecuritySettings withHandshakeTimeout(Duration timeout) {
    return new SecuritySettings(
        tls, peerTls, token, allowedPeers, maxInboundStreams, maxStreamsPerPeer, timeout, reloadInterval);
  }

  /** A copy with another reload interval. */
  public SecuritySettings withReloadInterval(Duration interval) {
    return new SecuritySettings(
        tls, peerTls, token, allowedPeers, maxInboundStreams, maxStreamsPerPeer, handshakeTimeout, interval);
  }

  @Override
  public String toString() {
    // The token's own toString never shows the secret; spelled out here so that no future
    // component can leak through the record's generated toString either.
    return "SecuritySettings[tls=" + tls + ", peerTls=" + peerTls + ", token=" + (token == null ? "none" : token)
        + ", allowedPeers=" + (allowedPeers.isEmpty() ? "any authenticated" : allowedPeers)
        + ", maxInboundStreams=" + maxInboundStreams + ", maxStreamsPerPeer=" + maxStreamsPerPeer
        + ", handshakeTimeout=" + handshakeTimeout + ", reloadInterval=" + reloadInterval + "]";
  }

  private static void requirePositive(Duration value, String field) {
    requireField(
        value != null && !value.isNegative() && !value.isZero() && value.compareTo(Duration.ofDays(1)) <= 0,
        field,
        value,
        "a positive duration of at most a day");
  }

  private static void requireField(boolean ok, String field, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(
          "invalid " + field + ": " + (value == null ? "missing" : "'" + value + "'") + "; expected " + expected);
    }
  }
}
