package dev.lstm4j.reference;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.reference.ReferenceLstm.Params;

/**
 * The backward pass of the reference LSTM, one method per backward equation, each the mirror of one forward
 * equation of {@link ReferenceLstm} and quoting the derivative it computes. Together they give what
 * {@code loss.backward()} gives for an {@code nn.LSTM} (and an {@code nn.Linear} head): the gradient of every
 * weight and of the input x and initial state (h0, c0), over layers, both directions, projection, no bias and
 * packed lengths.
 *
 * <p><b>Naming and accumulation.</b> {@code dX} is the gradient of the loss with respect to X. Every method here
 * <em>accumulates</em> into its dX arrays ({@code +=}), as llm.c does: a weight used at every step, or h_{t-1}
 * read by all four gates, sums its contributions; zero the arrays before a new backward pass, as
 * {@code optimizer.zero_grad()} does.
 *
 * <p><b>Arithmetic.</b> The backward runs in double on the forward values the model computed (rounded to its
 * precision, as in PyTorch). A float64 model matches {@code torch.autograd} in float64 to 1e-10; a float32 model
 * matches PyTorch float32 within the bound stated in docs/training.md (PyTorch runs the backward in float32).
 *
 * <p>Legend: B batch, T steps, I_l layer input, H hidden, P projection, Hh = P if projected else H, L layers,
 * D directions. Gate row blocks in PyTorch's order i, f, g, o; {@code dz} is (4H,) in that order.
 */
public final class ReferenceBackward {
    private ReferenceBackward() {
    }

    /**
     * The gradients of one layer and direction, in PyTorch's layout (same shapes as the weights).
     *
     * @param dWeightIh (4H, I_l), {@code weight_ih_l{k}.grad}
     * @param dWeightHh (4H, Hh), {@code weight_hh_l{k}.grad}
     * @param dBiasIh   (4H,) or null without bias
     * @param dBiasHh   (4H,) or null without bias
     * @param dWeightHr (P, H) or null without projection
     */
    public record CellGrads(double[] dWeightIh, double[] dWeightHh, double[] dBiasIh, double[] dBiasHh, double[] dWeightHr) {
        /** Zero gradients shaped like {@code w}. */
        public static CellGrads zerosLike(Params w) {
            return new CellGrads(new double[w.weightIh().length], new double[w.weightHh().length],
                    w.biasIh() == null ? null : new double[w.biasIh().length], w.biasHh() == null ? null : new double[w.biasHh().length],
                    w.weightHr() == null ? null : new double[w.weightHr().length]);
        }
    }

    // ---- the backward equations, last forward equation first ----

    /**
     * Backward of the projection {@code h_t = W_hr hidden_t}:
     * {@code dW_hr += dh_t ⊗ hidden_t} and {@code dhidden_t += W_hrᵀ dh_t}. Shapes: hidden (H,), dh (P,), W_hr (P, H).
     */
    public static void projectBackward(Params w, double[] hidden, double[] dh, double[] dWeightHr, double[] dHidden) {
        int hs = w.hiddenSize();
        for (int r = 0; r < dh.length; r++) {
            for (int k = 0; k < hs; k++) {
                dWeightHr[r * hs + k] += dh[r] * hidden[k];
                dHidden[k] += w.weightHr()[r * hs + k] * dh[r];
            }
        }
    }

    /**
     * Backward of {@code h_t = o_t ⊙ tanh(c_t)}: {@code do += dh ⊙ tanh(c_t)} and
     * {@code dc_t += dh ⊙ o_t ⊙ (1 − tanh²(c_t))}.
     */
    public static void nextHiddenBackward(double[] dh, double[] o, double[] tanhC, double[] dO, double[] dC) {
        for (int k = 0; k < dh.length; k++) {
            dO[k] += dh[k] * tanhC[k];
            dC[k] += dh[k] * o[k] * (1 - tanhC[k] * tanhC[k]);
        }
    }

