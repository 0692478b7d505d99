package dev.edgesync.engine.replication.core;

import io.grpc.Status;

/**
 * A deliberate violation, in the test tree only: a "core" class that uses a gRPC type. {@code
 * ArchitectureTest} evaluates its core rule against this class to show the rule fails on it.
 */
public final class ArchRuleFixtureGrpcInCore {
  private ArchRuleFixtureGrpcInCore() {}

  /** Uses {@link Status} so the dependency is in the byte code, not only in an import. */
  public static String describe() {
    return Status.UNAVAILABLE.getCode().name();
  }
}
