package dev.edgesync.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.testing.TestDnsServer;
import dev.edgesync.testing.TestDnsServer.Srv;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Peers from the SRV records of a test DNS server, as the records change. */
class DnsPeerDiscoveryTest {
  private static final String NAME = "_grpc._tcp.edgesync.shops.test";
  private final TestDnsServer dns = new TestDnsServer("127.0.0.1");

  @AfterEach
  void stop() {
    dns.close();
  }

  private DnsPeerDiscovery discovery(String self) {
    String[] hp = dns.address().split(":");
    return new DnsPeerDiscovery(
        new DnsPeerDiscovery.Settings(NAME, Duration.ofSeconds(1), List.of(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])))),
        self);
  }

  private static List<String> text(Optional<List<PeerSpec>> peers) {
    return peers.orElseThrow().stream().map(PeerSpec::toString).toList();
  }

  @Test
  void peersAppearAndDisappearAsTheRecordsChange() {
    dns.setA("site-0.edgesync.shops.test", "10.0.0.10");
    dns.setA("site-1.edgesync.shops.test", "10.0.0.11");
    dns.setA("site-2.edgesync.shops.test", "10.0.0.12");
    dns.setSrv(NAME, List.of(new Srv("site-0.edgesync.shops.test", 7400), new Srv("site-1.edgesync.shops.test", 7400)));
    DnsPeerDiscovery d = discovery("site-0");
    assertEquals(List.of("site-1=10.0.0.11:7400"), text(d.lookup()), "this node's own record is left out");
    assertTrue(d.lookup().isEmpty(), "unchanged: nothing to tell");

    dns.setSrv(NAME, List.of(
        new Srv("site-0.edgesync.shops.test", 7400), new Srv("site-1.edgesync.shops.test", 7400), new Srv("site-2.edgesync.shops.test", 7401)));
    assertEquals(List.of("site-1=10.0.0.11:7400", "site-2=10.0.0.12:7401"), text(d.lookup()));

    dns.setA("site-1.edgesync.shops.test", "10.0.0.21");
    assertEquals(List.of("site-1=10.0.0.21:7400", "site-2=10.0.0.12:7401"), text(d.lookup()), "a new address is followed");

    dns.setSrv(NAME, List.of(new Srv("site-0.edgesync.shops.test", 7400), new Srv("site-2.edgesync.shops.test", 7401)));
    assertEquals(List.of("site-2=10.0.0.12:7401"), text(d.lookup()));
    dns.setSrv(NAME, List.of());
    assertEquals(List.of(), text(d.lookup()), "a name without records: no peers");
  }

  @Test
  void aServerThatDoesNotAnswerKeepsThePeersOfTheLastAnswer() {
    dns.setA("site-1.edgesync.shops.test", "10.0.0.11");
    dns.setSrv(NAME, List.of(new Srv("site-1.edgesync.shops.test", 7400)));
    DnsPeerDiscovery d = discovery("site-0");
    assertEquals(List.of("site-1=10.0.0.11:7400"), text(d.lookup()));
    dns.setSilent(true);
    assertTrue(d.lookup().isEmpty(), "a timeout changes nothing");
    assertEquals(List.of("site-1=10.0.0.11:7400"), d.peers().stream().map(PeerSpec::toString).toList());
    dns.setSilent(false);
    dns.setSrv(NAME, List.of());
    assertEquals(List.of(), text(d.lookup()));
  }

  @Test
  void targetsThatAreNotNodeIdsAreLeftOut() {
    dns.setA("bad_id!.edgesync.shops.test", "10.0.0.9");
    dns.setA("site-1.edgesync.shops.test", "10.0.0.11");
    dns.setSrv(NAME, List.of(new Srv("bad_id!.edgesync.shops.test", 7400), new Srv("site-1.edgesync.shops.test", 7400)));
    assertEquals(List.of("site-1=10.0.0.11:7400"), text(discovery("site-0").lookup()));
  }
}
