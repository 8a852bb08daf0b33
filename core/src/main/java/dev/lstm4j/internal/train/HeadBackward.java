package dev.lstm4j.internal.train;

import dev.lstm4j.Linear;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Readout;
import dev.lstm4j.nn.Activation;
import dev.lstm4j.nn.Layer;
import dev.lstm4j.reference.ReferenceBackward;

/**
 * The backward of a model's readout and head layers, from ∂L/∂y down to the gradient of the LSTM's output and h_n:
 * what the card's gradient trace needs to reach the cell. Only the layers and readouts below; anything else is
 * refused ({@link #unsupported}), never approximated. Every method returns fresh arrays.
 *
 * <p>Legend: B batch, T steps, F = D*Hh features of the LSTM output, Hh size of h, L layers, D directions.
 */
public final class HeadBackward {
    private HeadBackward() {
    }

    /** Why the backward cannot go through this model, or null when it can. */
    public static String unsupported(LstmModel model) {
        Readout r = model.readout();
        if (r == Readout.MAX) {
            return "the readout 'max' routes its gradient to the arg-max step, which ties make ambiguous; the backward view "
                    + "supports the readouts all, last, last-valid, hn and mean";
        }
        for (int k = 0; k < model.layers().size(); k++) {
            Layer l = model.layers().get(k);
            boolean ok = l instanceof Linear || l == Activation.RELU || l == Activation.TANH || l == Activation.SIGMOID
                    || l == Activation.DROPOUT;
            if (!ok) {
                return "head layer '" + model.spec().head().get(k) + "' (" + l.describe() + ") has no backward here; the backward view "
                        + "goes through Linear, relu, tanh, sigmoid and dropout (identity at inference) only";
            }
        }
        return null;
    }

    /**
     * ∂L/∂in of one head layer from ∂L/∂out, on the values the forward computed:
     * Linear {@code din = Wᵀ dout}; ReLU {@code din = dout ⊙ [out > 0]}; tanh {@code din = dout ⊙ (1 − out²)};
     * sigmoid {@code din = dout ⊙ out ⊙ (1 − out)}; dropout at inference {@code din = dout}.
     *
     * @param in  the layer's input, rows of its in-features
     * @param out the layer's output, rows of its out-features
     */
    public static double[] layerBackward(Layer layer, double[] in, double[] out, double[] dOut) {
        double[] dIn = new double[in.length];
        if (layer instanceof Linear lin) {
            double[] w = lin.weight().toDoubleArray();
            // the weight gradients are not drawn; they go to scratch arrays
            ReferenceBackward.linearBackward(w, lin.outFeatures(), lin.inFeatures(), in, dOut, new double[w.length],
                    null, dIn);
            return dIn;
        }
        for (int k = 0; k < dIn.length; k++) {
            double y = out[k];
            dIn[k] = switch ((Activation) layer) {
                // PyTorch's threshold_backward: the gradient passes where the output is positive
                case RELU -> y > 0 ? dOut[k] : 0;
                case TANH -> dOut[k] * (1 - y * y);
                case SIGMOID -> dOut[k] * y * (1 - y);
                case DROPOUT -> dOut[k];
                default -> throw new IllegalStateException("no backward for " + layer.describe() + "; check unsupported() first");
            };
        }
        return dIn;
    }

    /**
     * The gradient of the LSTM's output {@code (B, T, F)}, batch first, from that of the readout; for {@code hn} it
     * goes into {@code dHn} {@code (L*D, B, Hh)} instead. all: {@code dout = dr}; last: {@code dout[b, T-1] = dr[b]};
     * last-valid: {@code dout[b, len_b − 1] = dr[b]}; mean: {@code dout[b, t] = dr[b] / len_b} for t &lt; len_b;
     * hn: {@code dh_n[(L−1)·D + d, b] = dr[b, d·Hh : (d+1)·Hh]}.
     *
     * @param dR      (B, T, F) for {@code all}, else (B, F)
     * @param lengths (B,) or null for all T
     */
    public static double[] readoutBackward(Readout readout, double[] dR, LstmConfig config, int batch, int steps, int[] lengths,
                                           double[] dHn) {
        int f = config.outputSize();
        if (readout == Readout.ALL) {
            return dR.clone();
        }
        double[] dOut = new double[batch * steps * f];
        for (int b = 0; b < batch; b++) {
            int len = lengths == null ? steps : lengths[b];
            switch (readout) {
                case LAST -> System.arraycopy(dR, b * f, dOut, (b * steps + steps - 1) * f, f);
                case LAST_VALID -> System.arraycopy(dR, b * f, dOut, (b * steps + len - 1) * f, f);
                case MEAN -> {
                    for (int t = 0; t < len; t++) {
                        for (int k = 0; k < f; k++) {
                            dOut[(b * steps + t) * f + k] = dR[b * f + k] / len;
                        }
                    }
                }
                case HN -> {
                    int d = config.directions(), hh = config.outputHiddenSize();
                    for (int dir = 0; dir < d; dir++) {
                        int row = (config.numLayers() - 1) * d + dir;
                        System.arraycopy(dR, b * f + dir * hh, dHn, (row * batch + b) * hh, hh);
                    }
                }
                default -> throw new IllegalStateException("no backward for the readout " + readout.keyword());
            }
        }
        return dOut;
    }
}
