package dev.lstm4j.internal.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * σ and tanh over arrays on the Vector API, for the inference kernels and the training path alike. The JDK 17 lanewise
 * EXP and TANH were not compiled to SIMD code here (~5 ns per lane), so they are written out: Cephes' expf and tanhf,
 * about 1-2 ulp.
 *
 * <p>Every operation's receiver, and every stored vector, is a broadcast or made by operations on one; loaded and
 * reinterpreted vectors are only ever operands. C2 knows a loaded or reinterpreted vector's class only from the
 * profile, and once the shared Vector API methods had trapped often enough it kept slow paths there: the species was
 * no longer a constant, and stores were not intrinsified. On an AVX-512 machine, a many-key step spent 11% of its time
 * storing tanh through Java code that boxed every vector ({@code FloatVector.stOp}).
 *
 * <p>Every method takes and returns arrays only, and each loop holds its whole formula, exp included. With the formulas
 * in small vector methods, the loops relied on C2 inlining them; when one had been compiled on its own first (its code
 * then too big to inline), its FloatVector arguments and results were boxed on every call, for as long as the JVM ran:
 * the full test suite caught a warm forward step allocating 9-18 KB per call, depending on the order the JIT had met
 * the methods in.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    // exp(x) = 2^n · e^r, n = round(x/ln2), r = x - n·ln2 (ln2 in two parts, for exactness), e^r by Cephes' degree-6
    // polynomial; adding 1.5·2²³ rounds x/ln2 to an integer whose bits sit in the low mantissa, so 2^n is built from
    // them without a float-to-int conversion. x is clamped to [-87, 88] first.
    private static final float LOG2E = 1.44269504088896341f, ROUND = 12582912f, LN2_HI = -0.693359375f, LN2_LO = 2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    private static final int SIGN = 0x80000000, ONE_BITS = Float.floatToRawIntBits(1f);

    private VectorMath() {
    }

    /**
     * a[off..off+n) = σ(a) = 1/(1+e^{-a}); e^{-a} is clamped finite, so σ(-∞) = tiny ≈ 0 and σ(+∞) = 1, NaN stays NaN.
     */
    public static void sigmoidInPlace(float[] a, int off, int n) {
        int j = 0;
        FloatVector one = FloatVector.broadcast(S, 1f), negZero = FloatVector.broadcast(S, -0f);
        IntVector bias = IntVector.broadcast(IS, 127 - 0x4B400000);
        for (int vEnd = n & -VL; j < vEnd; j += VL) {
            FloatVector x = negZero.sub(FloatVector.fromArray(S, a, off + j)).max(-87f).min(88f);  // -0 - a = -a exactly
            FloatVector t = x.fma(LOG2E, ROUND);
            FloatVector m = t.sub(ROUND);
            FloatVector r = m.fma(FloatVector.broadcast(S, LN2_HI), x);
            r = m.fma(FloatVector.broadcast(S, LN2_LO), r);
            FloatVector p = r.fma(P0, P1).fma(r, FloatVector.broadcast(S, P2)).fma(r, FloatVector.broadcast(S, P3))
                    .fma(r, FloatVector.broadcast(S, P4)).fma(r, FloatVector.broadcast(S, P5));
            FloatVector e = p.fma(r.mul(r), r).add(one)
                    .mul(bias.add(t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            one.div(one.add(e)).intoArray(a, off + j);
        }
        for (; j < n; j++) {
            a[off + j] = ScalarKernels.sigmoid(a[off + j]);
        }
    }

    /**
     * dst[dOff..dOff+n) = tanh(src[sOff..sOff+n)) (src and dst may be the same range), as {@link #tanhTimes} computes it.
     */
    public static void tanh(float[] src, int sOff, float[] dst, int dOff, int n) {
        tanhTimes(src, sOff, null, 0, dst, dOff, n);
    }

    /**
     * The output gate's h = o ⊙ tanh(c): dst[dOff..dOff+n) = o[oOff..] ⊙ tanh(src[sOff..]), or tanh alone when o is
     * null (dst may be src's or o's range). tanh|x| = E/(E+2) with E = e^{2|x|} − 1 = 2^n·q − (1 − 2^n), where
     * e^r = 1 + q is expf's polynomial (so E keeps its relative accuracy near 0, where E ≈ q ≈ 2|x|), times x's
     * sign (±1, exact).
     */
    public static void tanhTimes(float[] src, int sOff, float[] o, int oOff, float[] dst, int dOff, int n) {
        int j = 0;
        FloatVector one = FloatVector.broadcast(S, 1f), negZero = FloatVector.broadcast(S, -0f);
        IntVector signBit = IntVector.broadcast(IS, SIGN), oneBits = IntVector.broadcast(IS, ONE_BITS), bias = IntVector.broadcast(IS, 127 - 0x4B400000);
        for (int vEnd = n & -VL; j < vEnd; j += VL) {
            FloatVector v = negZero.add(FloatVector.fromArray(S, src, sOff + j));  // -0 + y = y exactly
            FloatVector abs = v.abs();
            FloatVector x = abs.add(abs).min(88f);
            FloatVector t = x.fma(LOG2E, ROUND);
            FloatVector m = t.sub(ROUND);
            FloatVector r = m.fma(FloatVector.broadcast(S, LN2_HI), x);
            r = m.fma(FloatVector.broadcast(S, LN2_LO), r);
            FloatVector q = r.fma(P0, P1).fma(r, FloatVector.broadcast(S, P2)).fma(r, FloatVector.broadcast(S, P3))
                    .fma(r, FloatVector.broadcast(S, P4)).fma(r, FloatVector.broadcast(S, P5)).fma(r.mul(r), r);
            FloatVector pow2 = bias.add(t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = q.mul(pow2).sub(one.sub(pow2));
            FloatVector th = e.div(e.add(2f)).mul(signBit.and(v.reinterpretAsInts()).or(oneBits).reinterpretAsFloats());
            if (o != null) {
                th = th.mul(FloatVector.fromArray(S, o, oOff + j));
            }
            th.intoArray(dst, dOff + j);
        }
        for (; j < n; j++) {
            float th = ScalarKernels.tanh(src[sOff + j]);
            dst[dOff + j] = o == null ? th : th * o[oOff + j];
        }
    }
}
