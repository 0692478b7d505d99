package dev.edgesync.node.server;

/** An answer other than 200, with the message and an optional fix for the JSON body. */
final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;
  final String fix;

  HttpError(int status, String message, String fix) {
    super(message, null, false, false);
    this.status = status;
    this.fix = fix;
  }
}
