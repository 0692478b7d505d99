package dev.edgesync.engine.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The simulation's event loop: simulated time, one FIFO queue of ready tasks and one queue of
 * timers, all run on the harness thread in a fixed order.
 *
 * <p>Every executor of the engine under simulation is a {@link View} of this loop: each node's
 * transport callbacks, its replication I/O executor and its scheduler. Tasks submitted to any
 * view go to the one ready queue; timers fire when the harness {@linkplain #advance advances}
 * simulated time, in (due time, submission order). The one thread of the engine the loop cannot
 * run is each store's writer: the loop keeps every writer {@linkplain SimWriterGate#hold held}
 * and, between two tasks chosen by the seed (always when no task is ready), releases one writer
 * at a time until it is {@linkplain SimWriterGate#isQuiet quiet}. So whatever was submitted since the last settling is committed as one group, and the
 * callbacks of that commit (which enqueue further tasks) run while the harness waits: the order of
 * everything is a function of the seed.
 *
 * <p>Exceptions escaping a task are recorded ({@link #failures()}): in a real pool they would be
 * printed and lost, here they fail the run.
 *
 * <p>Thread safety: tasks may be submitted from any thread (the writers submit from theirs); the
 * loop itself is driven by one harness thread.
 */
final class SimLoop {
  /** A run that executes more tasks than this without becoming quiet is livelocked. */
  static final long MAX_TASKS_PER_SETTLE = 2_000_000;

  /** Writers are settled at least once every this many tasks. */
  static final int MAX_UNSETTLED_TASKS = 64;

  private final ArrayDeque<Task> ready = new ArrayDeque<>();
  private final PriorityQueue<Timed> timers =
      new PriorityQueue<>(Comparator.comparingLong((Timed t) -> t.due).thenComparingLong(t -> t.order));
  private final List<SimWriterGate> writers = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  // Only the thread that drives the simulation (advance, jump) writes it, so reading and then
  // writing it needs no lock; volatile makes it visible to the stores' writer threads.
  private volatile long nowNanos;
  private long nextOrder;
  private long tasksRun;
  private final SplittableRandom random;
  private final int settlePercent;
  private int unsettledTasks;

  /**
   * @param random decides, from the seed, whether the writers are settled before a task; a
   *     writer left held while later tasks run lets several batches wait in its queue and commit
   *     as one group, as they do when the writer is slower than the network
   * @param settlePercent the chance, in percent, that writers are settled before a task
   */
  SimLoop(SplittableRandom random, int settlePercent) {
    this.random = random;
    this.settlePercent = settlePercent;
  }

  private record Task(View owner, Runnable runnable) {}

  /** Simulated time since the start, in milliseconds. */
  long nowMillis() {
    return nowNanos / 1_000_000;
  }

  long nowNanos() {
    return nowNanos;
  }

  long tasksRun() {
    return tasksRun;
  }

  /** Exceptions that escaped tasks, as text. */
  synchronized List<String> failures() {
    return List.copyOf(failures);
  }

  /** A named view (executor and scheduler) whose work runs on this loop. */
  View view(String name) {
    return new View(name);
  }

  /** Holds the writer behind {@code gate} and lets the loop settle it between tasks. */
  void register(SimWriterGate gate) {
    gate.hold(true);
    synchronized (this) {
      writers.add(gate);
    }
  }

  synchronized void unregister(SimWriterGate gate) {
    writers.remove(gate);
  }

  /** Runs tasks until none is ready and every writer is quiet. */
  void runUntilQuiet() {
    runTasks(MAX_TASKS_PER_SETTLE, true);
  }

  /**
   * Runs at most {@code max} ready tasks (settling writers before each), leaving the rest queued:
   * the simulation crashes a node in the middle of things this way.
   */
  void runSome(int max) {
    runTasks(max, false);
  }

  private void runTasks(long max, boolean mustFinish) {
    long ran = 0;
    while (true) {
      boolean empty;
      synchronized (this) {
        empty = ready.isEmpty();
      }
      if (empty || unsettledTasks >= MAX_UNSETTLED_TASKS || random.nextInt(100) < settlePercent) {
        settleWriters();
        unsettledTasks = 0;
      }
      Task t;
      synchronized (this) {
        t = ready.poll();
      }
      if (t == null) {
        return;
      }
      unsettledTasks++;
      if (ran++ >= max) {
        synchronized (this) {
          ready.addFirst(t);
        }
        if (mustFinish) {
          throw new IllegalStateException(
              "livelock: " + max + " tasks ran without the simulation becoming quiet (at " + nowMillis() + " ms)");
        }
        return;
      }
      run(t.owner.name, t.runnable);
    }
  }

  private void settleWriters() {
    List<SimWriterGate> snapshot;
    synchronized (this) {
      snapshot = List.copyOf(writers);
    }
    for (SimWriterGate s : snapshot) {
      if (!s.isQuiet()) {
        s.hold(false);
        try {
          s.awaitQuiet();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for a writer", e);
        } finally {
          s.hold(true);
        }
      }
    }
  }

  private void run(String owner, Runnable r) {
    tasksRun++;
    try {
      r.run();
    } catch (RuntimeException | Error e) {
      java.io.StringWriter text = new java.io.StringWriter();
      e.printStackTrace(new java.io.PrintWriter(text));
      synchronized (this) {
        failures.add("task of " + owner + " at " + nowMillis() + " ms threw " + text);
      }
    }
  }

  /** Moves simulated time forward by {@code millis}, firing every timer due on the way, in order. */
  void advance(long millis) {
    long target = nowNanos + millis * 1_000_000;
    runUntilQuiet();
    while (true) {
      Timed t;
      synchronized (this) {
        t = timers.peek();
        if (t == null || t.due > target) {
          break;
        }
        timers.poll();
      }
      if (t.due > nowNanos) {
        nowNanos = t.due;
      }
      fire(t);
      runUntilQuiet();
    }
    nowNanos = target;
    runUntilQuiet();
  }

  /**
   * Jumps simulated time forward by {@code millis} at once, as after the machine was suspended:
   * every overdue timer fires once, late, and periodic ones continue from the new time.
   */
  void jump(long millis) {
    long target = nowNanos + millis * 1_000_000;
    nowNanos = target;
    advance(0);
  }

  private void fire(Timed t) {
    if (t.cancelled || t.owner.shutdown) {
      return;
    }
    run(t.owner.name, t::runOnce);
    if (t.periodNanos > 0 && !t.cancelled && !t.owner.shutdown) {
      synchronized (this) {
        t.due = nowNanos + t.periodNanos;
        t.order = nextOrder++;
        timers.add(t);
      }
    } else {
      t.done = true;
    }
  }

  /** A timer; also the future returned by the scheduler methods. */
  private final class Timed implements ScheduledFuture<Object> {
    final View owner;
    final Callable<?> task;
    final long periodNanos;
    long due;
    long order;
    volatile boolean cancelled;
    volatile boolean done;
    Object result;

    Timed(View owner, Callable<?> task, long delayNanos, long periodNanos) {
      this.owner = owner;
      this.task = task;
      this.periodNanos = periodNanos;
      this.due = nowNanos + Math.max(0, delayNanos);
    }

    void runOnce() {
      try {
        result = task.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(due - nowNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      if (done || cancelled) {
        return false;
      }
      cancelled = true;
      synchronized (SimLoop.this) {
        timers.remove(this);
      }
      return true;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return done || cancelled;
    }

    @Override
    public Object get() {
      if (!done) {
        throw new IllegalStateException("waiting for a simulated timer would block the simulation");
      }
      return result;
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      return get();
    }
  }

  /**
   * An executor and scheduler of one part of one node. {@link #shutdownNow()} drops its queued
   * tasks and timers (a crash); {@link #awaitTermination} never blocks, since only the harness
   * thread runs tasks.
   */
  final class View extends AbstractExecutorService implements ScheduledExecutorService {
    final String name;
    volatile boolean shutdown;

    View(String name) {
      this.name = name;
    }

    @Override
    public void execute(Runnable command) {
      synchronized (SimLoop.this) {
        if (shutdown) {
          throw new RejectedExecutionException(name + " is shut down");
        }
        ready.add(new Task(this, command));
      }
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      List<Runnable> dropped = new ArrayList<>();
      synchronized (SimLoop.this) {
        for (Iterator<Task> it = ready.iterator(); it.hasNext(); ) {
          Task t = it.next();
          if (t.owner == this) {
            dropped.add(t.runnable);
            it.remove();
          }
        }
        timers.removeIf(t -> t.owner == this);
      }
      return dropped;
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      if (!shutdown) {
        return false;
      }
      synchronized (SimLoop.this) {
        for (Task t : ready) {
          if (t.owner == this) {
            return false;
          }
        }
      }
      return true;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return isTerminated();
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      return add(new Timed(this, () -> {
        command.run();
        return null;
      }, unit.toNanos(delay), 0));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
      @SuppressWarnings("unchecked")
      ScheduledFuture<V> f = (ScheduledFuture<V>) add(new Timed(this, callable, unit.toNanos(delay), 0));
      return f;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
      // Simulated time does not pass while a task runs, so fixed rate and fixed delay coincide
      // (except after a jump, where the loop fires an overdue timer once, as a suspended JVM does).
      return scheduleWithFixedDelay(command, initialDelay, period, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
      if (delay <= 0) {
        throw new IllegalArgumentException("delay must be positive, got " + delay);
      }
      return add(new Timed(this, () -> {
        command.run();
        return null;
      }, unit.toNanos(initialDelay), unit.toNanos(delay)));
    }

    private Timed add(Timed t) {
      synchronized (SimLoop.this) {
        if (shutdown) {
          throw new RejectedExecutionException(name + " is shut down");
        }
        t.order = nextOrder++;
        timers.add(t);
      }
      return t;
    }
  }
}
