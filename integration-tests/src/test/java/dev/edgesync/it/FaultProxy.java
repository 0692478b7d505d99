package dev.edgesync.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on a loopback address that forwards to one target and can break the link on demand.
 * One proxy stands for one directed peer link (node A's {@code --peers b=<proxy>}).
 *
 * <ul>
 *   <li>{@link Mode#PASS}: bytes flow both ways.
 *   <li>{@link Mode#BLACKHOLE}: connections are accepted and held open, nothing is forwarded in
 *       either direction (bytes read meanwhile are held and delivered after healing, as TCP
 *       retransmission would). The peers see silence, not an error.
 *   <li>{@link Mode#RESET}: every open connection is closed with a TCP RST and new ones are
 *       accepted and reset at once.
 *   <li>{@link Mode#DELAY}: like PASS, each chunk waits {@link #delay} before it is forwarded.
 *   <li>{@link Mode#HOLD_FROM_TARGET}: bytes from the client still reach the target, bytes from
 *       the target are held (and delivered after healing) like in BLACKHOLE: a link that stays
 *       open but stops delivering one way.
 * </ul>
 *
 * <p>Blocking sockets, two threads per connection: a handful of connections per test.
 */
final class FaultProxy implements AutoCloseable {

  enum Mode {
    PASS,
    BLACKHOLE,
    RESET,
    DELAY,
    HOLD_FROM_TARGET
  }

  private final String name;
  private final ServerSocket server;
  private final InetSocketAddress target;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Object gate = new Object();
  private final AtomicLong accepted = new AtomicLong();
  private volatile Mode mode;
  private volatile Duration delay = Duration.ofMillis(50);
  private volatile boolean closed;

  FaultProxy(String name, String targetHostPort, Mode initial) {
    this.name = name;
    this.mode = initial;
    int colon = targetHostPort.lastIndexOf(':');
    this.target = new InetSocketAddress(targetHostPort.substring(0, colon), Integer.parseInt(targetHostPort.substring(colon + 1)));
    try {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(Loopback.randomAddress(), 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException("proxy " + name + ": cannot bind", e);
    }
    Thread acceptor = new Thread(this::acceptLoop, "proxy-" + name + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** {@code host:port} to give to a node as its peer's address. */
  String address() {
    return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
  }

  Mode mode() {
    return mode;
  }

  long acceptedConnections() {
    return accepted.get();
  }

  void setDelay(Duration d) {
    this.delay = d;
  }

  void setMode(Mode m) {
    synchronized (gate) {
      mode = m;
      gate.notifyAll();
    }
    if (m == Mode.RESET) {
      resetAll();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      accepted.incrementAndGet();
      if (mode == Mode.RESET) {
        reset(client);
        continue;
      }
      Socket upstream = new Socket();
      try {
        upstream.connect(target, 2000);
      } catch (IOException e) {
        // Target down: the client sees what it would see connecting to a dead port.
        reset(client);
        closeQuietly(upstream);
        continue;
      }
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
      } catch (IOException ignored) {
        // Best effort: only latency is affected.
      }
      sockets.add(client);
      sockets.add(upstream);
      if (mode == Mode.RESET) {
        // setMode(RESET) ran while this connection was being set up and did not see it.
        reset(client);
        reset(upstream);
        continue;
      }
      pump(client, upstream, "up", false);
      pump(upstream, client, "down", true);
    }
  }

  private void pump(Socket from, Socket to, String direction, boolean fromTarget) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[64 * 1024];
              try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  if (!holdWhileBlackholed(fromTarget)) {
                    return;
                  }
                  if (mode == Mode.DELAY) {
                    // The fault itself (link latency on this chunk), not a wait for a condition:
                    // no test waits with it.
                    Thread.sleep(delay.toMillis());
                  }
                  out.write(buf, 0, n);
                  out.flush();
                }
                if (holdWhileBlackholed(fromTarget)) {
                  to.shutdownOutput();
                }
              } catch (IOException | InterruptedException e) {
                // A reset or closed socket ends the connection in both directions.
              } finally {
                if (mode == Mode.RESET) {
                  reset(from);
                  reset(to);
                } else {
                  closeQuietly(from);
                  closeQuietly(to);
                }
                sockets.remove(from);
                sockets.remove(to);
              }
            },
            "proxy-" + name + "-" + direction);
    t.setDaemon(true);
    t.start();
  }

  /**
   * Blocks while the mode holds this direction (BLACKHOLE both, HOLD_FROM_TARGET the target's
   * bytes); false if the connection must die instead (RESET, closed).
   */
  private boolean holdWhileBlackholed(boolean fromTarget) throws InterruptedException {
    synchronized (gate) {
      while ((mode == Mode.BLACKHOLE || (fromTarget && mode == Mode.HOLD_FROM_TARGET)) && !closed) {
        gate.wait();
      }
      return mode != Mode.RESET && !closed;
    }
  }

  /** Arms every socket for RST first, so no pump closing its pair early can send a FIN. */
  private void resetAll() {
    for (Socket s : sockets) {
      try {
        s.setSoLinger(true, 0);
      } catch (IOException ignored) {
        // Already closed.
      }
    }
    sockets.forEach(FaultProxy::reset);
  }

  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0); // close() now sends RST instead of FIN
    } catch (IOException ignored) {
      // The socket is already gone.
    }
    closeQuietly(s);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // Closing is all we wanted.
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (gate) {
      gate.notifyAll();
    }
    try {
      server.close();
    } catch (IOException ignored) {
      // Nothing to do.
    }
    resetAll();
  }

  @Override
  public String toString() {
    return "proxy " + name + " " + address() + " -> " + target + " [" + mode + "]";
  }
}
