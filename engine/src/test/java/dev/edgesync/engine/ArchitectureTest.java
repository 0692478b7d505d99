package dev.edgesync.engine;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import dev.edgesync.engine.replication.core.ArchRuleFixtureGrpcInCore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's package boundaries, checked on every build (see docs/ARCHITECTURE.md, "Packages").
 *
 * <p>The rules are evaluated against the engine's production classes. {@link
 * #theCoreRuleCatchesAForbiddenImport} shows that a rule can fail: it evaluates the core rule
 * against a test-only class placed in the core package that imports {@code io.grpc}.
 */
class ArchitectureTest {
  /** The replication core decides; it performs no I/O and knows no transport or database. */
  static final ArchRule CORE_IS_PURE =
      noClasses()
          .that()
          .resideInAPackage("dev.edgesync.engine.replication.core..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.grpc..",
              "io.netty..",
              "org.iq80..",
              "dev.edgesync.engine.transport..",
              "dev.edgesync.engine.storage.kv..",
              "dev.edgesync.engine.replication")
          .because("the replication core is a state machine without I/O (CONVENTIONS.md #1)");

  /** iq80 LevelDB is one implementation of KvStore, not a type the rest of the engine sees. */
  static final ArchRule ONLY_KV_USES_LEVELDB =
      noClasses()
          .that()
          .resideOutsideOfPackage("dev.edgesync.engine.storage.kv..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.iq80..")
          .because("LevelDB sits behind the KvStore seam");

  /** gRPC is one transport; TLS material is built for it in the security package. */
  static final ArchRule ONLY_GRPC_TRANSPORT_USES_GRPC =
      noClasses()
          .that()
          .resideOutsideOfPackages("dev.edgesync.engine.transport.grpc..", "dev.edgesync.engine.security..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("io.grpc..", "io.netty..")
          .because("gRPC sits behind the Transport seam");

  /** The transports carry messages; they do not reach into replication or storage. */
  static final ArchRule TRANSPORTS_KNOW_NO_REPLICATION_DRIVER =
      noClasses()
          .that()
          .resideInAPackage("dev.edgesync.engine.transport..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.edgesync.engine.replication",
              "dev.edgesync.engine.replication.core..",
              "dev.edgesync.engine.storage..")
          .because("a transport only moves the two message types");

  /** Nothing below the embedding API depends on it, and no two packages depend on each other. */
  static final ArchRule NO_PACKAGE_CYCLES =
      slices().matching("dev.edgesync.(**)").should().beFreeOfCycles();

  static JavaClasses engine;

  @BeforeAll
  static void importEngine() {
    engine =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.edgesync.engine");
  }

  @Test
  void replicationCoreImportsNoTransportStorageOrIo() {
    CORE_IS_PURE.check(engine);
  }

  @Test
  void onlyTheKvPackageImportsLevelDb() {
    ONLY_KV_USES_LEVELDB.check(engine);
  }

  @Test
  void onlyTheGrpcTransportAndSecurityImportGrpc() {
    ONLY_GRPC_TRANSPORT_USES_GRPC.check(engine);
  }

  @Test
  void transportsDependOnNeitherReplicationNorStorage() {
    TRANSPORTS_KNOW_NO_REPLICATION_DRIVER.check(engine);
  }

  @Test
  void enginePackagesAreFreeOfCycles() {
    NO_PACKAGE_CYCLES.check(engine);
  }

  @Test
  void theCoreRuleCatchesAForbiddenImport() {
    JavaClasses fixture = new ClassFileImporter().importClasses(ArchRuleFixtureGrpcInCore.class);
    EvaluationResult result = CORE_IS_PURE.evaluate(fixture);
    assertTrue(result.hasViolation(), "the core rule must reject a core class that imports io.grpc");
    assertTrue(
        result.getFailureReport().toString().contains("io.grpc.Status"),
        () -> "the report names the forbidden type: " + result.getFailureReport());
  }
}
