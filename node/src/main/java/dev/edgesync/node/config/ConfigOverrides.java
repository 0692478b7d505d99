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
 * @param tlsCert {@code --tls-cert}
 * @param tlsKey {@code --tls-key}
 * @param tlsCa {@code --tls-ca}
 * @param tokenFile {@code --token-file} (there is no flag for the token itself: a command line is
 *     visible to every user of the machine)
 * @param allowedPeers {@code --allowed-peers}
 * @param httpTokenFile {@code --http-token-file}
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
    String clockOffset,
    String tlsCert,
    String tlsKey,
    String tlsCa,
    String tokenFile,
    String allowedPeers,
    String httpTokenFile) {

  /** The flags without security flags. */
  public ConfigOverrides(
      String config,
      String id,
      String cluster,
      String listen,
      String http,
      String dataDir,
      String peers,
      String durability,
      String clockOffset) {
    this(config, id, cluster, listen, http, dataDir, peers, durability, clockOffset, null, null, null, null, null, null);
  }

  /** No flags given. */
  public static ConfigOverrides none() {
    return new ConfigOverrides(null, null, null, null, null, null, null, null, null);
  }
}
