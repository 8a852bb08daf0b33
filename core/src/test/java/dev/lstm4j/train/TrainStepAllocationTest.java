package dev.lstm4j.train;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Warm training steps on the fast path (forward, loss, backward, Adam, through {@link Trainer#trainEpoch}) allocate
 * nothing on the calling thread, as {@code ThreadMXBean.getThreadAllocatedBytes} counts: every buffer, the packed
 * weights and the tape are kept between steps. Until C2 has compiled the Vector API kernels their vectors are boxed,
 * so the test first steps until {@link #WARM_RUN} steps in a row allocate nothing (at most {@link #WARM_NANOS}), then
 * requires {@link #STEADY} more steps in a row to allocate 0 bytes. A step that allocates every time fails both. The reference path, which allocates its tape every step, shows
 * that the meter sees allocations.
 */
class TrainStepAllocationTest {
    static final long WARM_NANOS = 60_000_000_000L;
    static final int WARM_RUN = 50;
    static final int STEADY = 30;
    static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** A trainer and its one-batch data set. */
    record Run(Trainer trainer, Dataset data) {
    }

    /** With 2 threads, hidden 64 and batch 8 make the products large enough to be split (PanelSplit.MIN_SPLIT_MACS). */
    static Run run(long seed, int layers, boolean fast, int threads, boolean everyStep) {
        int in = 5, hidden = threads > 1 ? 64 : 17, b = threads > 1 ? 8 : 4, t = 9;
        TrainableLstm m = TrainableLstm.create(new LstmConfig(in, hidden, layers, false, 0, true), 2, 0, Precision.F32, seed);
        m.setFastPath(fast);
        m.setThreads(threads);
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[b * t * in], y = new double[b * (everyStep ? t : 1) * 2];
        for (int k = 0; k < x.length; k++) {
            x[k] = (float) r.nextGaussian();
        }
        for (int k = 0; k < y.length; k++) {
            y[k] = (float) r.nextGaussian();
        }
        Dataset d = everyStep ? Dataset.everyStep(x, y, b, t, in, 2) : Dataset.lastStep(x, y, b, t, in, 2);
        return new Run(new Trainer(m, new Adam(m.parameters(), m.precision(), Adam.Options.adam(1e-3)), Loss.mse(Reduction.MEAN),
                Trainer.Options.defaults().withBatchSize(b).withShuffle(true).withSeed(seed).withClipNorm(threads > 1 ? 1 : 0)
                        .withClipValue(threads > 1 ? 5 : 0)), d);
    }

    /** Bytes the calling thread allocated in one epoch (one step: the data set is one batch). */
    static long stepBytes(Run tr) {
        long tid = Thread.currentThread().getId();
        long a0 = THREADS.getThreadAllocatedBytes(tid);
        tr.trainer().trainEpoch(tr.data(), null);
        return THREADS.getThreadAllocatedBytes(tid) - a0;
    }

    static void assertWarmStepsAllocateNothing(Run tr, String label) {
        // warm until WARM_RUN steps in a row allocate nothing: a first zero can come before C2 has compiled (or
        // recompiled, after an uncommon trap) every path of the step, and interpreted Vector API code boxes
        long start = System.nanoTime();
        int warm = 0, run = 0;
        long last = 0;
        while (run < WARM_RUN) {
            last = stepBytes(tr);
            run = last == 0 ? run + 1 : 0;
            warm++;
            if (System.nanoTime() - start > WARM_NANOS) {
                fail(label + ": no " + WARM_RUN + " steps in a row without allocating after " + warm + " warm-up steps (last " + last + " B)");
            }
        }
        for (int k = 0; k < STEADY; k++) {
            long bytes = stepBytes(tr);
            if (bytes != 0) {
                fail(label + ": step " + k + " after warm-up (" + warm + " steps) allocated " + bytes + " B");
            }
        }
        System.out.println(label + ": " + STEADY + " steps at 0 B after " + warm + " warm-up steps");
    }

    @Test
    void warmFastStepsAllocateNothing() {
        assertTrue(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled(), "this JVM cannot count allocations");
        long seed = 0x7a110cL;
        System.out.println("train step allocation: seed " + seed);
        assertWarmStepsAllocateNothing(run(seed, 2, true, 1, false), "2 layers, 1 thread, loss on the last step");
        assertWarmStepsAllocateNothing(run(seed + 1, 1, true, 2, true), "1 layer, 2 threads, loss on every step, both clippings");
    }

    /** The meter can fail: the reference path allocates its tape every step, and stepBytes sees it. */
    @Test
    void theReferencePathAllocatesAndTheMeterSeesIt() {
        Run tr = run(3, 1, false, 1, false);
        for (int k = 0; k < 20; k++) {
            stepBytes(tr);
        }
        long bytes = stepBytes(tr);
        assertTrue(bytes > 10_000, "the reference path's step allocated only " + bytes + " B");
    }
}
