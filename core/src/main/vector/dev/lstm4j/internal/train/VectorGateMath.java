package dev.lstm4j.internal.train;

import dev.lstm4j.internal.kernel.ScalarKernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link GateMath} on the Vector API, loaded by name only when the vector kernels are in use. One pass per gate
 * block and one for the cell, each with at most one exp per lane, so that C2 inlines every vector helper (a
 * FloatVector passed to a method that is not inlined is boxed). exp is Cephes' expf, as in {@code VectorKernels}.
 */
final class VectorGateMath implements GateMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();

    @Override
    public void forward(float[] z, int zOff, int hidden, float[] c, int cOff, float[] tanhC, int tOff, float[] h, int hOff) {
        sigmoidInPlace(z, zOff, 2 * hidden);
        tanhInPlace(z, zOff + 2 * hidden, hidden);
        sigmoidInPlace(z, zOff + 3 * hidden, hidden);
        cellPass(z, zOff, hidden, c, cOff, tanhC, tOff, h, hOff);
    }

    /** c = f⊙c + i⊙g, tanh(c) and h = o⊙tanh(c) from the activations in z (its own method, so that tanh is inlined into it). */
    private static void cellPass(float[] z, int zOff, int hidden, float[] c, int cOff, float[] tanhC, int tOff, float[] h, int hOff) {
        int k = 0;
        for (; k + VL <= hidden; k += VL) {
            FloatVector i = FloatVector.fromArray(S, z, zOff + k);
            FloatVector f = FloatVector.fromArray(S, z, zOff + hidden + k);
            FloatVector g = FloatVector.fromArray(S, z, zOff + 2 * hidden + k);
            FloatVector o = FloatVector.fromArray(S, z, zOff + 3 * hidden + k);
            FloatVector cell = f.fma(FloatVector.fromArray(S, c, cOff + k), i.mul(g));
            cell.intoArray(c, cOff + k);
            FloatVector th = tanh(cell);
            th.intoArray(tanhC, tOff + k);
            o.mul(th).intoArray(h, hOff + k);
        }
        for (; k < hidden; k++) {
            float cell = z[zOff + hidden + k] * c[cOff + k] + z[zOff + k] * z[zOff + 2 * hidden + k];
            c[cOff + k] = cell;
            float th = ScalarKernels.tanh(cell);
            tanhC[tOff + k] = th;
            h[hOff + k] = z[zOff + 3 * hidden + k] * th;
        }
    }

    private static void sigmoidInPlace(float[] a, int off, int n) {
        int j = 0;
        for (; j + VL <= n; j += VL) {
            sigmoid(FloatVector.fromArray(S, a, off + j)).intoArray(a, off + j);
        }
        for (; j < n; j++) {
            a[off + j] = ScalarKernels.sigmoid(a[off + j]);
        }
    }

    private static void tanhInPlace(float[] a, int off, int n) {
        int j = 0;
        for (; j + VL <= n; j += VL) {
            tanh(FloatVector.fromArray(S, a, off + j)).intoArray(a, off + j);
        }
        for (; j < n; j++) {
            a[off + j] = ScalarKernels.tanh(a[off + j]);
        }
    }

    /** σ(z) = 1/(1+e^{-z}); e^{-z} is clamped finite, so σ(-∞) = tiny ≈ 0 and σ(+∞) = 1. */
    private static FloatVector sigmoid(FloatVector z) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        return one.div(one.add(exp(z.neg())));
    }

    /** e^x for x clamped to [-87, 88]: 2^n · e^r, n = round(x/ln2), e^r by Cephes' degree-6 polynomial. */
    private static FloatVector exp(FloatVector x) {
        x = x.max(-87f).min(88f);
        FloatVector t = x.fma(1.44269504088896341f, 12582912f);
        FloatVector n = t.sub(12582912f);
        FloatVector r = n.fma(FloatVector.broadcast(S, -0.693359375f), x);
        r = n.fma(FloatVector.broadcast(S, 2.12194440e-4f), r);
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f)
                .fma(r, FloatVector.broadcast(S, 8.3334519073e-3f))
                .fma(r, FloatVector.broadcast(S, 4.1665795894e-2f))
                .fma(r, FloatVector.broadcast(S, 1.6666665459e-1f))
                .fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        FloatVector pow2n = t.reinterpretAsInts().add(127 - 0x4B400000).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(pow2n);
    }

    /** tanh(x): 1 - 2/(e^{2|x|}+1) with x's sign for |x| ≥ 0.625, else Cephes' odd polynomial x + x³·P(x²). */
    private static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector big = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(a.add(a)).add(1f)));
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        FloatVector s = x.mul(x);
        FloatVector small = s.fma(-5.70498872745e-3f, 2.06390887954e-2f)
                .fma(s, FloatVector.broadcast(S, -5.37397155531e-2f))
                .fma(s, FloatVector.broadcast(S, 1.33314422036e-1f))
                .fma(s, FloatVector.broadcast(S, -3.33332819422e-1f))
                .mul(s).fma(x, x);
        return small.blend(big, a.compare(VectorOperators.GE, 0.625f));
    }
}
