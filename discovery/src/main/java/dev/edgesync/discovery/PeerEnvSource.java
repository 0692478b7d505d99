package dev.edgesync.discovery;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads peers from the {@code EDGESYNC_PEERS} environment variable, e.g. {@code
 * EDGESYNC_PEERS="site-b=10.0.0.2:7400,site-c=10.0.0.3:7400"}.
 *
 * <p>The environment is passed in, so the logic can be tested with a plain map; {@link
 * #readSystemEnvironment()} is the one place that looks at the process environment.
 */
public final class PeerEnvSource {

  /** The name of the environment variable. */
  public static final String VARIABLE = "EDGESYNC_PEERS";

  /** The source named in error messages. */
  public static final String SOURCE = "environment variable " + VARIABLE;

  private PeerEnvSource() {}

  /**
   * Reads the peers from {@code env}.
   *
   * @return empty if the variable is not set, so a lower-precedence source applies; otherwise the
   *     peers it lists (a set but blank variable is an explicit empty list that overrides the
   *     config file)
   * @throws ConfigException naming the variable if its value is malformed
   */
  public static Optional<PeerSet> read(Map<String, String> env) {
    Objects.requireNonNull(env, "env");
    String value = env.get(VARIABLE);
    if (value == null) {
      return Optional.empty();
    }
    return Optional.of(PeerListParser.parse(value, SOURCE));
  }

  /** Reads the peers from the environment of this process; see {@link #read(Map)}. */
  public static Optional<PeerSet> readSystemEnvironment() {
    return read(System.getenv());
  }
}
