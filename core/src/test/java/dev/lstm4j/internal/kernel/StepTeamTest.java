package dev.lstm4j.internal.kernel;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The step team runs every piece of every step exactly once, without waiting for a helper that does not run. */
class StepTeamTest {
    /** Over many steps of varying size, each piece runs once, and a step's pieces are done when run returns. */
    @Test
    void everyPieceRunsOncePerStep() {
        StepTeam team = new StepTeam(2, 200_000, "test-team");
        try {
            int steps = 3000;
            for (int s = 0; s < steps; s++) {
                int pieces = 1 + s % 13;
                AtomicIntegerArray ran = new AtomicIntegerArray(pieces);
                team.run(p -> {
                    ran.incrementAndGet(p);
                    if (p % 3 == 0) {
                        Thread.onSpinWait();
                    }
                }, pieces);
                for (int p = 0; p < pieces; p++) {
                    assertEquals(1, ran.get(p), "step " + s + " piece " + p + " of " + pieces);
                }
            }
        } finally {
            team.close();
        }
    }

    /**
     * A helper that is stuck in a piece delays only that piece: the caller takes over the rest of its share (here,
     * while the helper is blocked until the caller has run every other piece of the step).
     */
    @Test
    void theCallerTakesOverWhatAHelperHasNotClaimed() throws InterruptedException {
        StepTeam team = new StepTeam(1, 200_000, "test-team");
        try {
            // let the helper claim the first piece of its share and block there
            int pieces = 8;
            Thread caller = Thread.currentThread();
            AtomicIntegerArray runBy = new AtomicIntegerArray(pieces);  // 1 caller, 2 helper
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            // retry until the helper really claimed a piece (it may be asleep or slow to start on a busy machine)
            boolean helperClaimed = false;
            while (!helperClaimed && System.nanoTime() < deadline) {
                team.wake();
                while (!team.awake() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                for (int p = 0; p < pieces; p++) {
                    runBy.set(p, 0);
                }
                CountDownLatch latch = new CountDownLatch(pieces - 1);
                team.run(p -> {
                    boolean helper = Thread.currentThread() != caller;
                    runBy.set(p, helper ? 2 : 1);
                    if (helper && p == 4) {
                        try {
                            // blocks until the caller ran everything else
                            assertTrue(latch.await(20, TimeUnit.SECONDS), "the caller did not take over the helper's other pieces");
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    } else {
                        if (!helper && p < 4) {
                            // the caller's own share takes a while, so the spinning helper claims its first piece
                            // before the caller could take it over (trivial pieces let the caller win every race)
                            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                        }
                        latch.countDown();
                    }
                }, pieces);
                helperClaimed = runBy.get(4) == 2;
                for (int p = 0; p < pieces; p++) {
                    assertTrue(runBy.get(p) != 0, "piece " + p + " never ran in a step");
                }
            }
            if (!helperClaimed) {
                // the take-over cannot be shown when the helper thread never got a core in 20 s (a starved shared
                // machine); every step above still ran every piece, which is checked
                System.out.println("SKIPPED: StepTeamTest.theCallerTakesOverWhatAHelperHasNotClaimed: the helper never claimed a piece in 20 s");
                org.junit.jupiter.api.Assumptions.abort("the helper never claimed a piece of its share within 20 s");
            }
            int byCaller = 0;
            for (int p = 0; p < pieces; p++) {
                assertTrue(runBy.get(p) != 0, "piece " + p + " never ran");
                byCaller += runBy.get(p) == 1 ? 1 : 0;
            }
            assertEquals(pieces - 1, byCaller, "the caller should have run every piece but the blocked one");
        } finally {
            team.close();
        }
    }

    @Test
    void aFailureInAPieceIsRethrownByTheCaller() {
        StepTeam team = new StepTeam(1, 200_000, "test-team");
        try {
            for (int bad = 0; bad < 6; bad++) {
                int b = bad;
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> team.run(p -> {
                    if (p == b) {
                        throw new IllegalStateException("piece " + p);
                    }
                }, 6));
                assertEquals("piece " + b, e.getMessage());
            }
            int[] n = {0};
            team.run(p -> {
                synchronized (n) {
                    n[0]++;
                }
            }, 6);
            assertEquals(6, n[0], "the team works after a failure");
        } finally {
            team.close();
        }
    }
}
