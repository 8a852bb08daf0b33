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
    /** A product of 2^25 multiply-adds or more goes to the vector kernels even before they are warm. */
    @Test
    void largeProductsGoToTheVectorKernelsWhileCold() {
        long seed = 0x5EED_7001L;
        System.out.println("WarmingKernelsTest seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        LstmKernels vector = Kernels.vector(), scalar = Kernels.scalar();
        WarmingKernels warming = new WarmingKernels(vector, scalar);
        int n = 256, k = 512, m = 256;  // 2^25 multiply-adds
        float[] w = new float[n * k], a = new float[m * k];
        for (float[] v : new float[][] {w, a}) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rnd.nextDouble(-1, 1);
            }
        }
        PackedMatrix p = warming.pack(w, n, k);
        int nPad = p.paddedOutputs();
        float[] viaVector = new float[m * nPad], viaScalar = new float[m * nPad], got = new float[m * nPad];
        vector.gemm(a, 0, k, m, p, null, viaVector, 0, nPad, false);
        scalar.gemm(a, 0, k, m, p, null, viaScalar, 0, nPad, false);
        assertTrue(!java.util.Arrays.equals(viaVector, viaScalar), "the two kernels should differ in some bit here, else this test shows nothing");
        boolean coldBefore = !warming.compiled();
        warming.gemm(a, 0, k, m, p, null, got, 0, nPad, false);
        boolean coldAfter = !warming.compiled();
        // the warm-up thread needs 20 rounds first, so the call is normally made cold; were it not, both routes are vector
        System.out.println("WarmingKernelsTest: large product called cold: " + (coldBefore && coldAfter));
        assertArrayEquals(viaVector, got, "a large product runs on the vector kernels from the first call");
    }
}
