package dev.edgesync.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The history of one chaos cluster: every write invoked, with its outcome, and the checks made
 * from it (thread-safe: the writers of all nodes record in parallel).
 *
 * <ul>
 *   <li>{@link Outcome#ACKED}: HTTP 200 with the version the node gave the write.
 *   <li>{@link Outcome#FAILED}: another HTTP status: the write must not have happened.
 *   <li>{@link Outcome#UNKNOWN}: no answer (connection broken, node killed or timed out under the
 *       request): the write may or may not have happened.
 * </ul>
 *
 * <p>Every put writes a value no other write uses, so the final state tells which write a value
 * came from. Per node it also checks, online, that the HLC and the seq never go backwards: a write
 * invoked after another write on the same node was acknowledged must get a higher version and a
 * higher seq (across kill -9 and restarts; a wiped data dir starts a new log and a new clock, so
 * {@link #forgetNode} restarts the check for that node).
 */
final class ChaosHistory {

  enum Outcome {
    ACKED,
    FAILED,
    UNKNOWN
  }

  /** One write: {@code value} null for a delete; {@code hlc}, {@code origin}, {@code seq} when acknowledged. */
  record Op(String node, String key, String value, Outcome outcome, long hlc, String origin, long seq, String detail) {
    boolean isDelete() {
      return value == null;
    }

    String version() {
      return hlc + "@" + origin;
    }
  }

  /** What a node had acknowledged when a write was invoked on it: the write must come later. */
  record Before(long hlc, long seq, int generation) {}

  private final List<Op> ops = new ArrayList<>();
  private final Map<String, Op> byValue = new HashMap<>();
  private final Map<String, long[]> lastAcked = new HashMap<>(); // node -> {hlc, seq}
  private final Map<String, Integer> generation = new HashMap<>();
  private final Map<String, Long> maxAckedSeq = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  private final Map<String, Integer> failedBy = new java.util.TreeMap<>();
  private long acked;
  private long failed;
  private long unknown;

  synchronized Before before(String node) {
    long[] last = lastAcked.getOrDefault(node, new long[] {Long.MIN_VALUE, Long.MIN_VALUE});
    return new Before(last[0], last[1], generation.getOrDefault(node, 0));
  }

  synchronized void record(Op op, Before before) {
    ops.add(op);
    if (op.value() != null && byValue.put(op.value(), op) != null) {
      throw new IllegalStateException("test bug: value " + op.value() + " written twice");
    }
    switch (op.outcome()) {
      case ACKED -> {
        acked++;
        if (!op.origin().equals(op.node())) {
          violations.add("write on " + op.node() + " acknowledged with origin " + op.origin() + ": " + op);
        }
        if (before.generation() == generation.getOrDefault(op.node(), 0)) {
          if (op.hlc() <= before.hlc()) {
            violations.add("HLC went backwards on " + op.node() + ": " + op + " acknowledged with hlc " + op.hlc() + " after an earlier write there got " + before.hlc());
          }
          if (op.seq() <= before.seq()) {
            violations.add("seq went backwards on " + op.node() + ": " + op + " got seq " + op.seq() + " after an earlier write there got " + before.seq());
          }
          long[] last = lastAcked.computeIfAbsent(op.node(), n -> new long[] {Long.MIN_VALUE, Long.MIN_VALUE});
          last[0] = Math.max(last[0], op.hlc());
          last[1] = Math.max(last[1], op.seq());
          maxAckedSeq.merge(op.node(), op.seq(), Math::max);
        }
      }
      case FAILED -> {
        failed++;
        String d = op.detail() == null ? "?" : op.detail();
        failedBy.merge(d.length() > 8 ? d.substring(0, 8) : d, 1, Integer::sum);
      }
      case UNKNOWN -> unknown++;
    }
  }

  /** The node's data dir is about to be wiped: its next log and clock start afresh. */
  synchronized void forgetNode(String node) {
    generation.merge(node, 1, Integer::sum);
    lastAcked.remove(node);
    maxAckedSeq.remove(node);
  }

  /** The highest seq of a write acknowledged by {@code node} in its current log, or 0. */
  synchronized long maxAckedSeq(String node) {
    return maxAckedSeq.getOrDefault(node, 0L);
  }

  synchronized long acked() {
    return acked;
  }

  synchronized long failed() {
    return failed;
  }

  synchronized long unknown() {
    return unknown;
  }

  /** Failed writes by the start of their answer (e.g. {@code HTTP 503}). */
  synchronized Map<String, Integer> failedBy() {
    return Map.copyOf(failedBy);
  }

  synchronized long invoked() {
    return ops.size();
  }

  synchronized List<String> onlineViolations() {
    return List.copyOf(violations);
  }

  /** Result of {@link #check}: violations (must be empty) and how many unknown writes applied. */
  record Verdict(List<String> violations, int keys, int unknownApplied, int unknownDeletesAssumed) {}

  /**
   * Checks a converged state (key to listing item) against the history: for each key, the value
   * must be that of the highest version among the acknowledged writes and the unknown writes that
   * applied. So: the listed version of an acknowledged value is exactly the one acknowledged; no
   * acknowledged write has a higher version than the listed one (none was lost); a listed
   * unknown-outcome value has a version above every acknowledged one; no failed write's value is
   * there; and an acknowledged put is absent only if an unknown-outcome delete of the key exists
   * (whose version the listing cannot show: tombstones are not listed).
   */
  synchronized Verdict check(Map<String, JsonNode> state) {
    List<String> bad = new ArrayList<>(violations);
    Map<String, Op> ackedWinner = new HashMap<>();
    Map<String, Boolean> unknownDelete = new HashMap<>();
    TreeSet<String> keys = new TreeSet<>(state.keySet());
    for (Op op : ops) {
      keys.add(op.key());
      if (op.outcome() == Outcome.ACKED) {
        ackedWinner.merge(op.key(), op, (a, b) -> compare(a.hlc(), a.origin(), b.hlc(), b.origin()) >= 0 ? a : b);
      } else if (op.outcome() == Outcome.UNKNOWN && op.isDelete()) {
        unknownDelete.put(op.key(), true);
      }
    }
    int unknownApplied = 0;
    int assumed = 0;
    for (String key : keys) {
      Op winner = ackedWinner.get(key);
      JsonNode item = state.get(key);
      if (item == null) {
        if (winner != null && !winner.isDelete()) {
          if (unknownDelete.containsKey(key)) {
            assumed++;
          } else {
            bad.add("LOST: " + key + " is absent everywhere but its acknowledged winner is " + winner);
          }
        }
        continue;
      }
      String value = item.path("value").asText();
      String version = item.path("version").asText();
      int at = version.lastIndexOf('@');
      long hlc = Long.parseLong(version.substring(0, at));
      String origin = version.substring(at + 1);
      Op op = byValue.get(value);
      if (op == null || !op.key().equals(key)) {
        bad.add("PHANTOM: " + key + " = " + value + " (" + version + ") was never written to this key");
        continue;
      }
      if (op.outcome() == Outcome.FAILED) {
        bad.add("FAILED WRITE APPLIED: " + key + " = " + value + " (" + version + ") was refused with " + op.detail());
        continue;
      }
      if (op.outcome() == Outcome.ACKED && !op.version().equals(version)) {
        bad.add("VERSION CHANGED: " + key + " = " + value + " is listed with version " + version + " but was acknowledged as " + op.version());
      }
      if (op.outcome() == Outcome.UNKNOWN) {
        unknownApplied++;
      }
      if (winner != null && !winner.equals(op) && compare(winner.hlc(), winner.origin(), hlc, origin) >= 0) {
        bad.add("LWW: " + key + " holds " + value + " (" + version + ", " + op.outcome() + ") but the acknowledged " + winner + " has a version at least as high");
      }
    }
    return new Verdict(bad, keys.size(), unknownApplied, assumed);
  }

  static int compare(long hlcA, String originA, long hlcB, String originB) {
    int c = Long.compare(hlcA, hlcB);
    return c != 0 ? c : originA.compareTo(originB);
  }
}
