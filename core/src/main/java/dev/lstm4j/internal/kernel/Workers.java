package dev.lstm4j.internal.kernel;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The threads of one thread count: the {@link StepTeam}s that split a pass's work (a layer's recurrences by rows, or
 * each step's gate columns), and a pool for callers that find the team busy. A caller that gets the team allocates
 * nothing: its work object is reused (see {@code FastLstm.RowWork}) and the team posts pieces without queue nodes or
 * futures, so a stepper's products stay allocation-free ({@code LstmStepperTest}). The pool allocates its tasks and
 * futures, a few hundred bytes per phase, only when another thread's pass holds the team at that moment.
 */
final class Workers {
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
     * not start many pools. Threads start at the first pass that uses them.
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
     * The team of {@code parties} threads (the caller and parties-1 helpers, started on first use) that every engine
     * with this thread count shares; one caller at a time ({@link StepTeam#tryAcquire}).
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

    /**
     * Runs pieces 0..count-1 of {@code work} on the team when it is free, else all on the caller: for many small pieces
     * (a many-key step), which the pool would run as one task and future each, on cores that other callers keep busy.
     */
    void runOrAlone(int count, StepTeam.Work work) {
        if (count > 1 && threads > 1 && onTeam(count, work)) {
            return;
        }
        for (int i = 0; i < count; i++) {
            work.run(i);
        }
    }

    /** Runs the pieces on the team of min(count, threads) threads and returns true, or returns false when it is taken. */
    private boolean onTeam(int count, StepTeam.Work work) {
        StepTeam team = team(Math.min(count, threads));
        if (!team.tryAcquire()) {
            return false;
        }
        try {
            team.run(work, count);
        } finally {
            team.release();
        }
        return true;
    }

    /**
     * Runs pieces 0..count-1 of {@code work}, spread over the threads, and returns when all are done: on the team of
     * min(count, threads) threads when it is free, else the caller runs piece 0 and the pool the others.
     */
    void run(int count, StepTeam.Work work) {
        if (count <= 1 || threads <= 1) {
            for (int i = 0; i < count; i++) {
                work.run(i);
            }
            return;
        }
        if (onTeam(count, work)) {
            return;
        }
        Future<?>[] futures = new Future<?>[count - 1];
        for (int i = 1; i < count; i++) {
            int index = i;
            futures[i - 1] = pool().submit(() -> work.run(index));
        }
        Throwable failure = null;
        try {
            work.run(0);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        // wait for every piece, even when interrupted or failing: the work object is the workspace's, reused by its next pass
        boolean interrupted = false;
        for (Future<?> f : futures) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    failure = failure == null ? e.getCause() : failure;
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        }
        if (failure instanceof Error) {
            throw (Error) failure;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }
}
