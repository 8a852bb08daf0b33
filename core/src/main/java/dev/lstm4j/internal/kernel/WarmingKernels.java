package dev.lstm4j.internal.kernel;

import java.util.SplittableRandom;

/**
 * The vector kernels, run on the scalar ones until they are compiled. Until the JIT has compiled it, Vector API code
 * is far slower than plain Java (every vector a boxed object): a cold {@code lstm4j run} of W3 took 4.9 s of CPU on
 * the vector kernels and 2.0 s on the scalar ones. So a daemon thread calls the vector kernels on small
 * inputs shaped like the fast path's (batch 1 and 8+ rows, with bias or accumulating, both panel orders, the two-source
 * product, the gate pass), in turn with the scalar kernels on the same calls, until a round of the vector kernels is
 * faster than the scalar round before it, twice in a row (both see the same load, so this holds on a busy machine
 * too; after 10 s the rounds slow to one every 50 ms, and calls never go to vector code that is not yet faster);
 * only then do calls go to them, and meanwhile the scalar kernels compute. Both read the same packed weights (the scalar kernels take the panel width from the packed
 * matrix), and both give the reference path's results within the contract's tolerance ({@code KernelContractTest}),
 * so the switch changes no result beyond that tolerance. With one processor there is no core to warm on: the vector
 * kernels are used from the start.
 */
final class WarmingKernels implements LstmKernels {
    /** Rounds of warm-up calls at least, and the time after which the rounds slow down to one every 50 ms. */
    private static final int MIN_ROUNDS = 20;
    private static final long SLOW_AFTER_NANOS = 10_000_000_000L;
    /** Multiply-adds from which a product goes to the vector kernels even before they are compiled ({@link #k(int, int, int)}). */
    private static final long BIG_MACS = 1L << 25;
    private final LstmKernels vector, scalar;
    private volatile boolean warm;

    WarmingKernels(LstmKernels vector, LstmKernels scalar) {
        this.vector = vector;
        this.scalar = scalar;
        if (Runtime.getRuntime().availableProcessors() < 2) {
            warm = true;
        } else {
            Thread t = new Thread(this::warmUp, "lstm4j-kernel-warm-up");
            t.setDaemon(true);
            t.setPriority(Thread.MIN_PRIORITY);
            t.start();
        }
    }

    /** Whether calls go to the vector kernels yet. */
    boolean warm() {
        return warm;
    }

    @Override
    public boolean compiled() {
        return warm;
    }

    private LstmKernels k() {
        return warm ? vector : scalar;
    }

    /**
     * The kernels for a product of m·k·n multiply-adds: large ones go to the vector kernels from the start. Cold, both
     * are slow, and a large product gets their loops compiled sooner by running them (a cold W4 run, B=64: 3.9-4.2 s
     * on the scalar kernels first, 2.9 s on the vector ones); small ones (W3, batch 1: 1.2-1.5 s against 1.9-2.2) are
     * better on the scalar kernels until the warm-up thread has seen the vector ones compiled.
     */
    private LstmKernels k(int m, int k, int n) {
        return warm || (long) m * k * n >= BIG_MACS ? vector : scalar;
    }

