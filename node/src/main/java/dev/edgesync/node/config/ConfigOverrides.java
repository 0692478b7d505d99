package dev.edgesync.node.config;

/**
 * Values given as command-line flags to {@code edgesync run}; null means "not given". They win over
 * the environment and the config file.
 *
 * @param config {@code --config}
 * @param id {@code --id}
 * @param cluster {@code --cluster}
 * @param listen {@code --listen}
 * @param http {@code --http}
 * @param dataDir {@code --data-dir}
 * @param peers {@code --peers}
 * @param durability {@code --durability}
 * @param clockOffset {@code --clock-offset} (hidden, for fault tests)
 */
public record ConfigOverrides(
    String config,
    String id,
    String cluster,
    String listen,
    String http,
    String dataDir,
    String peers,
    String durability,
    String clockOffset) {

  /** No flags given. */
  public static ConfigOverrides none() {
    return new ConfigOverrides(null, null, null, null, null, null, null, null, null);
  }
}
