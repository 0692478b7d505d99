package dev.edgesync.node.cli;

import dev.edgesync.conflict.Hlc;

/** Versions as people read them. */
final class Versions {
  private Versions() {}

  /**
   * A version of the HTTP API ({@code <hlc>@<origin>}, the form for programs) as a person reads it:
   * {@code 2026-12-04T14:40:51.276Z#0@site-c}. Text that is not such a version is returned as it
   * is.
   */
  static String readable(String raw) {
    if (raw == null) {
      return null;
    }
    int at = raw.indexOf('@');
    if (at <= 0) {
      return raw;
    }
    try {
      long hlc = Long.parseLong(raw.substring(0, at));
      if (hlc < 0) {
        return raw;
      }
      return Hlc.format(hlc) + raw.substring(at);
    } catch (NumberFormatException e) {
      return raw;
    }
  }
}
