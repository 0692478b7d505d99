package dev.edgesync.engine.storage;

import com.google.common.hash.BloomFilter;
import com.google.common.hash.Funnels;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which keys the store may hold: Bloom filters over every key that has a state row, so that the
 * writer's LWW lookup of a key the store has never held skips the read of the store. That is
 * every key of a first catch-up and every new key of a live stream; in iq80 LevelDB, which has no
 * filter blocks of its own, such a read searches the memtables and every level and takes the
 * database's lock, which its compaction thread holds for long stretches.
 *
 * <p>The filter is filled by the scan of the state table at open (the one that verifies the
 * digest) and by the writer with every key it stores. It only answers "certainly absent" or
 * "maybe present"; a false positive costs the read it would have cost anyway, so it never
 * changes what the store decides. The key count is unknown when the scan starts, so the filter
 * grows in stages, each four times the capacity of the one before (a scalable Bloom filter); a
 * key is absent when no stage may contain it.
 *
 * <p>Memory grows with the number of keys, about 1 byte per key (up to 4 while a new stage
 * fills), up to a budget of 1/16 of the JVM's maximum heap (16 MiB at {@code -Xmx256m}: stages
 * of 1, 4 and 16 million keys do not fit, so about 5 million keys). Past the budget
 * the filter turns itself off and every lookup reads the store, as without it.
 *
 * <p>Used by the writer thread only (and by {@code open} before the writer starts).
 */
final class KeyFilter {
  private static final Logger log = LoggerFactory.getLogger(KeyFilter.class);

  /** False-positive rate of each stage: 6 probes per stage, a false positive costs one read. */
  private static final double FPP = 0.02;

  /**
   * Each stage holds this many times the keys of the one before. A key that is absent (the common
   * case this filter is for) is hashed and probed once per stage, so few large stages beat many.
   */
  private static final long GROWTH = 4;

  /** Capacity of the first stage: 1 Mi keys, about 1.2 MiB; most stores need no second one. */
  static final long FIRST_STAGE_KEYS = 1L << 20;

  /** Bits per key at {@link #FPP}, rounded up: -ln(p) / ln(2)^2 = 8.1. */
  private static final double BITS_PER_KEY = 8.2;

  private final String location;
  private final long maxBits;
  private final long firstStageKeys;
  private final List<BloomFilter<byte[]>> stages = new ArrayList<>();
  private long stageCapacity;
  private long inStage;
  private long keys;
  private long bits;
  private boolean off;

  /**
   * @param location the store, for the log line when the filter turns off
   * @param maxBytes memory budget; past it the filter turns off
   */
  KeyFilter(String location, long maxBytes) {
    this(location, maxBytes, FIRST_STAGE_KEYS);
  }

  /** For tests: a filter whose first stage holds {@code firstStageKeys}. */
  KeyFilter(String location, long maxBytes, long firstStageKeys) {
    this.location = location;
    this.maxBits = maxBytes * 8;
    this.firstStageKeys = firstStageKeys;
  }

  /** A filter with the default budget: 1/16 of the JVM's maximum heap. */
  static KeyFilter withHeapBudget(String location) {
    return new KeyFilter(location, Runtime.getRuntime().maxMemory() / 16);
  }

  /** Notes that {@code key} has (or is about to have) a state row. */
  void add(byte[] key) {
    if (off) {
      return;
    }
    if (stages.isEmpty() || inStage >= stageCapacity) {
      long capacity = stages.isEmpty() ? firstStageKeys : stageCapacity * GROWTH;
      long stageBits = (long) Math.ceil(capacity * BITS_PER_KEY);
      if (bits + stageBits > maxBits) {
        off = true;
        stages.clear();
        log.info(
            "key filter of store {} turned off at {} keys (budget {} MiB, 1/16 of the maximum heap): lookups of new"
                + " keys read the store",
            location, keys, maxBits / 8 / (1024 * 1024));
        return;
      }
      stages.add(BloomFilter.create(Funnels.byteArrayFunnel(), capacity, FPP));
      stageCapacity = capacity;
      inStage = 0;
      bits += stageBits;
    }
    stages.get(stages.size() - 1).put(key);
    inStage++;
    keys++;
  }

  /** False only when {@code key} was certainly never {@linkplain #add added}. */
  boolean mightContain(byte[] key) {
    if (off) {
      return true;
    }
    for (int i = stages.size() - 1; i >= 0; i--) {
      if (stages.get(i).mightContain(key)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the filter turned off (over its budget). */
  boolean isOff() {
    return off;
  }

  /** Keys added so far. */
  long keys() {
    return keys;
  }

  /** Approximate bytes held. */
  long bytes() {
    return bits / 8;
  }
}
