package dev.lstm4j.internal.kernel;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reusable barrier for the few threads of one recurrence, crossed once per step (microseconds apart, too often
 * to park). Spins briefly, then yields, so a descheduled partner on a busy machine does not cost a whole core.
 */
final class SpinBarrier {
    private static final int SPINS = 1 << 14;
    private final int parties;
    private final AtomicInteger arrived = new AtomicInteger();
    private volatile int generation;

    SpinBarrier(int parties) {
        this.parties = parties;
    }

    void await() {
        int g = generation;
        if (arrived.incrementAndGet() == parties) {
            arrived.set(0);
            generation = g + 1;
            return;
        }
        int spins = 0;
        while (generation == g) {
            if (++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
