package dev.edgesync.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/** Socket helpers for tests. */
public final class Sockets {
  private Sockets() {}

  /**
   * Reads what {@code socket} still holds until the peer closes it (end of stream or a reset) and
   * returns the number of bytes read; fails when the connection stays open for {@code timeoutMillis}
   * without a byte.
   */
  public static long readUntilClosed(Socket socket, int timeoutMillis) throws IOException {
    socket.setSoTimeout(timeoutMillis);
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[64 * 1024];
    long read = 0;
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        read += n;
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the connection is still open after " + read + " bytes", e);
    } catch (SocketException reset) {
      // A reset ends it too.
    }
    return read;
  }
}
