package dev.lstm4j.reference;

import dev.lstm4j.CellWeights;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The readable LSTM: one method per equation of the reference card, chained over time one step at a time.
 * This is the specification every faster path is tested against.
 *
 * <p>Legend: B batch, T steps, I_l layer input, H hidden, P projection, Hh = P if projected else H,
 * L layers, D directions. Gate row blocks in PyTorch's order i, f, g, o.
 *
 * <p>Rounding: each equation is computed in double and its result rounded to the model's precision, so a
 * float32 model carries float32 values between equations, as PyTorch does. The pre-activation is
 * {@code (W_ih x + b_ih) + (W_hh h + b_hh)}, in that grouping, because PyTorch computes the two products
 * separately and adds them.
 */
public final class ReferenceLstm {
    /** Row block of each gate in PyTorch's weights: i, f, g, o. */
    public static final int I = 0, F = 1, G = 2, O = 3;

    private final LstmConfig config;
    private final Params[] params;
    private final Precision p;

    /** A cell's weights as flat arrays, read once. */
    public record Params(int inputSize, int hiddenSize, int hSize, double[] weightIh, double[] weightHh, double[] biasIh,
                         double[] biasHh, double[] weightHr, Precision precision) {
        static Params of(CellWeights w, Precision p) {
            return new Params(w.weightIh().size(1), w.weightIh().size(0) / 4, w.weightHh().size(1), w.weightIh().toDoubleArray(),
                    w.weightHh().toDoubleArray(), w.hasBias() ? w.biasIh().toDoubleArray() : null,
                    w.hasBias() ? w.biasHh().toDoubleArray() : null, w.hasProjection() ? w.weightHr().toDoubleArray() : null, p);
        }
    }

    public ReferenceLstm(LstmConfig config, List<CellWeights> cells, Precision precision) {
        this.config = config;
        this.p = precision;
        this.params = new Params[cells.size()];
        for (int k = 0; k < params.length; k++) {
            params[k] = Params.of(cells.get(k), precision);
        }
    }

    /** The prepared weights of one layer and direction. */
    public Params params(int layer, int direction) {
        return params[layer * config.directions() + direction];
    }

    // ---- the equations of the card ----

    /** σ(z) = 1 / (1 + e^{-z}), written so that e^{...} never overflows: σ(±1e4) is exactly 1 or 0. */
    public static double sigmoid(double z) {
        if (z >= 0) {
            return 1.0 / (1.0 + Math.exp(-z));
        }
        double e = Math.exp(z);
        return e / (1.0 + e);
    }

    /**
     * Pre-activation of one gate: {@code z = (W_i· x_t + b_i·) + (W_h· h_{t-1} + b_h·)}, using row block
     * {@code gate} (I, F, G or O) of the weights.
     */
    public static double[] preActivation(Params w, int gate, double[] x, double[] h) {
        Precision p = w.precision();
        int hs = w.hiddenSize();
        double[] z = new double[hs];
        for (int r = 0; r < hs; r++) {
            int row = gate * hs + r;
            double ih = dot(w.weightIh(), row * w.inputSize(), x);
            double hh = dot(w.weightHh(), row * w.hSize(), h);
            if (w.biasIh() != null) {
                ih = p.round(p.round(ih) + w.biasIh()[row]);
                hh = p.round(p.round(hh) + w.biasHh()[row]);
            }
            z[r] = p.round(p.round(ih) + p.round(hh));
        }
        return z;
    }

    /** Input gate, the article's "ignore": {@code i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)}. */
    public static Gate inputGate(Params w, double[] x, double[] h) {
        double[] z = preActivation(w, I, x, h);
        return new Gate(z, map(z, w.precision(), true));
    }

    /** Forget gate: {@code f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)}. */
    public static Gate forgetGate(Params w, double[] x, double[] h) {
        double[] z = preActivation(w, F, x, h);
        return new Gate(z, map(z, w.precision(), true));
    }

