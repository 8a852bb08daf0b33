package dev.lstm4j.internal.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * σ and tanh over arrays on the Vector API, for the inference kernels and the training path alike. The JDK 17 lanewise
 * EXP and TANH were not compiled to SIMD code here (~5 ns per lane), so they are written out: Cephes' expf and tanhf,
 * about 1-2 ulp.
 *
 * <p>Every method takes and returns arrays only, and each loop holds its whole formula, exp included. With the formulas
 * in small vector methods, the loops relied on C2 inlining them; when one had been compiled on its own first (its code
 * then too big to inline), its FloatVector arguments and results were boxed on every call, for as long as the JVM ran:
 * the full test suite caught a warm forward step allocating 9-18 KB per call, depending on the order the JIT had met
 * the methods in.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    // exp(x) = 2^n · e^r, n = round(x/ln2), r = x - n·ln2 (ln2 in two parts, for exactness), e^r by Cephes' degree-6
    // polynomial; adding 1.5·2²³ rounds x/ln2 to an integer whose bits sit in the low mantissa, so 2^n is built from
    // them without a float-to-int conversion. x is clamped to [-87, 88] first.
    private static final float LOG2E = 1.44269504088896341f, ROUND = 12582912f, LN2_HI = -0.693359375f, LN2_LO = 2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    // tanh for |x| < 0.625: x + x³·P(x²)
    private static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f, T3 = 1.33314422036e-1f,
            T4 = -3.33332819422e-1f;

    private VectorMath() {
    }

    /**
     * a[off..off+n) = σ(a) = 1/(1+e^{-a}); e^{-a} is clamped finite, so σ(-∞) = tiny ≈ 0 and σ(+∞) = 1, NaN stays NaN.
     */
    public static void sigmoidInPlace(float[] a, int off, int n) {
        int j = 0;
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int vEnd = n & -VL; j < vEnd; j += VL) {
            FloatVector x = FloatVector.fromArray(S, a, off + j).neg().max(-87f).min(88f);
            FloatVector t = x.fma(LOG2E, ROUND);
            FloatVector m = t.sub(ROUND);
            FloatVector r = m.fma(FloatVector.broadcast(S, LN2_HI), x);
            r = m.fma(FloatVector.broadcast(S, LN2_LO), r);
            FloatVector p = r.fma(P0, P1).fma(r, FloatVector.broadcast(S, P2)).fma(r, FloatVector.broadcast(S, P3))
                    .fma(r, FloatVector.broadcast(S, P4)).fma(r, FloatVector.broadcast(S, P5));
            FloatVector e = p.fma(r.mul(r), r).add(1f)
                    .mul(t.reinterpretAsInts().add(127 - 0x4B400000).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            one.div(one.add(e)).intoArray(a, off + j);
        }
        for (; j < n; j++) {
            a[off + j] = ScalarKernels.sigmoid(a[off + j]);
        }
    }

    /**
     * dst[dOff..dOff+n) = tanh(src[sOff..sOff+n)) (src and dst may be the same range): 1 - 2/(e^{2|x|}+1) with x's
     * sign for |x| ≥ 0.625, else Cephes' odd polynomial x + x³·P(x²).
     */
    public static void tanh(float[] src, int sOff, float[] dst, int dOff, int n) {
        int j = 0;
        FloatVector one = FloatVector.broadcast(S, 1f), two = FloatVector.broadcast(S, 2f);
        for (int vEnd = n & -VL; j < vEnd; j += VL) {
            FloatVector v = FloatVector.fromArray(S, src, sOff + j);
            FloatVector abs = v.abs();
            FloatVector x = abs.add(abs).max(-87f).min(88f);
            FloatVector t = x.fma(LOG2E, ROUND);
            FloatVector m = t.sub(ROUND);
            FloatVector r = m.fma(FloatVector.broadcast(S, LN2_HI), x);
            r = m.fma(FloatVector.broadcast(S, LN2_LO), r);
            FloatVector p = r.fma(P0, P1).fma(r, FloatVector.broadcast(S, P2)).fma(r, FloatVector.broadcast(S, P3))
                    .fma(r, FloatVector.broadcast(S, P4)).fma(r, FloatVector.broadcast(S, P5));
            FloatVector e = p.fma(r.mul(r), r).add(1f)
                    .mul(t.reinterpretAsInts().add(127 - 0x4B400000).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            FloatVector big = one.sub(two.div(e.add(1f)));
            big = big.blend(big.neg(), v.compare(VectorOperators.LT, 0f));
            FloatVector s = v.mul(v);
            FloatVector small = s.fma(T0, T1).fma(s, FloatVector.broadcast(S, T2)).fma(s, FloatVector.broadcast(S, T3))
                    .fma(s, FloatVector.broadcast(S, T4)).mul(s).fma(v, v);
            small.blend(big, abs.compare(VectorOperators.GE, 0.625f)).intoArray(dst, dOff + j);
        }
        for (; j < n; j++) {
            dst[dOff + j] = ScalarKernels.tanh(src[sOff + j]);
        }
    }
}
