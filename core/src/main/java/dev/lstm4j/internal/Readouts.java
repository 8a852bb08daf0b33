package dev.lstm4j.internal;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Precision;
import dev.lstm4j.Readout;
import dev.lstm4j.Tensor;
import dev.lstm4j.DType;

/**
 * What a {@link Readout} takes from the LSTM's results: one vector per sequence (or every step for {@code all}).
 * One allocation per call, the result; nothing per step.
 *
 * <p>Legend: B batch, T steps, F = D*Hh features of the output, Hh size of h, L layers, D directions.
 */
public final class Readouts {
    private Readouts() {
    }

    /**
     * @param out       the LSTM's results, in the input's layout
     * @param unbatched output {@code (T, F)}, h_n {@code (L*D, Hh)}: the result is {@code (F,)}
     * @param seqFirst  output {@code (T, B, F)}
     * @param lengths   each row's valid steps, or null for all T
     * @return {@code out.output()} for {@code all}, else {@code (B, F)} (or {@code (F,)} unbatched)
     */
    public static Tensor apply(Readout readout, LstmOutput out, LstmConfig config, boolean unbatched, boolean seqFirst, int[] lengths) {
        if (readout == Readout.ALL) {
            return out.output();
        }
        Tensor o = out.output();
        DType dtype = o.dtype();
        Precision p = dtype == DType.F64 ? Precision.F64 : Precision.F32;
        int f = o.size(-1);
        int steps = unbatched || seqFirst ? o.size(0) : o.size(1);
        int batch = unbatched ? 1 : seqFirst ? o.size(1) : o.size(0);
        double[] r = new double[batch * f];
        if (readout == Readout.HN) {
            // h_n rows (L-1)*D .. L*D-1: the last layer's directions, forward first, as cat((h_n[-2], h_n[-1]), 1)
            Tensor hn = out.hN();
            int d = config.directions();
            int hh = config.outputHiddenSize();
            int rows = config.numLayers() * d;
            for (int b = 0; b < batch; b++) {
                for (int dir = 0; dir < d; dir++) {
                    int row = rows - d + dir;
                    for (int k = 0; k < hh; k++) {
                        r[b * f + dir * hh + k] = unbatched ? hn.at(row * hh + k) : hn.at((row * batch + b) * hh + k);
                    }
                }
            }
        } else {
            for (int b = 0; b < batch; b++) {
                int len = lengths == null ? steps : lengths[b];
                switch (readout) {
                    case LAST -> copyStep(o, b, steps - 1, batch, steps, f, seqFirst, r, b * f);
                    case LAST_VALID -> copyStep(o, b, len - 1, batch, steps, f, seqFirst, r, b * f);
                    case MEAN -> {
                        // mean over valid steps: the float sum rounded, then divided, as out.sum(1) / lengths
                        for (int k = 0; k < f; k++) {
                            double s = 0;
                            for (int t = 0; t < len; t++) {
                                s += o.at(index(b, t, k, batch, steps, f, seqFirst));
                            }
                            r[b * f + k] = p.round(p.round(s) / len);
                        }
                    }
                    case MAX -> {
                        for (int k = 0; k < f; k++) {
                            double m = Double.NEGATIVE_INFINITY;
                            for (int t = 0; t < len; t++) {
                                double v = o.at(index(b, t, k, batch, steps, f, seqFirst));
                                m = Double.isNaN(v) || Double.isNaN(m) ? Double.NaN : Math.max(m, v);
                            }
                            r[b * f + k] = m;
                        }
                    }
                    default -> throw new IllegalStateException(readout.toString());
                }
            }
        }
        return Tensor.wrap(dtype, unbatched ? new int[] {f} : new int[] {batch, f}, r);
    }

    private static int index(int b, int t, int k, int batch, int steps, int f, boolean seqFirst) {
        return (seqFirst ? t * batch + b : b * steps + t) * f + k;
    }

    private static void copyStep(Tensor o, int b, int t, int batch, int steps, int f, boolean seqFirst, double[] r, int off) {
        for (int k = 0; k < f; k++) {
            r[off + k] = o.at(index(b, t, k, batch, steps, f, seqFirst));
        }
    }
}
