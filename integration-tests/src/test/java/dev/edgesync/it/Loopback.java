package dev.edgesync.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback addresses for test nodes and proxies.
 *
 * <p>Every node gets its own random address in 127.0.0.0/8 and its ports are picked by the kernel
 * on that address (bind port 0, read it, close). Another process would have to pick the same
 * random address and the same port between our close and the node's bind for a collision, which
 * is what keeps parallel builds on one machine from stepping on each other.
 */
final class Loopback {
  private static final Set<String> USED = new HashSet<>();

  private Loopback() {}

  /** A loopback address 127.x.y.z (x, y, z in 1..250) not handed out before in this JVM. */
  static synchronized String randomAddress() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    while (true) {
      String ip = "127." + (1 + r.nextInt(250)) + "." + (1 + r.nextInt(250)) + "." + (1 + r.nextInt(250));
      if (USED.add(ip)) {
        return ip;
      }
    }
  }

  /** A port that was free on {@code ip} a moment ago. */
  static int freePort(String ip) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(ip, 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind a free port on " + ip, e);
    }
  }
}
