package dev.edgesync.engine.storage;

import dev.edgesync.engine.storage.kv.KvStore;
import java.util.List;

/**
 * A {@link KvStore} whose {@link #close()} does nothing, so that a test can "restart" a node over
 * the same in-memory data, as a process restarted over the same LevelDB directory would (the
 * store closes its key-value store on close and on a simulated crash).
 */
public final class KeepOpenKvStore implements KvStore {
  private final KvStore delegate;

  /** Wraps {@code delegate}, which stays open until the test ends. */
  public KeepOpenKvStore(KvStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public byte[] get(byte[] key) {
    return delegate.get(key);
  }

  @Override
  public byte[] get(Snapshot snapshot, byte[] key) {
    return delegate.get(snapshot, key);
  }

  @Override
  public void write(List<Mutation> mutations, boolean sync) {
    delegate.write(mutations, sync);
  }

  @Override
  public Snapshot snapshot() {
    return delegate.snapshot();
  }

  @Override
  public RowIterator iterate(Snapshot snapshot, byte[] fromInclusive) {
    return delegate.iterate(snapshot, fromInclusive);
  }

  @Override
  public void close() {
    // Kept open on purpose: the next node over the same data reopens it (the disk outlives the process).
  }
}
