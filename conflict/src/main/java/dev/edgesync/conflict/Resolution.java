package dev.edgesync.conflict;

/** What to do with an incoming version of a key, given the stored one. */
public enum Resolution {
  /** The incoming version wins (or nothing is stored): store it. */
  APPLY,
  /** The incoming version is the stored one: drop it, nothing changes. */
  DUPLICATE,
  /** The stored version wins: drop the incoming one and count a conflict. */
  LOSE
}