    /**
     * Backward of {@code c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t}: {@code df += dc ⊙ c_{t-1}}, {@code di += dc ⊙ g},
     * {@code dg += dc ⊙ i} and {@code dc_{t-1} += dc ⊙ f}.
     */
    public static void nextCellBackward(double[] dC, double[] i, double[] f, double[] g, double[] cPrev,
                                        double[] dI, double[] dF, double[] dG, double[] dCPrev) {
        for (int k = 0; k < dC.length; k++) {
            dF[k] += dC[k] * cPrev[k];
            dI[k] += dC[k] * g[k];
            dG[k] += dC[k] * i[k];
            dCPrev[k] += dC[k] * f[k];
        }
    }

    /**
     * Backward of a sigmoid gate {@code a = σ(z)}: {@code dz += da ⊙ a ⊙ (1 − a)}; for the forget gate this is
     * {@code dz_f = dc ⊙ c_{t-1} ⊙ f ⊙ (1 − f)}. Writes into {@code dZ} from {@code offset} (the gate's row block).
     */
    public static void sigmoidBackward(double[] dA, double[] a, double[] dZ, int offset) {
        for (int k = 0; k < dA.length; k++) {
            dZ[offset + k] += dA[k] * a[k] * (1 - a[k]);
        }
    }

    /**
     * Backward of the candidate {@code g = tanh(z)}: {@code dz_g += dg ⊙ (1 − g²)}, i.e.
     * {@code dz_g = dc ⊙ i ⊙ (1 − g²)}. Writes into {@code dZ} from {@code offset}.
     */
    public static void tanhBackward(double[] dA, double[] a, double[] dZ, int offset) {
        for (int k = 0; k < dA.length; k++) {
            dZ[offset + k] += dA[k] * (1 - a[k] * a[k]);
        }
    }

    /**
     * Backward of the pre-activations {@code z = (W_ih x_t + b_ih) + (W_hh h_{t-1} + b_hh)}, all four gates at once:
     * {@code dW_ih += dz ⊗ x_t}, {@code dW_hh += dz ⊗ h_{t-1}}, {@code db_ih += dz}, {@code db_hh += dz},
     * {@code dx_t += W_ihᵀ dz} and {@code dh_{t-1} += W_hhᵀ dz}. Shapes: dz (4H,), x (I_l,), hPrev (Hh,).
     */
    public static void preActivationBackward(Params w, double[] dZ, double[] x, double[] hPrev, CellGrads grads,
                                             double[] dX, double[] dHPrev) {
        int in = w.inputSize(), hh = w.hSize();
        for (int row = 0; row < dZ.length; row++) {
            double dz = dZ[row];
            for (int k = 0; k < in; k++) {
                grads.dWeightIh()[row * in + k] += dz * x[k];
                dX[k] += w.weightIh()[row * in + k] * dz;
            }
            for (int k = 0; k < hh; k++) {
                grads.dWeightHh()[row * hh + k] += dz * hPrev[k];
                dHPrev[k] += w.weightHh()[row * hh + k] * dz;
            }
            if (grads.dBiasIh() != null) {
                grads.dBiasIh()[row] += dz;
                grads.dBiasHh()[row] += dz;
            }
        }
    }

