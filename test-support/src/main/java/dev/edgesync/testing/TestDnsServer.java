package dev.edgesync.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A DNS server over UDP on a loopback address for tests, answering SRV and A queries from records
 * the test sets and changes while it runs; any other name is NXDOMAIN. TTLs are 1 s.
 */
public final class TestDnsServer implements AutoCloseable {
  /** One SRV record: the target host and port. */
  public record Srv(String target, int port) {}

  private final DatagramSocket socket;
  private final Thread thread;
  private final Map<Name, List<Srv>> srv = new ConcurrentHashMap<>();
  private final Map<Name, InetAddress> a = new ConcurrentHashMap<>();
  private final AtomicInteger queries = new AtomicInteger();
  private volatile boolean silent;

  /** Listens on {@code host}, port chosen by the system. */
  public TestDnsServer(String host) {
    try {
      socket = new DatagramSocket(new InetSocketAddress(host, 0));
    } catch (SocketException e) {
      throw new UncheckedIOException(e);
    }
    thread = new Thread(this::serve, "test-dns");
    thread.setDaemon(true);
    thread.start();
  }

  /** {@code host:port} of the server. */
  public String address() {
    return socket.getLocalAddress().getHostAddress() + ":" + socket.getLocalPort();
  }

  /** Replaces the SRV records of {@code name} (none: the name does not exist). */
  public void setSrv(String name, List<Srv> records) {
    if (records.isEmpty()) {
      srv.remove(name(name));
    } else {
      srv.put(name(name), List.copyOf(records));
    }
  }

  /** Sets the A record of {@code host}. */
  public void setA(String host, String ip) {
    try {
      a.put(name(host), InetAddress.getByName(ip));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** While true, queries get no answer at all (a resolver timeout). */
  public void setSilent(boolean silent) {
    this.silent = silent;
  }

  /** Queries received so far. */
  public int queries() {
    return queries.get();
  }

  private static Name name(String text) {
    try {
      return Name.fromString(text.endsWith(".") ? text : text + ".");
    } catch (TextParseException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private void serve() {
    byte[] buffer = new byte[4096];
    while (!socket.isClosed()) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(packet);
        queries.incrementAndGet();
        if (silent) {
          continue;
        }
        Message query = new Message(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
        byte[] answer = answer(query).toWire(512);
        socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
      } catch (IOException e) {
        if (socket.isClosed()) {
          return;
        }
      }
    }
  }

  private Message answer(Message query) {
    Message response = new Message(query.getHeader().getID());
    response.getHeader().setFlag(Flags.QR);
    response.getHeader().setFlag(Flags.AA);
    Record question = query.getQuestion();
    response.addRecord(question, Section.QUESTION);
    Name qname = question.getName();
    boolean found = false;
    if (question.getType() == Type.SRV && srv.containsKey(qname)) {
      for (Srv s : srv.get(qname)) {
        response.addRecord(new SRVRecord(qname, DClass.IN, 1, 0, 0, s.port(), name(s.target())), Section.ANSWER);
      }
      found = true;
    } else if (question.getType() == Type.A && a.containsKey(qname)) {
      response.addRecord(new ARecord(qname, DClass.IN, 1, a.get(qname)), Section.ANSWER);
      found = true;
    } else if (srv.containsKey(qname) || a.containsKey(qname)) {
      found = true; // the name exists, without records of this type
    }
    response.getHeader().setRcode(found ? Rcode.NOERROR : Rcode.NXDOMAIN);
    return response;
  }

  @Override
  public void close() {
    socket.close();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
