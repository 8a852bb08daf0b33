package dev.lstm4j.internal.train;

import dev.lstm4j.internal.kernel.Kernels;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The vector gate math against the scalar one, at sizes that hit the vector tails, over pre-activations from −30 to 30
 * (both saturations): every activation, c, tanh(c) and h within 4e-7 absolute (a few ulp of values below 1).
 */
class GateMathTest {
    static final int[] SIZES = {1, 3, 7, 8, 9, 15, 16, 17, 33, 257};

    @Test
    void vectorMatchesScalar() {
        assertTrue(Kernels.vectorModuleReadable(), "the tests run with --add-modules jdk.incubator.vector");
        GateMath v = GateMath.vector();
        assertNotNull(v, "VectorGateMath did not load");
        GateMath s = GateMath.scalar();
        long seed = 0x6a7e5L;
        System.out.println("gate math: seed " + seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (int hidden : SIZES) {
            for (int rep = 0; rep < 20; rep++) {
                float[] z = new float[3 + 4 * hidden], c = new float[2 + hidden];
                double scale = rep % 2 == 0 ? 4 : 30;
                for (int k = 0; k < z.length; k++) {
                    z[k] = (float) r.nextDouble(-scale, scale);
                }
                for (int k = 0; k < c.length; k++) {
                    c[k] = (float) r.nextDouble(-3, 3);
                }
                float[] zs = z.clone(), cs = c.clone(), ts = new float[hidden + 1], hs = new float[hidden + 5];
                float[] zv = z.clone(), cv = c.clone(), tv = new float[hidden + 1], hv = new float[hidden + 5];
                s.forward(zs, 3, hidden, cs, 2, ts, 1, hs, 5);
                v.forward(zv, 3, hidden, cv, 2, tv, 1, hv, 5);
                String label = "hidden " + hidden + " rep " + rep;
                check(label + " gates", zs, zv);
                check(label + " c", cs, cv);
                check(label + " tanh(c)", ts, tv);
                check(label + " h", hs, hv);
            }
        }
    }

    /** The check can fail: a value one part in 10⁵ off is caught. */
    @Test
    void aSmallErrorIsCaught() {
        float[] a = {0.5f, 0.25f}, b = {0.5f, 0.25f * (1 + 1e-5f)};
        try {
            check("planted", a, b);
        } catch (AssertionError e) {
            return;
        }
        fail("check missed a 1e-5 relative error");
    }

    static void check(String label, float[] expected, float[] actual) {
        for (int k = 0; k < expected.length; k++) {
            double diff = Math.abs(expected[k] - actual[k]);
            if (!(diff <= 4e-7 * Math.max(1, Math.abs(expected[k])))) {
                fail(label + "[" + k + "]: scalar " + expected[k] + ", vector " + actual[k] + " (diff " + diff + ")");
            }
        }
    }
}
