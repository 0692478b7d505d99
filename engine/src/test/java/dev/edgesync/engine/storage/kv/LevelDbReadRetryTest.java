package dev.edgesync.engine.storage.kv;

import static dev.edgesync.engine.storage.StoreFixtures.bytes;
import static dev.edgesync.engine.storage.StoreFixtures.string;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.edgesync.engine.storage.errors.StorageException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.iq80.leveldb.impl.Iq80DBFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retry of reads that hit iq80's "Could not open table" failure (a table file deleted by a
 * compaction), with the failure injected into a real database through a proxy.
 */
class LevelDbReadRetryTest {
  private static final int MAX_ATTEMPTS = 4;

  @TempDir Path dir;

  private DB real;
  private LevelDbKvStore kv;
  private final AtomicInteger getFailuresLeft = new AtomicInteger();
  private volatile RuntimeException getFailure;
  private final AtomicInteger iteratorOps = new AtomicInteger();
  private final Set<Integer> failingIteratorOps = ConcurrentHashMap.newKeySet();
  private final AtomicInteger iteratorFailuresThrown = new AtomicInteger();
  private final AtomicInteger iteratorsOpened = new AtomicInteger();

  private static RuntimeException missingTable() {
    return new RuntimeException(
        "Could not open table 7", new FileNotFoundException("/data/db/000007.sst (No such file or directory)"));
  }

  @BeforeEach
  void openProxiedStore() throws IOException {
    real = Iq80DBFactory.factory.open(dir.resolve("db").toFile(), new Options().createIfMissing(true));
    DB proxied =
        (DB) Proxy.newProxyInstance(DB.class.getClassLoader(), new Class<?>[] {DB.class}, dbHandler());
    kv = new LevelDbKvStore(dir.resolve("db"), proxied, MAX_ATTEMPTS);
    List<KvStore.Mutation> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      rows.add(KvStore.Mutation.put(bytes(String.format("row-%02d", i)), bytes("v" + i)));
    }
    kv.write(rows, false);
  }

  @AfterEach
  void close() {
    kv.close();
  }

  private InvocationHandler dbHandler() {
    return (proxy, method, args) -> {
      if (method.getName().equals("get") && getFailuresLeft.getAndDecrement() > 0) {
        throw getFailure;
      }
      Object result = invoke(real, method, args);
      if (result instanceof DBIterator it) {
        iteratorsOpened.incrementAndGet();
        return Proxy.newProxyInstance(
            DBIterator.class.getClassLoader(), new Class<?>[] {DBIterator.class}, iteratorHandler(it));
      }
      return result;
    };
  }

  private InvocationHandler iteratorHandler(DBIterator it) {
    return (proxy, method, args) -> {
      if (Set.of("seek", "hasNext", "next", "peekNext").contains(method.getName())
          && failingIteratorOps.contains(iteratorOps.incrementAndGet())) {
        iteratorFailuresThrown.incrementAndGet();
        throw missingTable();
      }
      return invoke(it, method, args);
    };
  }

  private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @Test
  void aGetThatHitsADeletedTableIsRetried() {
    getFailure = missingTable();
    getFailuresLeft.set(MAX_ATTEMPTS - 1);
    assertEquals("v3", string(kv.get(bytes("row-03"))));
    assertEquals(MAX_ATTEMPTS - 1, kv.readRetries());
  }

  @Test
  void aSnapshotGetIsRetriedAtTheSameSnapshot() {
    try (KvStore.Snapshot snapshot = kv.snapshot()) {
      kv.write(List.of(KvStore.Mutation.put(bytes("row-03"), bytes("newer"))), false);
      getFailure = missingTable();
      getFailuresLeft.set(2);
      assertEquals("v3", string(kv.get(snapshot, bytes("row-03"))));
      assertEquals(2, kv.readRetries());
    }
  }

  @Test
  void aGetThatKeepsFailingEndsWithAStorageException() {
    getFailure = missingTable();
    getFailuresLeft.set(Integer.MAX_VALUE);
    StorageException e = assertThrows(StorageException.class, () -> kv.get(bytes("row-03")));
    assertTrue(e.getMessage().contains(dir.resolve("db").toString()), e.getMessage());
    assertTrue(e.getMessage().contains(MAX_ATTEMPTS + " times in a row"), e.getMessage());
    assertEquals(MAX_ATTEMPTS - 1, kv.readRetries());
  }

  @Test
  void otherReadFailuresAreNotRetried() {
    getFailure = new IllegalStateException("Background exception occurred");
    getFailuresLeft.set(1);
    StorageException e = assertThrows(StorageException.class, () -> kv.get(bytes("row-03")));
    assertEquals(getFailure, e.getCause());
    assertEquals(0, kv.readRetries());
  }

  @Test
  void anIteratorResumesAfterTheLastRowItReturnedAtTheSameSnapshot() {
    try (KvStore.Snapshot snapshot = kv.snapshot()) {
      // Written after the snapshot: a resumed iterator must not see these.
      kv.write(
          List.of(
              KvStore.Mutation.put(bytes("row-05x"), bytes("late")), KvStore.Mutation.put(bytes("row-10"), bytes("late"))),
          false);
      // Fail in the middle, twice in a row (the second failure hits the reopened iterator), and later again.
      failingIteratorOps.addAll(Set.of(12, 13, 30));
      List<String> seen = new ArrayList<>();
      try (KvStore.RowIterator it = kv.iterate(snapshot, bytes("row-"))) {
        while (it.hasNext()) {
          KvStore.Row row = it.next();
          seen.add(string(row.key()) + "=" + string(row.value()));
        }
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        expected.add(String.format("row-%02d", i) + "=v" + i);
      }
      assertEquals(expected, seen);
      assertEquals(3, iteratorFailuresThrown.get());
      assertEquals(3, kv.readRetries());
      assertEquals(4, iteratorsOpened.get());
    }
  }

  @Test
  void anIteratorThatKeepsFailingEndsWithAStorageException() {
    for (int op = 3; op < 3 + MAX_ATTEMPTS * 3; op++) {
      failingIteratorOps.add(op);
    }
    List<String> seen = new ArrayList<>();
    StorageException e =
        assertThrows(
            StorageException.class,
            () -> {
              try (KvStore.RowIterator it = kv.iterate(null, bytes("row-"))) {
                while (it.hasNext()) {
                  seen.add(string(it.next().key()));
                }
              }
            });
    assertTrue(e.getMessage().contains("times in a row"), e.getMessage());
    assertTrue(seen.size() < 20, "failed before the end: " + seen);
  }
}
