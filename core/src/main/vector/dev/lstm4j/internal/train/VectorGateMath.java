package dev.lstm4j.internal.train;

import dev.lstm4j.internal.kernel.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link GateMath} on the Vector API, loaded by name only when the vector kernels are in use: a pass per gate block
 * and passes for the cell, σ and tanh from {@link VectorMath} (arrays in, arrays out: no FloatVector crosses a call,
 * where it would be boxed if C2 did not inline the callee).
 */
final class VectorGateMath implements GateMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();

    @Override
    public void forward(float[] z, int zOff, int hidden, float[] c, int cOff, float[] tanhC, int tOff, float[] h, int hOff) {
        VectorMath.sigmoidInPlace(z, zOff, 2 * hidden);
        VectorMath.tanh(z, zOff + 2 * hidden, z, zOff + 2 * hidden, hidden);
        VectorMath.sigmoidInPlace(z, zOff + 3 * hidden, hidden);
        cellPass(z, zOff, hidden, c, cOff, tanhC, tOff, h, hOff);
    }

    /** c = f⊙c + i⊙g, tanh(c) and h = o⊙tanh(c) from the activations in z. */
    private static void cellPass(float[] z, int zOff, int hidden, float[] c, int cOff, float[] tanhC, int tOff, float[] h, int hOff) {
        int k = 0;
        // every receiver is a broadcast or made from one, loaded vectors only operands (VectorMath says why); -0 + y = y
        FloatVector negZero = FloatVector.broadcast(S, -0f);
        for (int vEnd = hidden & -VL; k < vEnd; k += VL) {
            FloatVector f = negZero.add(FloatVector.fromArray(S, z, zOff + hidden + k));
            FloatVector ig = negZero.add(FloatVector.fromArray(S, z, zOff + 2 * hidden + k)).mul(FloatVector.fromArray(S, z, zOff + k));
            f.fma(FloatVector.fromArray(S, c, cOff + k), ig).intoArray(c, cOff + k);
        }
        for (; k < hidden; k++) {
            c[cOff + k] = z[zOff + hidden + k] * c[cOff + k] + z[zOff + k] * z[zOff + 2 * hidden + k];
        }
        VectorMath.tanh(c, cOff, tanhC, tOff, hidden);
        k = 0;
        for (int vEnd = hidden & -VL; k < vEnd; k += VL) {
            negZero.add(FloatVector.fromArray(S, tanhC, tOff + k)).mul(FloatVector.fromArray(S, z, zOff + 3 * hidden + k)).intoArray(h, hOff + k);
        }
        for (; k < hidden; k++) {
            h[hOff + k] = z[zOff + 3 * hidden + k] * tanhC[tOff + k];
        }
    }
}
