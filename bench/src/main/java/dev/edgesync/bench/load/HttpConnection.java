package dev.edgesync.bench.load;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A minimal HTTP/1.1 client on one keep-alive connection, for the node's API.
 *
 * <p>Why not {@code java.net.http.HttpClient}: the live scenario polls a node's status every
 * millisecond on a 2-core machine where the nodes under test need the CPU; a blocking socket with
 * a hand-written request costs a fraction of the JDK client's per-request work. It understands
 * exactly what the node's server (the JDK's {@code HttpServer}) answers: a status line, headers
 * and a {@code Content-Length} or chunked body.
 *
 * <p>Not thread-safe: one thread per connection.
 */
final class HttpConnection implements AutoCloseable {
  /** A response: status code and body. */
  record Response(int status, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final InetSocketAddress address;
  private final int timeoutMillis;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  HttpConnection(InetSocketAddress address, int timeoutMillis) {
    this.address = address;
    this.timeoutMillis = timeoutMillis;
  }

  Response get(String path) throws IOException {
    return exchange("GET", path, null, true);
  }

  /**
   * POSTs {@code body}. Retried once on a fresh connection only when a reused connection turned
   * out to be closed before any byte of the answer arrived (the server drops idle connections).
   */
  Response post(String path, byte[] body) throws IOException {
    return exchange("POST", path, body, true);
  }

  private Response exchange(String method, String path, byte[] body, boolean mayRetry) throws IOException {
    boolean reused = socket != null;
    if (socket == null) {
      connect();
    }
    try {
      StringBuilder head = new StringBuilder(128);
      head.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      head.append("Host: ").append(address.getHostString()).append(':').append(address.getPort()).append("\r\n");
      if (body != null) {
        head.append("Content-Type: application/json\r\n");
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("\r\n");
      out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
      if (body != null) {
        out.write(body);
      }
      out.flush();
      return readResponse();
    } catch (NoAnswerException e) {
      close();
      if (reused && mayRetry) {
        return exchange(method, path, body, false);
      }
      throw new IOException(method + " " + path + " to " + address + ": connection closed without an answer", e);
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  private void connect() throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.setSoTimeout(timeoutMillis);
    s.connect(address, timeoutMillis);
    socket = s;
    in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
    out = s.getOutputStream();
  }

  private Response readResponse() throws IOException {
    String status = readLine(true);
    if (!status.startsWith("HTTP/1.")) {
      throw new IOException("unexpected status line from " + address + ": " + status);
    }
    int code = Integer.parseInt(status.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean closeAfter = status.startsWith("HTTP/1.0");
    while (true) {
      String line = readLine(false);
      if (line.isEmpty()) {
        break;
      }
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        case "connection" -> closeAfter = value.equalsIgnoreCase("close");
        default -> {}
      }
    }
    byte[] body;
    if (chunked) {
      body = readChunked();
    } else if (length >= 0) {
      body = in.readNBytes((int) length);
      if (body.length != length) {
        throw new EOFException("body from " + address + " ended after " + body.length + " of " + length + " bytes");
      }
    } else if (code == 204 || code == 304 || code / 100 == 1) {
      body = new byte[0];
    } else {
      body = in.readAllBytes();
      closeAfter = true;
    }
    if (closeAfter) {
      close();
    }
    return new Response(code, body);
  }

  private byte[] readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = readLine(false);
      int semi = size.indexOf(';');
      int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      if (n == 0) {
        while (!readLine(false).isEmpty()) {
          // trailers
        }
        return body.toByteArray();
      }
      byte[] chunk = in.readNBytes(n);
      if (chunk.length != n) {
        throw new EOFException("chunk from " + address + " ended early");
      }
      body.write(chunk);
      readLine(false);
    }
  }

  private String readLine(boolean first) throws IOException {
    StringBuilder line = new StringBuilder(64);
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (first && line.length() == 0) {
          throw new NoAnswerException();
        }
        throw new EOFException("connection to " + address + " closed mid-response");
      }
      if (b == '\n') {
        int len = line.length();
        if (len > 0 && line.charAt(len - 1) == '\r') {
          line.setLength(len - 1);
        }
        return line.toString();
      }
      line.append((char) b);
    }
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // Closing a socket we are done with: nothing to recover.
      }
      socket = null;
      in = null;
      out = null;
    }
  }

  /** The server closed a connection before answering: safe to retry on a fresh one. */
  private static final class NoAnswerException extends IOException {
    private static final long serialVersionUID = 1L;

    NoAnswerException() {
      super("no answer");
    }
  }
}
