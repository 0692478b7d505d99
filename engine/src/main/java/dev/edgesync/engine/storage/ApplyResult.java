package dev.edgesync.engine.storage;

/**
 * Outcome of applying a batch of remote entries.
 *
 * @param applied entries that won LWW and were stored with a new local seq
 * @param duplicates entries equal to the stored version (dropped, no new seq)
 * @param conflicts entries that lost LWW against the stored version (dropped, counted)
 * @param headSeq this node's head seq after the commit
 */
public record ApplyResult(int applied, int duplicates, int conflicts, long headSeq) {}
