package dev.lstm4j.nn;

import dev.lstm4j.DType;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;

import java.util.Locale;

/**
 * The parameter-free layers, each written in a model spec by its keyword: {@code relu}, {@code gelu} (exact, with erf),
 * {@code gelu-tanh} ({@code nn.GELU(approximate='tanh')}), {@code tanh}, {@code sigmoid}, {@code softmax} and
 * {@code logsoftmax} (over the last dimension, {@code dim=-1}), {@code dropout} (identity at inference, as in
 * {@code model.eval()}; {@code drop} means the same). Immutable and thread-safe.
 */
public enum Activation implements Layer {
    RELU("relu", "ReLU()"),
    GELU("gelu", "GELU(approximate='none')"),
    GELU_TANH("gelu-tanh", "GELU(approximate='tanh')"),
    TANH("tanh", "Tanh()"),
    SIGMOID("sigmoid", "Sigmoid()"),
    SOFTMAX("softmax", "Softmax(dim=-1)"),
    LOG_SOFTMAX("logsoftmax", "LogSoftmax(dim=-1)"),
    DROPOUT("dropout", "Dropout() (identity at inference)");

    private final String keyword;
    private final String repr;

    Activation(String keyword, String repr) {
        this.keyword = keyword;
        this.repr = repr;
    }

    /** The spec keyword, e.g. {@code gelu-tanh}. */
    public String keyword() {
        return keyword;
    }

    /** The activation a spec keyword names ({@code drop} is {@code dropout}), or null. */
    public static Activation ofKeyword(String word) {
        String w = word.toLowerCase(Locale.ROOT);
        if (w.equals("drop")) {
            return DROPOUT;
        }
        for (Activation a : values()) {
            if (a.keyword.equals(w)) {
                return a;
            }
        }
        return null;
    }

    @Override
    public String describe() {
        return repr;
    }

    @Override
    public int outFeatures(int inFeatures) {
        return inFeatures;
    }

    @Override
    public Tensor apply(Tensor input) {
        Validate.input(input != null && input.dtype().isFloat() && input.rank() >= 1, keyword + ": expected a float tensor, got "
                + input);
        if (this == DROPOUT) {
            return input;
        }
        Precision p = input.dtype() == DType.F64 ? Precision.F64 : Precision.F32;
        double[] x = input.to(p.dtype()).toDoubleArray();
        int n = input.size(-1);
        if (this == SOFTMAX || this == LOG_SOFTMAX) {
            for (int r = 0; r + n <= x.length && n > 0; r += n) {
                softmaxRow(x, r, n, p, this == LOG_SOFTMAX);
            }
        } else {
            for (int k = 0; k < x.length; k++) {
                x[k] = p.round(one(x[k]));
            }
        }
        return Tensor.wrap(p.dtype(), input.shape(), x);
    }

    private double one(double v) {
        return switch (this) {
            case RELU -> v > 0 ? v : (Double.isNaN(v) ? v : 0.0);
            // GELU(x) = x · Φ(x) = 0.5 · x · (1 + erf(x / √2))
            case GELU -> 0.5 * v * (1 + Erf.erf(v / Math.sqrt(2)));
            // GELU_tanh(x) = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
            case GELU_TANH -> 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            case TANH -> Math.tanh(v);
            case SIGMOID -> 1 / (1 + Math.exp(-v));
            default -> throw new IllegalStateException(keyword);
        };
    }

    /** softmax(x)_j = exp(x_j − max x) / Σ_k exp(x_k − max x); log-softmax = (x_j − max x) − log Σ_k exp(x_k − max x). */
    private static void softmaxRow(double[] x, int off, int n, Precision p, boolean log) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
            max = Math.max(max, x[off + k]);
        }
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += Math.exp(x[off + k] - max);
        }
        for (int k = 0; k < n; k++) {
            double v = log ? (x[off + k] - max) - Math.log(sum) : Math.exp(x[off + k] - max) / sum;
            x[off + k] = p.round(v);
        }
    }
}
