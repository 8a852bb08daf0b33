package dev.lstm4j.internal.kernel;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A fixed set of daemon threads that run the tasks of one phase (a layer's input projections, or its
 * recurrences) and wait for all of them. The caller runs task 0 itself. Allocates per phase, never per step.
 * Steps split over threads share a {@link StepTeam} instead (its own helper threads).
 */
final class Workers {
    interface Task {
        void run(int index);
    }

    private static final ConcurrentHashMap<Integer, Workers> SHARED = new ConcurrentHashMap<>();
    private final int threads;
    private volatile ExecutorService pool;
    private final AtomicReferenceArray<StepTeam> teams;

    private Workers(int threads) {
        this.threads = threads;
        this.teams = new AtomicReferenceArray<>(threads + 1);
    }

    /**
     * The workers for {@code threads} threads, shared by every engine with that count, so loading many models does
     * not start many pools. The daemon threads start at the first phase that uses them.
     */
    static Workers forThreads(int threads) {
        return SHARED.computeIfAbsent(threads, Workers::new);
    }

    private ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (this) {
                p = pool;
                if (p == null) {
                    AtomicInteger n = new AtomicInteger();
                    p = Executors.newFixedThreadPool(threads - 1, r -> {
                        Thread t = new Thread(r, "lstm4j-" + threads + "-worker-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
                    pool = p;
                }
            }
        }
        return p;
    }

    int threads() {
        return threads;
    }

    /**
     * The team of {@code parties} threads (the caller and parties-1 helpers, started on first use) that the column
     * split of every engine with this thread count shares; one caller at a time ({@link StepTeam#tryAcquire}).
     */
    StepTeam team(int parties) {
        StepTeam t = teams.get(parties);
        if (t == null) {
            synchronized (teams) {
                t = teams.get(parties);
                if (t == null) {
                    t = new StepTeam(parties - 1, 200_000, "lstm4j-" + threads + "-step");
                    teams.set(parties, t);
                }
            }
        }
        return t;
    }

    /** Runs tasks 0..count-1, spread over the threads, and returns when all are done. */
    void run(int count, Task task) {
        if (count <= 1 || threads <= 1) {
            for (int i = 0; i < count; i++) {
                task.run(i);
            }
            return;
        }
        Future<?>[] futures = new Future<?>[count - 1];
        for (int i = 1; i < count; i++) {
            int index = i;
            futures[i - 1] = pool().submit(() -> task.run(index));
        }
        task.run(0);
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for lstm4j worker threads", e);
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException) {
                    throw (RuntimeException) cause;
                }
                if (cause instanceof Error) {
                    throw (Error) cause;
                }
                throw new IllegalStateException(cause);
            }
        }
    }
}