    /** Candidate, the article's "learn": {@code g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)}. */
    public static Gate candidate(Params w, double[] x, double[] h) {
        double[] z = preActivation(w, G, x, h);
        return new Gate(z, map(z, w.precision(), false));
    }

    /** Output gate: {@code o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)}. */
    public static Gate outputGate(Params w, double[] x, double[] h) {
        double[] z = preActivation(w, O, x, h);
        return new Gate(z, map(z, w.precision(), true));
    }

    /** What memory keeps: {@code f_t ⊙ c_{t-1}}. */
    public static double[] kept(double[] f, double[] cPrev, Precision p) {
        return hadamard(f, cPrev, p);
    }

    /** What memory is written: {@code i_t ⊙ g_t}. */
    public static double[] written(double[] i, double[] g, Precision p) {
        return hadamard(i, g, p);
    }

    /** Next cell state from its two terms: {@code c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t}. */
    public static double[] nextCell(double[] kept, double[] written, Precision p) {
        double[] c = new double[kept.length];
        for (int k = 0; k < c.length; k++) {
            c[k] = p.round(kept[k] + written[k]);
        }
        return c;
    }

    /** Next hidden state: {@code h_t = o_t ⊙ tanh(c_t)}, given tanh(c_t). */
    public static double[] nextHidden(double[] o, double[] tanhC, Precision p) {
        return hadamard(o, tanhC, p);
    }

    /** Projection ({@code proj_size > 0}): {@code h_t = W_hr h_t}, W_hr (P, H). */
    public static double[] project(Params w, double[] hidden) {
        int ps = w.hSize();
        double[] h = new double[ps];
        for (int r = 0; r < ps; r++) {
            h[r] = w.precision().round(dot(w.weightHr(), r * w.hiddenSize(), hidden));
        }
        return h;
    }

    /** One time step of one cell: the four gates, the new memory c and the new h. */
    public static StepValues step(Params w, double[] x, double[] hPrev, double[] cPrev) {
        Precision p = w.precision();
        // gates: what to write (i, g), what to forget (f), what to show (o)
        Gate i = inputGate(w, x, hPrev);
        Gate f = forgetGate(w, x, hPrev);
        Gate g = candidate(w, x, hPrev);
        Gate o = outputGate(w, x, hPrev);
        // cell state: long-term memory
        double[] kept = kept(f.activation(), cPrev, p);
        double[] written = written(i.activation(), g.activation(), p);
        double[] c = nextCell(kept, written, p);
        // hidden state: short-term memory
        double[] tanhC = map(c, p, false);
        double[] hidden = nextHidden(o.activation(), tanhC, p);
        double[] h = w.weightHr() == null ? hidden : project(w, hidden);
        return new StepValues(x, hPrev, cPrev, i, f, g, o, kept, written, c, tanhC, hidden, h);
    }

    // ---- chaining the steps over time, layers and directions ----

    public LstmOutput forward(Tensor x, Tensor h0, Tensor c0) {
        return forward(x, h0, c0, null);
    }

    public LstmOutput forwardPacked(Tensor x, Tensor h0, Tensor c0, int[] lengths) {
        return forward(x, h0, c0, lengths, null);
    }

    /**
     * The forward pass, reporting every step to {@code observer} when it is not null. Shapes as in
     * {@link #forward(Tensor, Tensor, Tensor)}.
     */
    public LstmOutput forward(Tensor x, Tensor h0, Tensor c0, StepObserver observer) {
        return forward(x, h0, c0, null, observer);
    }

