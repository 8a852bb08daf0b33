package dev.lstm4j.train;

import dev.lstm4j.Precision;
import dev.lstm4j.internal.Validate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code torch.optim.Adam} and {@code torch.optim.AdamW}, as PyTorch computes them for each parameter p with gradient g
 * at step t:
 * <pre>
 * p = p · (1 − lr · weight_decay)                   (AdamW)      g = g + weight_decay · p   (Adam, if weight_decay ≠ 0)
 * m = β1 · m + (1 − β1) · g
 * v = β2 · v + (1 − β2) · g²
 * v̂max = max(v̂max, v)                               (amsgrad; then v̂max is used for v below)
 * denom = √v / √(1 − β2^t) + eps
 * p = p − (lr / (1 − β1^t)) · m / denom
 * </pre>
 */
public final class Adam extends Optimizer {
    /** Adam's options; immutable, with withers. Defaults as PyTorch's: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public record Options(double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad, boolean decoupled) {
        public Options {
            Validate.input(lr >= 0 && eps >= 0 && weightDecay >= 0, "Adam: lr, eps and weight_decay must be >= 0");
            Validate.input(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam: betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }

        /** {@code torch.optim.Adam(lr=lr)}. */
        public static Options adam(double lr) {
            return new Options(lr, 0.9, 0.999, 1e-8, 0, false, false);
        }

        /** {@code torch.optim.AdamW(lr=lr)}: decoupled weight decay, 0.01 by default. */
        public static Options adamW(double lr) {
            return new Options(lr, 0.9, 0.999, 1e-8, 0.01, false, true);
        }

        public Options withBetas(double b1, double b2) {
            return new Options(lr, b1, b2, eps, weightDecay, amsgrad, decoupled);
        }

        public Options withEps(double v) {
            return new Options(lr, beta1, beta2, v, weightDecay, amsgrad, decoupled);
        }

        public Options withWeightDecay(double v) {
            return new Options(lr, beta1, beta2, eps, v, amsgrad, decoupled);
        }

        public Options withAmsgrad(boolean v) {
            return new Options(lr, beta1, beta2, eps, weightDecay, v, decoupled);
        }
    }

    private final Options o;
    private final double[][] expAvg, expAvgSq, maxExpAvgSq;
    private double[] decayed;

    public Adam(List<Parameter> params, Precision precision, Options options) {
        super(params, precision);
        this.o = options;
        int n = params.size();
        expAvg = new double[n][];
        expAvgSq = new double[n][];
        maxExpAvgSq = new double[n][];
    }

    @Override
    protected void update(int index, Parameter param) {
        double[] w = param.value();
        double[] g = param.grad();
        int n = w.length;
        if (expAvg[index] == null) {
            expAvg[index] = new double[n];
            expAvgSq[index] = new double[n];
            if (o.amsgrad()) {
                maxExpAvgSq[index] = new double[n];
            }
        }
        double[] m = expAvg[index], v = expAvgSq[index], vmax = maxExpAvgSq[index];
        if (o.weightDecay() != 0) {
            if (o.decoupled()) {
                double f = 1 - o.lr() * o.weightDecay();
                for (int k = 0; k < n; k++) {
                    w[k] = r(w[k] * f);
                }
            } else {
                // the gradient plus decay, in a scratch array: the parameter's gradient stays as backward left it
                if (decayed == null || decayed.length < n) {
                    decayed = new double[n];
                }
                for (int k = 0; k < n; k++) {
                    decayed[k] = r(g[k] + r(o.weightDecay() * w[k]));
                }
                g = decayed;
            }
        }
        for (int k = 0; k < n; k++) {
            m[k] = r(r(m[k] * o.beta1()) + r((1 - o.beta1()) * g[k]));
            v[k] = r(r(v[k] * o.beta2()) + r((1 - o.beta2()) * r(g[k] * g[k])));
        }
        long t = steps();
        double biasCorrection1 = 1 - Math.pow(o.beta1(), t);
        double biasCorrection2 = 1 - Math.pow(o.beta2(), t);
        double stepSize = o.lr() / biasCorrection1;
        double bc2Sqrt = Math.sqrt(biasCorrection2);
        for (int k = 0; k < n; k++) {
            double second = v[k];
            if (vmax != null) {
                vmax[k] = Math.max(vmax[k], v[k]);
                second = vmax[k];
            }
            double denom = r(r(r(Math.sqrt(second)) / bc2Sqrt) + o.eps());
            w[k] = r(w[k] - r(stepSize * r(m[k] / denom)));
        }
    }

    @Override
    protected Map<String, double[]> buffers(int index) {
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("exp_avg", expAvg[index]);
        m.put("exp_avg_sq", expAvgSq[index]);
        if (o.amsgrad()) {
            m.put("max_exp_avg_sq", maxExpAvgSq[index]);
        }
        return m;
    }

    @Override
    protected void setBuffer(int index, String buffer, double[] value) {
        switch (buffer) {
            case "exp_avg" -> expAvg[index] = value;
            case "exp_avg_sq" -> expAvgSq[index] = value;
            default -> maxExpAvgSq[index] = value;
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s(lr=%s, betas=(%s, %s), eps=%s, weight_decay=%s, amsgrad=%s)", o.decoupled() ? "AdamW" : "Adam",
                o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.amsgrad() ? "True" : "False");
    }
}
