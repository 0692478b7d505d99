package dev.edgesync.engine.sim;

import dev.edgesync.engine.storage.KvStore;
import java.util.List;

/**
 * A {@link KvStore} whose {@link #close()} does nothing: the simulated node's "disk". A crashed
 * store closes its key-value store; the restarted node opens a new store over the same rows, as a
 * process restarted over the same LevelDB directory would.
 */
final class KeepOpenKvStore implements KvStore {
  private final KvStore delegate;

  KeepOpenKvStore(KvStore delegate) {
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
    // The disk outlives the process.
  }
}
