package dev.edgesync.node.demo;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TcpRelayTest {
  private ServerSocket echo;

  @BeforeEach
  void startEcho() throws IOException {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread c =
                      new Thread(
                          () -> {
                            try (s;
                                InputStream in = s.getInputStream();
                                OutputStream out = s.getOutputStream()) {
                              in.transferTo(out);
                            } catch (IOException e) {
                              // Connection ended.
                            }
                          });
                  c.setDaemon(true);
                  c.start();
                } catch (IOException e) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
  }

  @AfterEach
  void stopEcho() throws IOException {
    echo.close();
  }

  private static int roundTrip(Socket s, int b) throws IOException {
    s.getOutputStream().write(b);
    s.getOutputStream().flush();
    return s.getInputStream().read();
  }

  @Test
  void relaysUntilCutAndAgainAfterHeal() throws IOException {
    try (TcpRelay relay = new TcpRelay("a->b", echo.getLocalPort())) {
      Socket s = new Socket(InetAddress.getLoopbackAddress(), relay.port());
      assertEquals(42, roundTrip(s, 42));

      relay.cut();
      // The open connection is dropped: reads end or fail.
      s.setSoTimeout(10_000);
      int afterCut;
      try {
        afterCut = roundTrip(s, 7);
      } catch (IOException e) {
        afterCut = -1;
      }
      assertEquals(-1, afterCut);
      s.close();
      // New connections are accepted and closed at once.
      Socket refused = new Socket(InetAddress.getLoopbackAddress(), relay.port());
      refused.setSoTimeout(10_000);
      assertEquals(-1, refused.getInputStream().read());
      refused.close();

      relay.heal();
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .until(
              () -> {
                try (Socket again = new Socket(InetAddress.getLoopbackAddress(), relay.port())) {
                  again.setSoTimeout(5_000);
                  return roundTrip(again, 9) == 9;
                }
              });
    }
  }

  @Test
  void closedRelayRefusesConnections() throws IOException {
    TcpRelay relay = new TcpRelay("a->b", echo.getLocalPort());
    int port = relay.port();
    relay.close();
    // The listening socket is released once the acceptor thread leaves accept().
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              try {
                new Socket(InetAddress.getLoopbackAddress(), port).close();
                return false;
              } catch (IOException e) {
                return true;
              }
            });
  }
}