    private void warmUp() {
        try {
            long start = System.nanoTime();
            SplittableRandom rnd = new SplittableRandom(1);
            int nr = vector.panelWidth(), unit = Math.max(1, nr / 2), k = 48, hidden = 4 * unit, n = 4 * hidden, rows = 9;
            float[] a = random(rnd, rows * 2 * k), bias = random(rnd, n);
            PackedMatrix one = vector.pack(random(rnd, n * k), n, k), two = vector.pack(random(rnd, n * 2 * k), n, 2 * k);
            float[] c = new float[rows * n], cs = new float[rows * hidden], h = new float[rows * hidden];
            // rounds of the same calls on each kernel, in turn, so that both see the same load: the vector kernels are
            // ready when a round of theirs is faster than the scalar round before it, twice in a row
            int faster = 0;
            for (int round = 0; ; round++) {
                long scalarNanos = round(scalar, a, bias, one, two, c, cs, h, k, n, rows, hidden, unit);
                long vectorNanos = round(vector, a, bias, one, two, c, cs, h, k, n, rows, hidden, unit);
                faster = vectorNanos < scalarNanos ? faster + 1 : 0;
                if (round >= MIN_ROUNDS && faster >= 2) {
                    break;
                }
                if (System.nanoTime() - start > SLOW_AFTER_NANOS) {
                    // still not compiled (a busy machine starves the JIT): never switch to uncompiled vector code, which
                    // is far slower than the scalar kernels; keep checking, a round every 50 ms
                    Thread.sleep(50);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;  // stays on the scalar kernels
        } catch (RuntimeException | Error e) {
            // a defect, which the kernel contract tests would show; the vector kernels are used from now on
            System.getLogger(WarmingKernels.class.getName()).log(System.Logger.Level.WARNING, "lstm4j: warming up the vector kernels failed", e);
        }
        warm = true;
    }

    /** Nanoseconds of 20 rounds of the fast path's kinds of calls on {@code k}. */
    private static long round(LstmKernels k, float[] a, float[] bias, PackedMatrix one, PackedMatrix two, float[] c, float[] cs, float[] h,
                              int depth, int n, int rows, int hidden, int unit) {
        long t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            boolean odd = (i & 1) == 1;
            k.gemm(a, 0, depth, 1, one, 0, one.panels(), bias, c, 0, n, false, odd);
            k.gemm(a, 0, depth, 1, one, 0, one.panels(), null, c, 0, n, true, !odd);
            k.gemm(a, 0, depth, rows, one, 0, one.panels(), bias, c, 0, n, false, odd);
            k.gemm(a, 0, depth, rows, one, 0, one.panels() / 2, null, c, 0, n, true, !odd);
            k.gemm2(a, 0, 2 * depth, depth, a, depth, 2 * depth, rows, two, bias, c, 0, n);
            k.gemm2(a, 0, 2 * depth, depth, a, depth, 2 * depth, 1, two, null, c, 0, n);
            k.gates(c, 0, hidden, unit, cs, 0, h, 0);
            k.gates(c, n, hidden, hidden, cs, hidden, h, hidden);
        }
        return System.nanoTime() - t0;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-1, 1);
        }
        return v;
    }

    @Override
    public String name() {
        return vector.name();
    }

    @Override
    public int panelWidth() {
        return vector.panelWidth();
    }

    @Override
    public void gemm(float[] a, int aOff, int lda, int m, PackedMatrix w, int panelFrom, int panelTo, float[] bias, float[] c, int cOff,
                     int ldc, boolean accumulate, boolean descending) {
        k(m, w.depth(), (panelTo - panelFrom) * w.panelWidth()).gemm(a, aOff, lda, m, w, panelFrom, panelTo, bias, c, cOff, ldc, accumulate, descending);
    }

    @Override
    public void gemm2(float[] a, int aOff, int lda, int k1, float[] a2, int a2Off, int lda2, int m, PackedMatrix w, float[] bias, float[] c,
                      int cOff, int ldc) {
        k(m, w.depth(), w.paddedOutputs()).gemm2(a, aOff, lda, k1, a2, a2Off, lda2, m, w, bias, c, cOff, ldc);
    }

    @Override
    public void gates(float[] z, int zOff, int hidden, int unit, float[] c, int cOff, float[] h, int hOff) {
        k().gates(z, zOff, hidden, unit, c, cOff, h, hOff);
    }

    @Override
    public PackedMatrix pack(float[] w, int n, int k) {
        return vector.pack(w, n, k);
    }

    @Override
    public PackedMatrix pack(PackedMatrix.RowSource rows, int n, int k) {
        return vector.pack(rows, n, k);
    }
}
