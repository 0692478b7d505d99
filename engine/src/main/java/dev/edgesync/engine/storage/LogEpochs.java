package dev.edgesync.engine.storage;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * The epochs of a store's change log, oldest first: which open of the database issued a seq.
 *
 * <p>Every open starts a new epoch: a random id whose first seq is the head seq + 1 (the first
 * epoch of a database starts at seq 1). A database restored from an older copy keeps its log id
 * but gets a brand-new epoch at its older head + 1, so the seqs it issues again belong to an epoch
 * no subscriber has seen: a subscriber names the epoch of its watermark and the publisher resumes
 * only if its log still has that seq in that epoch ({@link #epochOf}). The list grows by one
 * 16-byte record per open and is held in memory.
 *
 * <p>Immutable, so safe to read from any thread; fixed for the life of one open.
 */
final class LogEpochs {
  private static final SecureRandom EPOCH_IDS = new SecureRandom();

  private final List<StoreLayout.Epoch> epochs; // never empty

  private LogEpochs(List<StoreLayout.Epoch> epochs) {
    this.epochs = List.copyOf(epochs);
  }

  /** The epochs of a new database: one, starting at seq 1. */
  static LogEpochs first() {
    return new LogEpochs(List.of(newEpoch(1)));
  }

  /**
   * The stored epochs plus the one this open starts after {@code headSeq}. A database from before
   * epochs has none stored: its first epoch then covers its whole history.
   */
  static LogEpochs startingAfter(List<StoreLayout.Epoch> stored, long headSeq) {
    List<StoreLayout.Epoch> epochs = new ArrayList<>(stored);
    epochs.add(newEpoch(epochs.isEmpty() ? 1 : headSeq + 1));
    return new LogEpochs(epochs);
  }

  private static StoreLayout.Epoch newEpoch(long firstSeq) {
    return new StoreLayout.Epoch(EPOCH_IDS.nextLong(), firstSeq);
  }

  /** See {@link VersionedStore#epochOf}. */
  String epochOf(long seq) {
    if (seq <= 0) {
      return "";
    }
    for (int i = epochs.size() - 1; i >= 0; i--) {
      StoreLayout.Epoch e = epochs.get(i);
      if (e.firstSeq() <= seq) {
        return e.idText();
      }
    }
    return "";
  }

  /** The epoch this open started (the one new seqs belong to). */
  StoreLayout.Epoch current() {
    return epochs.get(epochs.size() - 1);
  }

  /** Oldest first, unmodifiable. */
  List<StoreLayout.Epoch> list() {
    return epochs;
  }
}