    /**
     * The forward pass over sequences of different lengths, as PyTorch runs a packed sequence: row b uses
     * steps 0..lengths[b]-1 only. The forward direction stops after its last valid step, the reverse
     * direction starts there, h_n/c_n are each row's state at its own end, and padded outputs are 0.
     *
     * <p>Canonical shapes, already checked (use {@link dev.lstm4j.Lstm#forward} for checked, PyTorch-shaped input):
     * x {@code (B, T, I)}, h0 {@code (L*D, B, Hh)} and c0 {@code (L*D, B, H)} or null for zeros.
     *
     * @param lengths (B,), each in 1..T (checked by the caller), or null for all T
     */
    public LstmOutput forward(Tensor x, Tensor h0, Tensor c0, int[] lengths, StepObserver observer) {
        int batch = x.size(0), steps = x.size(1);
        int d = config.directions(), hh = config.outputHiddenSize(), hs = config.hiddenSize();
        int layersDirs = config.numLayers() * d;
        double[] xs = x.toDoubleArray();
        double[] h0s = h0 == null ? new double[layersDirs * batch * hh] : h0.toDoubleArray();
        double[] c0s = c0 == null ? new double[layersDirs * batch * hs] : c0.toDoubleArray();
        double[] hn = new double[layersDirs * batch * hh];
        double[] cn = new double[layersDirs * batch * hs];

        // layer input, per batch row and step: (B, T, I_l)
        List<double[][]> layerIn = new ArrayList<>();
        int inSize = config.inputSize();
        for (int b = 0; b < batch; b++) {
            double[][] seq = new double[steps][];
            for (int t = 0; t < steps; t++) {
                seq[t] = slice(xs, (b * steps + t) * inSize, inSize);
            }
            layerIn.add(seq);
        }
        for (int layer = 0; layer < config.numLayers(); layer++) {
            List<double[][]> layerOut = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                layerOut.add(new double[steps][d * hh]);
            }
            for (int dir = 0; dir < d; dir++) {
                Params w = params(layer, dir);
                int ld = layer * d + dir;
                for (int b = 0; b < batch; b++) {
                    double[] h = slice(h0s, (ld * batch + b) * hh, hh);
                    double[] c = slice(c0s, (ld * batch + b) * hs, hs);
                    // forward runs t = 0..len-1, reverse runs t = len-1..0; padded steps stay 0
                    int len = lengths == null ? steps : lengths[b];
                    for (int n = 0; n < len; n++) {
                        int t = dir == 0 ? n : len - 1 - n;
                        StepValues v = step(w, layerIn.get(b)[t], h, c);
                        if (observer != null) {
                            observer.onStep(layer, dir, b, t, v);
                        }
                        h = v.h();
                        c = v.c();
                        System.arraycopy(h, 0, layerOut.get(b)[t], dir * hh, hh);
                    }
                    System.arraycopy(h, 0, hn, (ld * batch + b) * hh, hh);
                    System.arraycopy(c, 0, cn, (ld * batch + b) * hs, hs);
                }
            }
            layerIn = layerOut;
        }
        int outSize = d * hh;
        double[] out = new double[batch * steps * outSize];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                System.arraycopy(layerIn.get(b)[t], 0, out, (b * steps + t) * outSize, outSize);
            }
        }
        return new LstmOutput(Tensor.of(p.dtype(), new int[] {batch, steps, outSize}, out),
                Tensor.of(p.dtype(), new int[] {layersDirs, batch, hh}, hn),
                Tensor.of(p.dtype(), new int[] {layersDirs, batch, hs}, cn));
    }

    // ---- small helpers ----

    private static double dot(double[] m, int offset, double[] v) {
        double acc = 0;
        for (int k = 0; k < v.length; k++) {
            acc += m[offset + k] * v[k];
        }
        return acc;
    }

    private static double[] hadamard(double[] a, double[] b, Precision p) {
        double[] r = new double[a.length];
        for (int k = 0; k < r.length; k++) {
            r[k] = p.round(a[k] * b[k]);
        }
        return r;
    }

    /** Element-wise σ (sigmoid true) or tanh, rounded. */
    private static double[] map(double[] z, Precision p, boolean sigmoid) {
        double[] r = new double[z.length];
        for (int k = 0; k < r.length; k++) {
            r[k] = p.round(sigmoid ? sigmoid(z[k]) : Math.tanh(z[k]));
        }
        return r;
    }

    private static double[] slice(double[] a, int from, int len) {
        double[] r = new double[len];
        System.arraycopy(a, from, r, 0, len);
        return r;
    }
}
