package dev.edgesync.engine.security;

import dev.edgesync.discovery.ConfigException;
import java.nio.file.Path;

/**
 * A TLS file that cannot be used, with the setting that names it. At start-up it becomes a {@link
 * ConfigException}; during a reload its message is logged and the material in force is kept.
 */
final class UnusableTlsFile extends Exception {
  private static final long serialVersionUID = 1L;
  final String field;
  final Path file;
  final String problem;
  final String expected;

  UnusableTlsFile(String field, Path file, String problem, String expected) {
    super(field + " " + file + ": " + problem, null, false, false);
    this.field = field;
    this.file = file;
    this.problem = problem;
    this.expected = expected;
  }

  ConfigException toConfigException() {
    return new ConfigException("security settings", field, file.toString(), problem, expected);
  }
}
