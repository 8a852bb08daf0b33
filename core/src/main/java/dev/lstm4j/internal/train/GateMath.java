package dev.lstm4j.internal.train;

import dev.lstm4j.internal.kernel.Kernels;
import dev.lstm4j.internal.kernel.LstmKernels;
import dev.lstm4j.internal.kernel.ScalarKernels;

/**
 * The training forward's element-wise step for one batch row, keeping the gate activations that the backward needs
 * (the inference kernels' {@link LstmKernels#gates} may leave the pre-activations in place). Over the {@code 4·hidden}
 * pre-activations at {@code zOff}, in PyTorch's [i | f | g | o] blocks:
 * <pre>
 * i = σ(z_i)  f = σ(z_f)  g = tanh(z_g)  o = σ(z_o)      (written over z)
 * c_t = f ⊙ c_{t-1} + i ⊙ g                              (c updated in place at cOff)
 * h_t = o ⊙ tanh(c_t)                                     (tanh(c_t) written at tOff, h_t at hOff)
 * </pre>
 * {@link #scalar()} is plain Java; {@code VectorGateMath} (src/main/vector) is used when the fast path's kernels are
 * the Vector API ones. Both give {@link ScalarKernels#sigmoid} and {@link ScalarKernels#tanh} within a few ulp,
 * proven by {@code GateMathTest}.
 */
interface GateMath {
    void forward(float[] z, int zOff, int hidden, float[] c, int cOff, float[] tanhC, int tOff, float[] h, int hOff);

    /** The implementation that goes with {@link Kernels#get()}. */
    static GateMath get() {
        return Holder.INSTANCE;
    }

    static GateMath scalar() {
        return (z, zOff, hidden, c, cOff, tanhC, tOff, h, hOff) -> {
            for (int k = 0; k < hidden; k++) {
                float i = ScalarKernels.sigmoid(z[zOff + k]);
                float f = ScalarKernels.sigmoid(z[zOff + hidden + k]);
                float g = ScalarKernels.tanh(z[zOff + 2 * hidden + k]);
                float o = ScalarKernels.sigmoid(z[zOff + 3 * hidden + k]);
                z[zOff + k] = i;
                z[zOff + hidden + k] = f;
                z[zOff + 2 * hidden + k] = g;
                z[zOff + 3 * hidden + k] = o;
                float cell = f * c[cOff + k] + i * g;
                c[cOff + k] = cell;
                float th = ScalarKernels.tanh(cell);
                tanhC[tOff + k] = th;
                h[hOff + k] = o * th;
            }
        };
    }

    /** The Vector API implementation, or null when it cannot be loaded (then the caller uses {@link #scalar()}). */
    static GateMath vector() {
        try {
            return (GateMath) Class.forName("dev.lstm4j.internal.train.VectorGateMath").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    final class Holder {
        static final GateMath INSTANCE = choose(Kernels.get());

        private Holder() {
        }

        // the vector gate math only where the vector kernels were chosen, so -Dlstm4j.kernels=scalar runs all-scalar
        static GateMath choose(LstmKernels k) {
            GateMath v = k.name().startsWith("vector") ? vector() : null;
            return v != null ? v : scalar();
        }
    }
}
