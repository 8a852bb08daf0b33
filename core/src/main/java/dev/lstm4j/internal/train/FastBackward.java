package dev.lstm4j.internal.train;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.internal.kernel.Kernels;
import dev.lstm4j.internal.kernel.LstmKernels;
import dev.lstm4j.internal.kernel.PackedMatrix;

/**
 * The training forward and backward in float32, batched: the same result as
 * {@link dev.lstm4j.reference.ReferenceBackward#forward} and {@link dev.lstm4j.reference.ReferenceBackward#backward}
 * for a float32 model, within the bound {@code FastBackwardContractTest} states (the reference sums in double, this
 * path in float32). Every step is computed for the whole batch at once: each weight row is read once per step and
 * applied to every row of the batch, and the backward's weight gradients are accumulated per step as outer products
 * over the batch.
 *
 * <p>Gradients {@code dX} accumulate ({@code +=}), as in the reference.
 *
 * <p>Legend: B batch, T steps, I_l layer input, H hidden, P projection, Hh = P if projected else H, L layers,
 * D directions. Gate row blocks i, f, g, o. Per-step arrays are laid out (T, B, ·).
 */
public final class FastBackward {
    private FastBackward() {
    }

    /** One layer and direction's weights as float32 arrays (PyTorch layout); biases and weightHr may be null. */
    public record Cell(float[] weightIh, float[] weightHh, float[] biasIh, float[] biasHh, float[] weightHr) {
    }

    /** One layer and direction's gradients (float32, PyTorch layout); null where the weight is absent. */
    public record Grads(float[] dWeightIh, float[] dWeightHh, float[] dBiasIh, float[] dBiasHh, float[] dWeightHr) {
        public static Grads zerosLike(Cell c) {
            return new Grads(new float[c.weightIh().length], new float[c.weightHh().length], c.biasIh() == null ? null : new float[c.biasIh().length],
                    c.biasHh() == null ? null : new float[c.biasHh().length], c.weightHr() == null ? null : new float[c.weightHr().length]);
        }
    }

    /**
     * What one layer and direction kept: gate activations, c and tanh(c) (and the hidden state before projection) per
     * step, (T, B, ·); the state each step started from, (B, T, ·) so that its rows line up with the layer input's.
     */
    private record CellTape(float[] gates, float[] c, float[] tanhC, float[] hidden, float[] hPrev, float[] cPrev) {
    }

    /** The forward's record. inputs[layer] is (B, T, I_l); output (B, T, D*Hh); hN, cN as PyTorch's. */
    public record Tape(LstmConfig config, Cell[] cells, int batch, int steps, int[] lengths, float[][] inputs, float[][] masks,
                       CellTape[] tapes, float[] output, float[] hN, float[] cN) {
    }

    /** {@code C (m, n) = bias + A (m, k) · Wᵀ} with W (n, k) row-major, on the fast path's kernels; bias may be null. */
    private static float[] matmul(float[] a, int m, int k, float[] w, int n, float[] bias) {
        LstmKernels kern = Kernels.get();
        PackedMatrix pw = kern.pack(w, n, k);
        return matmul(kern, a, m, pw, n, bias);
    }

    private static float[] matmul(LstmKernels kern, float[] a, int m, PackedMatrix pw, int n, float[] bias) {
        int nPad = pw.paddedOutputs(), k = pw.depth();
        float[] b = null;
        if (bias != null) {
            b = java.util.Arrays.copyOf(bias, nPad);
        }
        float[] c = new float[Math.max(1, m) * nPad];
        kern.gemm(a, 0, k, m, pw, b, c, 0, nPad, false);
        if (nPad == n) {
            return c;
        }
        float[] r = new float[m * n];
        for (int i = 0; i < m; i++) {
            System.arraycopy(c, i * nPad, r, i * n, n);
        }
        return r;
    }

    private static boolean active(int[] lengths, int b, int t) {
        return lengths == null || t < lengths[b];
    }

    private static float sigmoid(float z) {
        return (float) (z >= 0 ? 1.0 / (1.0 + Math.exp(-z)) : Math.exp(z) / (1.0 + Math.exp(z)));
    }

