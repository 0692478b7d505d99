package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The test tree's fault proxy does what the fault tests rely on (checked against an echo server). */
class FaultProxyTest {
  private ServerSocket echo;
  private FaultProxy proxy;

  @BeforeEach
  void startEcho() throws IOException {
    echo = new ServerSocket();
    echo.bind(new InetSocketAddress(Loopback.randomAddress(), 0));
    Thread t =
        new Thread(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread w = new Thread(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                      in.transferTo(out);
                    } catch (IOException ignored) {
                      // connection reset by the proxy
                    }
                  });
                  w.setDaemon(true);
                  w.start();
                } catch (IOException e) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
    proxy = new FaultProxy("test", echo.getInetAddress().getHostAddress() + ":" + echo.getLocalPort(), FaultProxy.Mode.PASS);
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    echo.close();
  }

  private Socket connect() throws IOException {
    String[] hp = proxy.address().split(":", -1);
    Socket s = new Socket(hp[0], Integer.parseInt(hp[1]));
    s.setSoTimeout(5000);
    return s;
  }

  private static String roundTrip(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    s.getOutputStream().flush();
    byte[] buf = s.getInputStream().readNBytes(text.length());
    return new String(buf, StandardCharsets.UTF_8);
  }

  @Test
  void passForwardsBothWays() throws IOException {
    try (Socket s = connect()) {
      assertEquals("hello", roundTrip(s, "hello"));
    }
  }

  @Test
  void blackholeHoldsBytesUntilHealed() throws IOException {
    try (Socket s = connect()) {
      assertEquals("one", roundTrip(s, "one"));
      proxy.setMode(FaultProxy.Mode.BLACKHOLE);
      s.getOutputStream().write("two".getBytes(StandardCharsets.UTF_8));
      s.setSoTimeout(300);
      assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read(), "nothing comes back through a blackhole");
      proxy.setMode(FaultProxy.Mode.PASS);
      s.setSoTimeout(5000);
      assertEquals("two", new String(s.getInputStream().readNBytes(3), StandardCharsets.UTF_8), "held bytes arrive after healing");
    }
  }

  @Test
  void resetKillsOpenConnectionsAndRefusesNewOnes() throws IOException {
    try (Socket s = connect()) {
      assertEquals("x", roundTrip(s, "x"));
      proxy.setMode(FaultProxy.Mode.RESET);
      assertThrows(SocketException.class, () -> {
        // The first write may still be buffered locally; the RST shows up at the latest on a read.
        s.getOutputStream().write(1);
        s.getInputStream().read();
        s.getInputStream().read();
      });
    }
    try (Socket s = connect()) {
      assertThrows(IOException.class, () -> {
        s.getOutputStream().write(1);
        if (s.getInputStream().read() < 0) {
          throw new IOException("closed");
        }
      });
    }
    proxy.setMode(FaultProxy.Mode.PASS);
    try (Socket s = connect()) {
      assertEquals("back", roundTrip(s, "back"));
    }
  }
}
