package dev.lstm4j.internal.kernel;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VectorMath's σ and tanh against Math's in double, in units in the last place of the float result: near 0 (where
 * tanh = E/(E+2) must keep its relative accuracy), across the range, at the saturation ends and for ±0, ±∞ and NaN.
 */
class VectorMathTest {
    /** Largest error allowed, in float ulps of the exact result. */
    private static final double MAX_ULPS = 3;

    @BeforeAll
    static void moduleIsThere() {
        assertTrue(Kernels.vectorModuleReadable(), "jdk.incubator.vector is not readable: surefire's argLine must pass "
                + "--add-modules jdk.incubator.vector");
    }

    private static float[] sweep(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[4096];
        for (int i = 0; i < x.length; i++) {
            // magnitudes from 1e-30 to 1e2 on a log scale, both signs, plus a dense band around 0.1..3
            double mag = i % 2 == 0 ? Math.pow(10, -30 + 32 * rnd.nextDouble()) : 3 * rnd.nextDouble();
            x[i] = (float) (rnd.nextBoolean() ? mag : -mag);
        }
        return x;
    }

    @Test
    void tanhIsWithinThreeUlpsEverywhere() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("VectorMathTest.tanhIsWithinThreeUlpsEverywhere seed " + seed);
        float[] x = sweep(seed);
        float[] y = new float[x.length], o = new float[x.length], ho = new float[x.length];
        VectorMath.tanh(x, 0, y, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            o[i] = 0.5f + i % 7 / 16f;
        }
        VectorMath.tanhTimes(x, 0, o, 0, ho, 0, x.length);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = Math.tanh(x[i]);
            double ulps = Math.abs(y[i] - exact) / Math.ulp((float) exact);
            worst = Math.max(worst, ulps);
            assertTrue(ulps <= MAX_ULPS, "tanh(" + x[i] + ") = " + y[i] + ", exact " + exact + ": " + ulps + " ulps (seed " + seed + ")");
            assertEquals(o[i] * y[i], ho[i], "o ⊙ tanh at " + i + " (seed " + seed + ")");
        }
        System.out.println("VectorMathTest: tanh worst " + worst + " ulps over " + x.length + " values");
    }

    @Test
    void sigmoidIsWithinThreeUlpsEverywhere() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("VectorMathTest.sigmoidIsWithinThreeUlpsEverywhere seed " + seed);
        float[] x = sweep(seed);
        float[] y = x.clone();
        VectorMath.sigmoidInPlace(y, 0, y.length);
        for (int i = 0; i < x.length; i++) {
            double exact = 1 / (1 + Math.exp(-x[i]));
            if (x[i] < -87) {  // e^{-x} is clamped to e^87 there: σ = 1.6e-38 for anything lower, documented as ≈ 0
                assertTrue(y[i] >= 0 && y[i] < 2e-38, "σ(" + x[i] + ") = " + y[i] + " (seed " + seed + ")");
                continue;
            }
            double ulps = Math.abs(y[i] - exact) / Math.ulp((float) exact);
            assertTrue(ulps <= MAX_ULPS, "σ(" + x[i] + ") = " + y[i] + ", exact " + exact + ": " + ulps + " ulps (seed " + seed + ")");
        }
    }

    @Test
    void specialValues() {
        // a whole vector of each, so the vector loop (not the scalar tail) computes them
        float[] cases = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e-40f, -1e-40f, 100f, -100f};
        float[][] want = {{0f, 0.5f}, {-0f, 0.5f}, {1f, 1f}, {-1f, 0f}, {Float.NaN, Float.NaN}, {1e-40f, 0.5f}, {-1e-40f, 0.5f},
                {1f, 1f}, {-1f, 0f}};
        int n = 64;
        for (int c = 0; c < cases.length; c++) {
            float[] x = new float[n], t = new float[n], s = new float[n];
            java.util.Arrays.fill(x, cases[c]);
            VectorMath.tanh(x, 0, t, 0, n);
            System.arraycopy(x, 0, s, 0, n);
            VectorMath.sigmoidInPlace(s, 0, n);
            for (int i = 0; i < n; i++) {
                assertEquals(want[c][0], t[i], "tanh(" + cases[c] + ") at " + i);
                assertEquals(want[c][1], s[i], 1e-30f, "σ(" + cases[c] + ") at " + i);
            }
        }
    }
}
