package dev.edgesync.node.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP relay for one directed replication link of the demo: a node connects to the
 * relay's port and the relay connects on to the peer's gRPC port. {@link #cut()} drops every
 * connection and refuses new ones until {@link #heal()}, which is a real partition for both nodes
 * while each of them keeps running and taking writes.
 *
 * <p>Threads: one acceptor, and two pump threads per relayed connection (the demo has six links
 * with one stream each). All are daemon threads; {@link #close()} stops them by closing sockets.
 */
final class TcpRelay implements AutoCloseable {
  private static final int CONNECT_TIMEOUT_MILLIS = 2000;

  private final String name;
  private final int targetPort;
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;
  private volatile boolean closed;

  /**
   * Binds a relay on a free loopback port towards {@code 127.0.0.1:targetPort}.
   *
   * @param name a label for threads, e.g. {@code site-a->site-b}
   */
  TcpRelay(String name, int targetPort) throws IOException {
    this.name = name;
    this.targetPort = targetPort;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread acceptor = new Thread(this::acceptLoop, "relay-" + name);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The relay's port on 127.0.0.1. */
  int port() {
    return server.getLocalPort();
  }

  /** Drops every relayed connection and refuses new ones. */
  void cut() {
    cut = true;
    for (Socket s : open) {
      closeQuietly(s);
    }
  }

  /** Accepts connections again. */
  void heal() {
    cut = false;
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    for (Socket s : open) {
      closeQuietly(s);
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
      if (cut) {
        closeQuietly(client);
        continue;
      }
      Socket upstream = new Socket();
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        upstream.connect(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort),
            CONNECT_TIMEOUT_MILLIS);
      } catch (IOException e) {
        // The peer is down: the subscriber sees its connection close and retries with backoff.
        closeQuietly(client);
        closeQuietly(upstream);
        continue;
      }
      open.add(client);
      open.add(upstream);
      if (cut) {
        // cut() ran between the check above and the registration: it must not miss this pair.
        closeQuietly(client);
        closeQuietly(upstream);
      }
      pump(client, upstream, "up");
      pump(upstream, client, "down");
    }
  }

  private void pump(Socket from, Socket to, String direction) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[64 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (SocketException e) {
                // Closed by cut(), close() or the other side: the normal end of a connection.
              } catch (IOException e) {
                // Same: a relayed connection ends when either side goes.
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
              }
            },
            "relay-" + name + "-" + direction);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // Closing to end a relayed connection; a failure to close changes nothing.
    }
  }
}