    /**
     * One step backward, the forward {@link ReferenceLstm#step} read from the bottom up.
     *
     * @param v      what the forward step computed
     * @param dH     dh_t (Hh,): from this step's output and from step t+1
     * @param dC     dc_t (H,): from step t+1 (or the final state's gradient)
     * @param dX     accumulates dx_t (I_l,)
     * @param dHPrev accumulates dh_{t-1} (Hh,)
     * @param dCPrev accumulates dc_{t-1} (H,)
     * @return every gradient the step computed on the way (the arrays themselves, see {@link StepGrads})
     */
    public static StepGrads stepBackward(Params w, StepValues v, double[] dH, double[] dC, CellGrads grads,
                                    double[] dX, double[] dHPrev, double[] dCPrev) {
        int hs = w.hiddenSize();
        // projection: h = W_hr hidden
        double[] dHidden;
        if (w.weightHr() != null) {
            dHidden = new double[hs];
            projectBackward(w, v.hidden(), dH, grads.dWeightHr(), dHidden);
        } else {
            dHidden = dH;
        }
        // hidden state: hidden = o ⊙ tanh(c)
        double[] dO = new double[hs];
        double[] dCt = dC.clone();
        nextHiddenBackward(dHidden, v.o().activation(), v.tanhC(), dO, dCt);
        // cell state: c = f ⊙ c_{t-1} + i ⊙ g
        double[] dI = new double[hs], dF = new double[hs], dG = new double[hs];
        nextCellBackward(dCt, v.i().activation(), v.f().activation(), v.g().activation(), v.cPrev(), dI, dF, dG, dCPrev);
        // gates: through σ′ and tanh′ into the pre-activations, rows i, f, g, o
        double[] dZ = new double[4 * hs];
        sigmoidBackward(dI, v.i().activation(), dZ, ReferenceLstm.I * hs);
        sigmoidBackward(dF, v.f().activation(), dZ, ReferenceLstm.F * hs);
        tanhBackward(dG, v.g().activation(), dZ, ReferenceLstm.G * hs);
        sigmoidBackward(dO, v.o().activation(), dZ, ReferenceLstm.O * hs);
        // weights, input and previous hidden state
        preActivationBackward(w, dZ, v.x(), v.hPrev(), grads, dX, dHPrev);
        return new StepGrads(dH, dC, dHidden, dCt, dO, dI, dF, dG, dZ, dX, dHPrev, dCPrev);
    }