    /** The (cols, rows) transpose of a (rows, cols) matrix. */
    private static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    /** to += from, element-wise. */
    private static void addInto(float[] from, float[] to) {
        for (int k = 0; k < from.length; k++) {
            to[k] += from[k];
        }
    }

    /** y[yo..] += s · x[xo..] over n entries. */
    private static void axpy(float s, float[] x, int xo, float[] y, int yo, int n) {
        for (int k = 0; k < n; k++) {
            y[yo + k] += s * x[xo + k];
        }
    }

    /**
     * The forward pass; shapes as {@link dev.lstm4j.reference.ReferenceBackward#forward}.
     *
     * @param masks per layer below the last, (B, T, D*Hh), or null
     */
    public static Tape forward(LstmConfig config, Cell[] cells, int batch, int steps, float[] x, float[] h0, float[] c0, int[] lengths,
                               float[][] masks) {
        int d = config.directions(), hh = config.outputHiddenSize(), hs = config.hiddenSize(), layers = config.numLayers();
        int outSize = d * hh, g4 = 4 * hs;
        float[] hn = new float[layers * d * batch * hh];
        float[] cn = new float[layers * d * batch * hs];
        float[][] inputs = new float[layers][];
        CellTape[] tapes = new CellTape[layers * d];
        float[] in = x;
        float[] out = null;
        for (int layer = 0; layer < layers; layer++) {
            int inSize = config.layerInputSize(layer);
            inputs[layer] = in;
            out = new float[batch * steps * outSize];
            for (int dir = 0; dir < d; dir++) {
                int ld = layer * d + dir;
                Cell w = cells[ld];
                float[] gates = new float[steps * batch * g4], cs = new float[steps * batch * hs], tc = new float[steps * batch * hs];
                float[] hid = w.weightHr() == null ? null : new float[steps * batch * hs];
                float[] hPrevAll = new float[steps * batch * hh], cPrevAll = new float[steps * batch * hs];
                float[] h = new float[batch * hh], c = new float[batch * hs];
                if (h0 != null) {
                    System.arraycopy(h0, ld * batch * hh, h, 0, batch * hh);
                    System.arraycopy(c0, ld * batch * hs, c, 0, batch * hs);
                }
                LstmKernels kern = Kernels.get();
                // input projections of all steps as one product: zx (B*T, 4H) = x W_ihᵀ + b_ih
                float[] zx = matmul(kern, in, batch * steps, kern.pack(w.weightIh(), g4, inSize), g4, w.biasIh());
                PackedMatrix whh = kern.pack(w.weightHh(), g4, hh);
                PackedMatrix whr = w.weightHr() == null ? null : kern.pack(w.weightHr(), hh, hs);
                float[] z = new float[batch * g4];
                float[] hidStep = new float[batch * hs];
                for (int n = 0; n < steps; n++) {
                    int t = dir == 0 ? n : steps - 1 - n;
                    // recurrent product for the whole batch: zh (B, 4H) = h W_hhᵀ + b_hh; z = zx_t + zh
                    float[] zh = matmul(kern, h, batch, whh, g4, w.biasHh());
                    for (int b = 0; b < batch; b++) {
                        int zo = b * g4, xo = (b * steps + t) * g4;
                        for (int r = 0; r < g4; r++) {
                            z[zo + r] = zx[xo + r] + zh[zo + r];
                        }
                    }
                    // gates, cell and hidden state per row
                    for (int b = 0; b < batch; b++) {
                        if (!active(lengths, b, t)) {
                            continue;
                        }
                        int tb = t * batch + b;
                        int bt = b * steps + t;
                        System.arraycopy(h, b * hh, hPrevAll, bt * hh, hh);
                        System.arraycopy(c, b * hs, cPrevAll, bt * hs, hs);
                        int go = tb * g4;
                        for (int k = 0; k < hs; k++) {
                            float ig = sigmoid(z[b * g4 + k]);
                            float fg = sigmoid(z[b * g4 + hs + k]);
                            float gg = (float) Math.tanh(z[b * g4 + 2 * hs + k]);
                            float og = sigmoid(z[b * g4 + 3 * hs + k]);
                            gates[go + k] = ig;
                            gates[go + hs + k] = fg;
                            gates[go + 2 * hs + k] = gg;
                            gates[go + 3 * hs + k] = og;
                            float cNew = fg * c[b * hs + k] + ig * gg;
                            c[b * hs + k] = cNew;
                            cs[tb * hs + k] = cNew;
                            float th = (float) Math.tanh(cNew);
                            tc[tb * hs + k] = th;
                            float hv = og * th;
                            if (hid != null) {
                                hid[(b * steps + t) * hs + k] = hv;
                                hidStep[b * hs + k] = hv;
                            } else {
                                h[b * hh + k] = hv;
                            }
                        }
                    }
                    if (whr != null) {
                        // projection for the whole batch: h (B, P) = hidden W_hrᵀ; rows past their length keep their h
                        float[] hp = matmul(kern, hidStep, batch, whr, hh, null);
                        for (int b = 0; b < batch; b++) {
                            if (active(lengths, b, t)) {
                                System.arraycopy(hp, b * hh, h, b * hh, hh);
                            }
                        }
                    }
                    for (int b = 0; b < batch; b++) {
                        if (active(lengths, b, t)) {
                            System.arraycopy(h, b * hh, out, (b * steps + t) * outSize + dir * hh, hh);
                        }
                    }
                }
                System.arraycopy(h, 0, hn, ld * batch * hh, batch * hh);
                System.arraycopy(c, 0, cn, ld * batch * hs, batch * hs);
                tapes[ld] = new CellTape(gates, cs, tc, hid, hPrevAll, cPrevAll);
            }
            if (layer < layers - 1 && masks != null && masks[layer] != null) {
                float[] dropped = new float[out.length];
                for (int k = 0; k < out.length; k++) {
                    dropped[k] = out[k] * masks[layer][k];
                }
                in = dropped;
            } else {
                in = out;
            }
        }
        return new Tape(config, cells, batch, steps, lengths, inputs, masks, tapes, out, hn, cn);
    }

