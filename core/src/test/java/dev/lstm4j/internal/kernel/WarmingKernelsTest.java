package dev.lstm4j.internal.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default vector kernels compute on the scalar ones until warm, then on the vector ones, over the same packing. */
class WarmingKernelsTest {
    @Test
    void scalarUntilWarmThenVector() throws InterruptedException {
        long seed = 0x5EED_7000L;
        System.out.println("WarmingKernelsTest seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        LstmKernels vector = Kernels.vector(), scalar = Kernels.scalar();
        WarmingKernels warming = new WarmingKernels(vector, scalar);
        int n = 4 * vector.panelWidth() + 3, k = 37, m = 5;
        float[] w = new float[n * k], a = new float[m * k], bias = new float[n + vector.panelWidth()];
        for (float[] v : new float[][] {w, a, bias}) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rnd.nextDouble(-1, 1);
            }
        }
        PackedMatrix p = warming.pack(w, n, k);
        int nPad = p.paddedOutputs();
        float[] viaScalar = new float[m * nPad], viaVector = new float[m * nPad], got = new float[m * nPad];
        scalar.gemm(a, 0, k, m, p, bias, viaScalar, 0, nPad, false);
        vector.gemm(a, 0, k, m, p, bias, viaVector, 0, nPad, false);
        boolean sawCold = false;
        long until = System.nanoTime() + 120_000_000_000L;
        while (!warming.warm() && System.nanoTime() < until) {
            warming.gemm(a, 0, k, m, p, bias, got, 0, nPad, false);
            if (!warming.warm()) {
                assertArrayEquals(viaScalar, got, "before the vector kernels are warm, the scalar ones compute");
                sawCold = true;
            }
            Thread.sleep(1);
        }
        assertTrue(warming.warm(), "the vector kernels were not faster than the scalar ones within 120 s");
        warming.gemm(a, 0, k, m, p, bias, got, 0, nPad, false);
        assertArrayEquals(viaVector, got, "once warm, the vector kernels compute");
        assertTrue(sawCold, "the first calls should have run on the scalar kernels (the warm-up takes at least 20 rounds)");
    }
}