    /**
     * Backward of an {@code nn.Linear} head {@code y = W h + b} over rows: {@code dW += dy ⊗ h}, {@code db += dy}
     * and {@code dh += Wᵀ dy}. Shapes: weight (O, F), h (R, F), dy (R, O); dBias may be null.
     */
    public static void linearBackward(double[] weight, int outFeatures, int inFeatures, double[] h, double[] dy,
                                      double[] dWeight, double[] dBias, double[] dh) {
        int rows = dy.length / outFeatures;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < outFeatures; j++) {
                double g = dy[r * outFeatures + j];
                if (g == 0) {
                    continue;
                }
                if (dBias != null) {
                    dBias[j] += g;
                }
                for (int k = 0; k < inFeatures; k++) {
                    dWeight[j * inFeatures + k] += g * h[r * inFeatures + k];
                    dh[r * inFeatures + k] += weight[j * inFeatures + k] * g;
                }
            }
        }
    }

    // ---- the whole sequence: a forward that keeps what the backward needs, then the backward ----

    /**
     * What the forward pass computed, kept for the backward: every step's values, every layer's input and the
     * dropout masks. Flat arrays, row-major.
     *
     * @param values  [layer*D + direction][b][t]; null at padded steps
     * @param inputs  per layer, its input (B, T, I_l) (after dropout for layers above the first)
     * @param masks   per layer below the last, the dropout mask on its output (B, T, D*Hh), or null for none
     * @param output  the last layer's output (B, T, D*Hh), 0 at padded steps
     * @param hN      (L*D, B, Hh)
     * @param cN      (L*D, B, H)
     */
    public record Tape(LstmConfig config, Params[] params, int batch, int steps, int[] lengths, StepValues[][][] values,
                       double[][] inputs, double[][] masks, double[] output, double[] hN, double[] cN) {
    }

    /**
     * The gradients that do not belong to a weight.
     *
     * @param dInput (B, T, I)
     * @param dH0    (L*D, B, Hh)
     * @param dC0    (L*D, B, H)
     */
    public record InputGrads(double[] dInput, double[] dH0, double[] dC0) {
    }

    /**
     * The forward pass of {@link ReferenceLstm#forward(dev.lstm4j.Tensor, dev.lstm4j.Tensor, dev.lstm4j.Tensor, int[],
     * StepObserver)} on the same equations ({@link ReferenceLstm#step}), keeping every step for the backward; with
     * inter-layer dropout when masks are given, as {@code nn.LSTM(dropout=p)} does in training mode: the output of
     * every layer but the last is multiplied by its mask (0 or 1/(1−p)) before the next layer reads it.
     *
     * @param params  [layer*D + direction]
     * @param x       (B, T, I)
     * @param h0      (L*D, B, Hh) or null for zeros
     * @param c0      (L*D, B, H) or null for zeros
     * @param lengths (B,) each in 1..T, or null for all T
     * @param masks   per layer below the last, (B, T, D*Hh), or null for no dropout (an entry may be null too)
     */
    public static Tape forward(LstmConfig config, Params[] params, int batch, int steps, double[] x, double[] h0, double[] c0,
                               int[] lengths, double[][] masks) {
        int d = config.directions(), hh = config.outputHiddenSize(), hs = config.hiddenSize(), layers = config.numLayers();
        Precision p = params[0].precision();
        int outSize = d * hh;
        double[] hn = new double[layers * d * batch * hh];
        double[] cn = new double[layers * d * batch * hs];
        StepValues[][][] values = new StepValues[layers * d][batch][steps];
        double[][] inputs = new double[layers][];
        double[] in = x;
        double[] out = null;
        for (int layer = 0; layer < layers; layer++) {
            int inSize = config.layerInputSize(layer);
            inputs[layer] = in;
            out = new double[batch * steps * outSize];
            for (int dir = 0; dir < d; dir++) {
                int ld = layer * d + dir;
                Params w = params[ld];
                for (int b = 0; b < batch; b++) {
                    double[] h = h0 == null ? new double[hh] : slice(h0, (ld * batch + b) * hh, hh);
                    double[] c = c0 == null ? new double[hs] : slice(c0, (ld * batch + b) * hs, hs);
                    // forward runs t = 0..len-1, reverse runs t = len-1..0; padded steps stay 0
                    int len = lengths == null ? steps : lengths[b];
                    for (int n = 0; n < len; n++) {
                        int t = dir == 0 ? n : len - 1 - n;
                        StepValues v = ReferenceLstm.step(w, slice(in, (b * steps + t) * inSize, inSize), h, c);
                        values[ld][b][t] = v;
                        h = v.h();
                        c = v.c();
                        System.arraycopy(h, 0, out, (b * steps + t) * outSize + dir * hh, hh);
                    }
                    System.arraycopy(h, 0, hn, (ld * batch + b) * hh, hh);
                    System.arraycopy(c, 0, cn, (ld * batch + b) * hs, hs);
                }
            }
            if (layer < layers - 1 && masks != null && masks[layer] != null) {
                // inter-layer dropout: the next layer reads out ⊙ mask
                double[] dropped = new double[out.length];
                for (int k = 0; k < out.length; k++) {
                    dropped[k] = p.round(out[k] * masks[layer][k]);
                }
                in = dropped;
            } else {
                in = out;
            }
        }
        return new Tape(config, params, batch, steps, lengths == null ? null : lengths.clone(), values, inputs, masks, out, hn, cn);
    }

    /**
     * The backward pass: from the gradients of the outputs to those of every weight (accumulated into
     * {@code grads}, index {@code layer*D + direction}) and of x, h0 and c0 (returned).
     *
     * @param dOutput (B, T, D*Hh) or null; padded steps are ignored (their output is the constant 0)
     * @param dHn     (L*D, B, Hh) or null
     * @param dCn     (L*D, B, H) or null
     */
    public static InputGrads backward(Tape tape, double[] dOutput, double[] dHn, double[] dCn, CellGrads[] grads) {
        return backward(tape, dOutput, dHn, dCn, grads, ReferenceBackward::stepBackward);
    }

    /** The signature of {@link #stepBackward}, so that a test can run the sequence backward with a broken step. */
    @FunctionalInterface
    public interface StepBackward {
        StepGrads apply(Params w, StepValues v, double[] dH, double[] dC, CellGrads grads, double[] dX, double[] dHPrev, double[] dCPrev);
    }

    /** Receives every step the backward computes, in computation order: the mirror of {@link StepObserver}. */
    @FunctionalInterface
    public interface GradObserver {
        /**
         * @param layer     0-based layer (the top layer comes first)
         * @param direction 0 forward, 1 reverse
         * @param batch     row in the batch
         * @param step      time index in the input sequence
         * @param grads     what the step computed; its arrays are not reused by later steps
         */
        void onStep(int layer, int direction, int batch, int step, StepGrads grads);
    }

    /** As {@link #backward(Tape, double[], double[], double[], CellGrads[])}, with {@code step} for each step's backward. */
    public static InputGrads backward(Tape tape, double[] dOutput, double[] dHn, double[] dCn, CellGrads[] grads, StepBackward step) {
        return backward(tape, dOutput, dHn, dCn, grads, step, (layer, dir, b, t, g) -> {
        });
    }

    /**
     * As {@link #backward(Tape, double[], double[], double[], CellGrads[], StepBackward)}, reporting every step's
     * gradients to {@code observer}; this is how a gradient trace records them.
     */
    public static InputGrads backward(Tape tape, double[] dOutput, double[] dHn, double[] dCn, CellGrads[] grads, StepBackward step,
                                      GradObserver observer) {
        LstmConfig config = tape.config();
        int d = config.directions(), hh = config.outputHiddenSize(), hs = config.hiddenSize(), layers = config.numLayers();
        int batch = tape.batch(), steps = tape.steps(), outSize = d * hh;
        double[] dH0 = new double[layers * d * batch * hh];
        double[] dC0 = new double[layers * d * batch * hs];
        double[] dLayerOut = dOutput == null ? new double[batch * steps * outSize] : dOutput;
        double[] dLayerIn = null;
        for (int layer = layers - 1; layer >= 0; layer--) {
            int inSize = config.layerInputSize(layer);
            dLayerIn = new double[batch * steps * inSize];
            for (int dir = 0; dir < d; dir++) {
                int ld = layer * d + dir;
                Params w = tape.params()[ld];
                for (int b = 0; b < batch; b++) {
                    double[] dh = dHn == null ? new double[hh] : slice(dHn, (ld * batch + b) * hh, hh);
                    double[] dc = dCn == null ? new double[hs] : slice(dCn, (ld * batch + b) * hs, hs);
                    int len = tape.lengths() == null ? steps : tape.lengths()[b];
                    // the forward order reversed: the forward direction goes len-1..0, the reverse one 0..len-1
                    for (int n = len - 1; n >= 0; n--) {
                        int t = dir == 0 ? n : len - 1 - n;
                        double[] dhT = dh.clone();
                        int o = (b * steps + t) * outSize + dir * hh;
                        for (int k = 0; k < hh; k++) {
                            dhT[k] += dLayerOut[o + k];
                        }
                        double[] dX = new double[inSize];
                        double[] dHPrev = new double[hh];
                        double[] dCPrev = new double[hs];
                        observer.onStep(layer, dir, b, t, step.apply(w, tape.values()[ld][b][t], dhT, dc, grads[ld], dX, dHPrev, dCPrev));
                        int xo = (b * steps + t) * inSize;
                        for (int k = 0; k < inSize; k++) {
                            dLayerIn[xo + k] += dX[k];
                        }
                        dh = dHPrev;
                        dc = dCPrev;
                    }
                    System.arraycopy(dh, 0, dH0, (ld * batch + b) * hh, hh);
                    System.arraycopy(dc, 0, dC0, (ld * batch + b) * hs, hs);
                }
            }
            if (layer > 0) {
                // through the dropout below: d(out ⊙ mask) = dout ⊙ mask
                double[][] masks = tape.masks();
                if (masks != null && masks[layer - 1] != null) {
                    for (int k = 0; k < dLayerIn.length; k++) {
                        dLayerIn[k] *= masks[layer - 1][k];
                    }
                }
                dLayerOut = dLayerIn;
            }
        }
        return new InputGrads(dLayerIn, dH0, dC0);
    }

    private static double[] slice(double[] a, int from, int len) {
        double[] r = new double[len];
        System.arraycopy(a, from, r, 0, len);
        return r;
    }
}
