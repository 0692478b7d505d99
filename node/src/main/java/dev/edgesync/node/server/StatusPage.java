package dev.edgesync.node.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The status page ({@code GET /ui}): one HTML file with its styles and script inline, read once. */
final class StatusPage {
  private static final byte[] HTML = load();

  private StatusPage() {}

  static byte[] html() {
    return HTML;
  }

  private static byte[] load() {
    try (InputStream in = StatusPage.class.getResourceAsStream("status.html")) {
      if (in == null) {
        throw new IllegalStateException("status.html is missing from the node jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
