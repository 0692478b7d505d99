package dev.edgesync.bench.load;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What every scenario of a run works with: the options, the workload, the run's node processes,
 * the JSON result it fills in and the progress log. Used by the run's thread only.
 */
abstract class Scenario {
  final Options options;
  final Workload workload;
  final BenchCluster cluster;
  final ObjectNode result;
  final ProgressLog log;

  Scenario(Options options, Workload workload, BenchCluster cluster, ObjectNode result, ProgressLog log) {
    this.options = options;
    this.workload = workload;
    this.cluster = cluster;
    this.result = result;
    this.log = log;
  }
}
