package dev.lstm4j.internal.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The calling thread and {@code n} helper threads sharing the pieces of one step at a time (the column split of a
 * recurrence: each piece is a range of gate columns; the row split posts a layer's recurrences, a slice of batch rows
 * each, as one step). Posting a step allocates nothing. Replaces a barrier, which waits for every thread at every step
 * and so collapses when one of them is not running (two threads on one CPU: docs/performance.md, "No collapse").
 *
 * <p>The pieces of a step are cut into {@code n + 1} shares: the caller runs share 0, helper k claims the pieces of
 * share k one by one from the bottom. When the caller is done with its own share it claims what is left of the
 * helpers' shares from the top (it steals them), and then waits only for pieces a helper has claimed and not yet
 * finished. So a helper that is descheduled, asleep or slow costs the caller its share's work, never a wait for it
 * to start; the only wait is for a piece in flight, and it spins for {@link #SPIN_NANOS}, then parks until the helper
 * finishes the piece. Helpers spin between steps (waking a parked thread costs more than a step) and park after
 * {@code idleNanos} without one; the caller unparks a parked helper when it posts a step.
 *
 * <p>One caller at a time: {@link #tryAcquire()} / {@link #release()}. Helper threads are daemons; {@link #close()}
 * ends them.
 */
final class StepTeam {
    /** The work of one step: {@code run(piece)} for each piece in 0..pieces-1, in any order, on any thread. */
    interface Work {
        void run(int piece);
    }

    /** How long a caller spins for a helper's piece in flight before parking. */
    static final long SPIN_NANOS = 20_000;
    private static final AtomicInteger TEAMS = new AtomicInteger();

    private final Helper[] helpers;
    private final long idleNanos;
    private final AtomicInteger owner = new AtomicInteger();
    private int step;                        // the caller's step count
    private Work work;                       // published by each helper's claim (a volatile write after it)
    private volatile Thread caller;
    private volatile boolean callerParked;
    private volatile Throwable failure;
    private volatile boolean closed;

    /** A team with {@code helpers} helper threads (started now), which park after {@code idleNanos} without a step. */
    StepTeam(int helpers, long idleNanos, String name) {
        this.idleNanos = idleNanos;
        this.helpers = new Helper[helpers];
        int id = TEAMS.incrementAndGet();
        for (int k = 0; k < helpers; k++) {
            this.helpers[k] = new Helper(this, name + "-" + id + "-" + (k + 1));
        }
    }

    /** Helpers, not counting the caller. */
    int helpers() {
        return helpers.length;
    }

    /** Takes the team for the calling thread, or returns false when another thread has it. */
    boolean tryAcquire() {
        return owner.compareAndSet(0, 1);
    }

    void release() {
        owner.set(0);
    }

    /** Whether every helper is spinning for work (not parked): a step posted now starts on all threads at once. */
    boolean awake() {
        for (Helper h : helpers) {
            if (h.parked) {
                return false;
            }
        }
        return true;
    }

    /** How many times the helpers have parked so far. */
    int naps() {
        int n = 0;
        for (Helper h : helpers) {
            n += h.naps;
        }
        return n;
    }

    /** Unparks the parked helpers, so that they spin for the next step. */
    void wake() {
        for (Helper h : helpers) {
            if (h.parked) {
                LockSupport.unpark(h.thread);
            }
        }
    }

    /** Start of share k of {@code parties} over {@code pieces}. */
    static int share(int pieces, int parties, int k) {
        return (int) ((long) pieces * k / parties);
    }

    /**
     * Runs one step: pieces 0..pieces-1 of {@code w}, spread as the class comment says, and returns when all are done.
     * A failure in any piece is rethrown here, after every piece in flight has finished.
     */
    void run(Work w, int pieces) {
        if (pieces >= 1 << 15) {
            throw new IllegalArgumentException("too many pieces: " + pieces);
        }
        int parties = helpers.length + 1, s = ++step;
        if (s == 0) {
            s = step = 1;  // 0 is a helper's "seen nothing"
        }
        work = w;
        Thread me = Thread.currentThread();
        if (caller != me) {
            caller = me;
        }
        for (int k = 0; k < helpers.length; k++) {
            Helper h = helpers[k];
            int a = share(pieces, parties, k + 1), b = share(pieces, parties, k + 2);
            h.first = a;
            h.claim.set(pack(s, 0, b - a));
            // the helper writes parked, then reads claim: it has seen this step, or we see it parked
            if (h.parked) {
                LockSupport.unpark(h.thread);
            }
        }
        Throwable own = null;
        try {
            for (int i = 0, end = share(pieces, parties, 1); i < end; i++) {
                w.run(i);
            }
        } catch (RuntimeException | Error e) {
            own = e;
        }
        // steal what the helpers have not claimed, from the top of each share
        for (Helper h : helpers) {
            while (true) {
                long c = h.claim.get();
                int lo = lo(c), hi = hi(c);
                if (lo >= hi) {
                    h.claimed = lo;
                    break;
                }
                if (h.claim.compareAndSet(c, pack(s, lo, hi - 1)) && own == null) {
                    try {
                        w.run(h.first + hi - 1);
                    } catch (RuntimeException | Error e) {
                        own = e;
                    }
                }
            }
        }
        // wait for pieces in flight
        for (Helper h : helpers) {
            if (h.claimed > 0) {
                awaitDone(h, pack(s, 0, h.claimed));
            }
        }
        work = null;  // a shared team must not keep the caller's buffers reachable
        Throwable t = own != null ? own : failure;
        if (t != null) {
            failure = null;
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            throw (Error) t;
        }
    }

    private void awaitDone(Helper h, long want) {
        long start = 0;
        int spins = 0;
        while (h.done != want) {
            if (++spins < 256) {
                Thread.onSpinWait();
                continue;
            }
            long now = System.nanoTime();
            if (start == 0) {
                start = now;
            }
            if (now - start < SPIN_NANOS) {
                Thread.onSpinWait();
                continue;
            }
            // the helper is not running: sleep until it finishes the piece (it unparks us)
            callerParked = true;
            if (h.done != want) {
                LockSupport.parkNanos(this, 1_000_000);
            }
            callerParked = false;
        }
    }

    /** Ends the helper threads. */
    void close() {
        closed = true;
        for (Helper h : helpers) {
            LockSupport.unpark(h.thread);
        }
    }

    private static long pack(int step, int lo, int hi) {
        return (long) step << 32 | (long) lo << 16 | hi;
    }

    private static int stepOf(long c) {
        return (int) (c >>> 32);
    }

    private static int lo(long c) {
        return (int) (c >>> 16) & 0xFFFF;
    }

    private static int hi(long c) {
        return (int) c & 0xFFFF;
    }

    /** One helper thread and its share of the current step. */
    private static final class Helper implements Runnable {
        final StepTeam team;
        final Thread thread;
        final AtomicLong claim = new AtomicLong();  // (step, next piece to claim from the bottom, end of the unclaimed part)
        volatile long done;                         // (step, pieces this helper finished in that step)
        volatile boolean parked;
        volatile int naps;
        int first;    // first piece of this helper's share; written before the claim is published
        int claimed;  // the caller's: pieces the helper claimed in the current step

        Helper(StepTeam team, String name) {
            this.team = team;
            thread = new Thread(this, name);
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void run() {
            int seen = 0;
            long idleSince = System.nanoTime();
            int spins = 0;
            while (!team.closed) {
                long c = claim.get();
                int s = stepOf(c);
                if (s != seen) {
                    seen = s;
                    int count = 0;
                    while (true) {
                        c = claim.get();
                        int lo = lo(c), hi = hi(c);
                        if (stepOf(c) != s || lo >= hi) {
                            break;
                        }
                        if (claim.compareAndSet(c, pack(s, lo + 1, hi))) {
                            // the caller cannot move to the next step before this piece is done, so work and first are this step's
                            try {
                                team.work.run(first + lo);
                            } catch (RuntimeException | Error e) {
                                team.failure = e;
                            }
                            done = pack(s, 0, ++count);
                            if (team.callerParked) {
                                LockSupport.unpark(team.caller);
                            }
                        }
                    }
                    idleSince = System.nanoTime();
                    spins = 0;
                    continue;
                }
                Thread.onSpinWait();
                if ((++spins & 255) == 0 && System.nanoTime() - idleSince > team.idleNanos) {
                    parked = true;
                    naps++;
                    // the caller writes claim, then reads parked: we see its step, or it sees us parked
                    if (stepOf(claim.get()) == seen && !team.closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
