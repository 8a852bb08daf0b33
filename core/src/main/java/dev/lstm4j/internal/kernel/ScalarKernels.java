package dev.lstm4j.internal.kernel;

/**
 * Plain-Java kernels: the fallback when the Vector API is absent, and the readable statement of what the
 * vector kernels compute. Inner loops run over one panel row, which the JIT can auto-vectorize.
 */
public final class ScalarKernels implements LstmKernels {
    private static final int NR = 16;

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int panelWidth() {
        return NR;
    }

    @Override
    public void gemm(float[] a, int aOff, int lda, int m, PackedMatrix w, int panelFrom, int panelTo, float[] bias, float[] c, int cOff,
                     int ldc, boolean accumulate, boolean descending) {
        int k = w.depth(), nr = w.panelWidth();
        float[] p = w.data();
        for (int i = panelFrom; i < panelTo; i++) {
            int panel = descending ? panelTo - 1 - (i - panelFrom) : i;
            int col = panel * nr;
            int pOff = panel * k * nr;
            for (int r = 0; r < m; r++) {
                int cr = cOff + r * ldc + col;
                if (!accumulate) {
                    for (int j = 0; j < nr; j++) {
                        c[cr + j] = bias == null ? 0f : bias[col + j];
                    }
                }
                int ar = aOff + r * lda;
                for (int kk = 0; kk < k; kk++) {
                    float av = a[ar + kk];
                    int po = pOff + kk * nr;
                    for (int j = 0; j < nr; j++) {
                        c[cr + j] += av * p[po + j];
                    }
                }
            }
        }
    }

    @Override
    public void gemm2(float[] a, int aOff, int lda, int k1, float[] a2, int a2Off, int lda2, int m, PackedMatrix w, float[] bias,
                      float[] c, int cOff, int ldc) {
        int k = w.depth(), nr = w.panelWidth();
        float[] p = w.data();
        for (int panel = 0; panel < w.panels(); panel++) {
            int col = panel * nr;
            int pOff = panel * k * nr;
            for (int r = 0; r < m; r++) {
                int cr = cOff + r * ldc + col;
                for (int j = 0; j < nr; j++) {
                    c[cr + j] = bias == null ? 0f : bias[col + j];
                }
                for (int kk = 0; kk < k; kk++) {
                    float av = kk < k1 ? a[aOff + r * lda + kk] : a2[a2Off + r * lda2 + kk - k1];
                    int po = pOff + kk * nr;
                    for (int j = 0; j < nr; j++) {
                        c[cr + j] += av * p[po + j];
                    }
                }
            }
        }
    }

    @Override
    public void gates(float[] z, int zOff, int hidden, int unit, float[] c, int cOff, float[] h, int hOff) {
        for (int u0 = 0; u0 < hidden; u0 += unit) {
            int uq = Math.min(unit, hidden - u0), q = zOff + 4 * u0;
            for (int j = 0; j < uq; j++) {
                float i = sigmoid(z[q + j]);
                float f = sigmoid(z[q + uq + j]);
                float g = tanh(0.5f * z[q + 2 * uq + j]);  // z_g' = 2·z_g; halving is exact
                float o = sigmoid(z[q + 3 * uq + j]);
                float cell = f * c[cOff + u0 + j] + i * g;
                c[cOff + u0 + j] = cell;
                h[hOff + u0 + j] = o * tanh(cell);
            }
        }
    }

    /**
     * tanh(x) to float precision from the intrinsic {@code Math.exp} ({@code Math.tanh} is fdlibm in Java, several
     * times slower): {@code 1 - 2/(e^{2|x|}+1)} with x's sign for |x| ≥ 0.625, else Cephes' {@code x + x³·P(x²)}.
     */
    public static float tanh(float x) {
        float a = Math.abs(x);
        if (a >= 0.625f) {
            float t = (float) (1.0 - 2.0 / (Math.exp(2.0 * a) + 1.0));
            return x < 0 ? -t : t;
        }
        double s = (double) x * x;
        return (float) (((((-5.70498872745e-3 * s + 2.06390887954e-2) * s - 5.37397155531e-2) * s + 1.33314422036e-1) * s
                - 3.33332819422e-1) * s * x + x);
    }

    /** σ(z) = 1 / (1 + e^{-z}); e^{-z} overflowing to ∞ gives exactly 0, as it should. */
    public static float sigmoid(float z) {
        return (float) (1.0 / (1.0 + Math.exp(-z)));
    }
}
