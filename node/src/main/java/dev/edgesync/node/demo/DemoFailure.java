package dev.edgesync.node.demo;

/** A step of the demo did not happen in time or went wrong; the message says which. */
final class DemoFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  DemoFailure(String message) {
    super(message);
  }
}