    /**
     * The backward pass; shapes as {@link dev.lstm4j.reference.ReferenceBackward#backward}. Adds into {@code grads}
     * ([layer*D + direction]) and returns {dInput (B, T, I), dH0 (L*D, B, Hh), dC0 (L*D, B, H)}.
     */
    public static float[][] backward(Tape tape, float[] dOutput, float[] dHn, float[] dCn, Grads[] grads) {
        LstmConfig config = tape.config();
        int d = config.directions(), hh = config.outputHiddenSize(), hs = config.hiddenSize(), layers = config.numLayers();
        int batch = tape.batch(), steps = tape.steps(), outSize = d * hh, g4 = 4 * hs;
        int[] lengths = tape.lengths();
        float[] dH0 = new float[layers * d * batch * hh], dC0 = new float[layers * d * batch * hs];
        float[] dLayerOut = dOutput == null ? new float[batch * steps * outSize] : dOutput;
        float[] dLayerIn = null;
        for (int layer = layers - 1; layer >= 0; layer--) {
            int inSize = config.layerInputSize(layer);
            float[] in = tape.inputs()[layer];
            dLayerIn = new float[batch * steps * inSize];
            for (int dir = 0; dir < d; dir++) {
                int ld = layer * d + dir;
                Cell w = tape.cells()[ld];
                Grads gr = grads[ld];
                CellTape ct = tape.tapes()[ld];
                float[] dh = new float[batch * hh], dc = new float[batch * hs];
                if (dHn != null) {
                    System.arraycopy(dHn, ld * batch * hh, dh, 0, batch * hh);
                }
                if (dCn != null) {
                    System.arraycopy(dCn, ld * batch * hs, dc, 0, batch * hs);
                }
                LstmKernels kern = Kernels.get();
                PackedMatrix whhT = kern.pack(transpose(w.weightHh(), g4, hh), hh, g4);
                float[] dZall = new float[batch * steps * g4];
                float[] dhTall = w.weightHr() == null ? null : new float[batch * steps * hh];
                float[] dzStep = new float[batch * g4];
                float[] dHidden = new float[hs];
                float[] dhT = new float[hh];
                for (int n = steps - 1; n >= 0; n--) {
                    int t = dir == 0 ? n : steps - 1 - n;
                    // per row: through h = o ⊙ tanh(c) (and the projection), c = f ⊙ c_prev + i ⊙ g, σ′ and tanh′
                    for (int b = 0; b < batch; b++) {
                        if (!active(lengths, b, t)) {
                            java.util.Arrays.fill(dzStep, b * g4, (b + 1) * g4, 0f);
                            continue;
                        }
                        int tb = t * batch + b, go = tb * g4, bt = b * steps + t;
                        int o = bt * outSize + dir * hh;
                        for (int k = 0; k < hh; k++) {
                            dhT[k] = dh[b * hh + k] + dLayerOut[o + k];
                        }
                        float[] dHid;
                        if (w.weightHr() != null) {
                            System.arraycopy(dhT, 0, dhTall, bt * hh, hh);
                            java.util.Arrays.fill(dHidden, 0f);
                            for (int r = 0; r < hh; r++) {
                                axpy(dhT[r], w.weightHr(), r * hs, dHidden, 0, hs);
                            }
                            dHid = dHidden;
                        } else {
                            dHid = dhT;
                        }
                        int zo = b * g4;
                        for (int k = 0; k < hs; k++) {
                            float ig = ct.gates()[go + k], fg = ct.gates()[go + hs + k], gg = ct.gates()[go + 2 * hs + k], og = ct.gates()[go + 3 * hs + k];
                            float th = ct.tanhC()[tb * hs + k];
                            float dO = dHid[k] * th;
                            float dC = dc[b * hs + k] + dHid[k] * og * (1 - th * th);
                            float dF = dC * ct.cPrev()[bt * hs + k];
                            float dI = dC * gg;
                            float dG = dC * ig;
                            dc[b * hs + k] = dC * fg;
                            dzStep[zo + k] = dI * ig * (1 - ig);
                            dzStep[zo + hs + k] = dF * fg * (1 - fg);
                            dzStep[zo + 2 * hs + k] = dG * (1 - gg * gg);
                            dzStep[zo + 3 * hs + k] = dO * og * (1 - og);
                        }
                        System.arraycopy(dzStep, zo, dZall, bt * g4, g4);
                    }
                    // dh_{t-1} for the whole batch: dz (B, 4H) · W_hh; rows past their length pass dh through
                    float[] dhp = matmul(kern, dzStep, batch, whhT, hh, null);
                    for (int b = 0; b < batch; b++) {
                        if (active(lengths, b, t)) {
                            System.arraycopy(dhp, b * hh, dh, b * hh, hh);
                        }
                    }
                }
                // over all steps at once: dx = dz · W_ih, dW_ih += dzᵀ x, dW_hh += dzᵀ h_prev, db += Σ dz, dW_hr += dhᵀ hidden
                int bt = batch * steps;
                float[] dx = matmul(kern, dZall, bt, kern.pack(transpose(w.weightIh(), g4, inSize), inSize, g4), inSize, null);
                for (int k = 0; k < dx.length; k++) {
                    dLayerIn[k] += dx[k];
                }
                float[] dZt = transpose(dZall, bt, g4);
                addInto(matmul(dZt, g4, bt, transpose(in, bt, inSize), inSize, null), gr.dWeightIh());
                addInto(matmul(dZt, g4, bt, transpose(ct.hPrev(), bt, hh), hh, null), gr.dWeightHh());
                if (gr.dBiasIh() != null) {
                    float[] db = new float[g4];
                    for (int row = 0; row < bt; row++) {
                        for (int r = 0; r < g4; r++) {
                            db[r] += dZall[row * g4 + r];
                        }
                    }
                    addInto(db, gr.dBiasIh());
                    addInto(db, gr.dBiasHh());
                }
                if (dhTall != null) {
                    addInto(matmul(transpose(dhTall, bt, hh), hh, bt, transpose(ct.hidden(), bt, hs), hs, null), gr.dWeightHr());
                }
                System.arraycopy(dh, 0, dH0, ld * batch * hh, batch * hh);
                System.arraycopy(dc, 0, dC0, ld * batch * hs, batch * hs);
            }
            if (layer > 0) {
                float[][] masks = tape.masks();
                if (masks != null && masks[layer - 1] != null) {
                    for (int k = 0; k < dLayerIn.length; k++) {
                        dLayerIn[k] *= masks[layer - 1][k];
                    }
                }
                dLayerOut = dLayerIn;
            }
        }
        return new float[][] {dLayerIn, dH0, dC0};
    }
}
