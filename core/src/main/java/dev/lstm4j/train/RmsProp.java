package dev.lstm4j.train;

import dev.lstm4j.Precision;
import dev.lstm4j.internal.Validate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code torch.optim.RMSprop}, as PyTorch computes it for each parameter p with gradient g:
 * <pre>
 * g = g + weight_decay · p                      (if weight_decay ≠ 0)
 * s = α · s + (1 − α) · g²
 * avg = √(s − ḡ²) + eps with ḡ = α · ḡ + (1 − α) · g   (centered),  else avg = √s + eps
 * buf = momentum · buf + g / avg;  p = p − lr · buf     (if momentum > 0),  else p = p − lr · g / avg
 * </pre>
 */
public final class RmsProp extends Optimizer {
    /** RMSprop's options; immutable, with withers. Defaults as PyTorch's: alpha 0.99, eps 1e-8. */
    public record Options(double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered) {
        public Options {
            Validate.input(lr >= 0 && alpha >= 0 && eps >= 0 && weightDecay >= 0 && momentum >= 0,
                    "RMSprop: lr, alpha, eps, weight_decay and momentum must be >= 0");
        }

        public static Options lr(double lr) {
            return new Options(lr, 0.99, 1e-8, 0, 0, false);
        }

        public Options withAlpha(double v) {
            return new Options(lr, v, eps, weightDecay, momentum, centered);
        }

        public Options withEps(double v) {
            return new Options(lr, alpha, v, weightDecay, momentum, centered);
        }

        public Options withWeightDecay(double v) {
            return new Options(lr, alpha, eps, v, momentum, centered);
        }

        public Options withMomentum(double v) {
            return new Options(lr, alpha, eps, weightDecay, v, centered);
        }

        public Options withCentered(boolean v) {
            return new Options(lr, alpha, eps, weightDecay, momentum, v);
        }
    }

    private final Options o;
    private final double[][] squareAvg, gradAvg, momentumBuffer;

    public RmsProp(List<Parameter> params, Precision precision, Options options) {
        super(params, precision);
        this.o = options;
        int n = params.size();
        squareAvg = new double[n][];
        gradAvg = new double[n][];
        momentumBuffer = new double[n][];
    }

    @Override
    protected void update(int index, Parameter param) {
        double[] w = param.value();
        double[] g = param.grad().clone();
        int n = w.length;
        if (squareAvg[index] == null) {
            squareAvg[index] = new double[n];
            if (o.centered()) {
                gradAvg[index] = new double[n];
            }
            if (o.momentum() > 0) {
                momentumBuffer[index] = new double[n];
            }
        }
        double[] s = squareAvg[index], ga = gradAvg[index], buf = momentumBuffer[index];
        for (int k = 0; k < n; k++) {
            if (o.weightDecay() != 0) {
                g[k] = r(g[k] + r(o.weightDecay() * w[k]));
            }
            s[k] = r(r(s[k] * o.alpha()) + r((1 - o.alpha()) * r(g[k] * g[k])));
            double avg;
            if (o.centered()) {
                ga[k] = r(r(ga[k] * o.alpha()) + r((1 - o.alpha()) * g[k]));
                avg = r(r(Math.sqrt(r(s[k] - r(ga[k] * ga[k])))) + o.eps());
            } else {
                avg = r(r(Math.sqrt(s[k])) + o.eps());
            }
            if (o.momentum() > 0) {
                buf[k] = r(r(buf[k] * o.momentum()) + r(g[k] / avg));
                w[k] = r(w[k] - r(o.lr() * buf[k]));
            } else {
                w[k] = r(w[k] - r(o.lr() * r(g[k] / avg)));
            }
        }
    }

    @Override
    protected Map<String, double[]> buffers(int index) {
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("square_avg", squareAvg[index]);
        if (o.centered()) {
            m.put("grad_avg", gradAvg[index]);
        }
        if (o.momentum() > 0) {
            m.put("momentum_buffer", momentumBuffer[index]);
        }
        return m;
    }

    @Override
    protected void setBuffer(int index, String buffer, double[] value) {
        switch (buffer) {
            case "square_avg" -> squareAvg[index] = value;
            case "grad_avg" -> gradAvg[index] = value;
            default -> momentumBuffer[index] = value;
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "RMSprop(lr=%s, alpha=%s, eps=%s, weight_decay=%s, momentum=%s, centered=%s)", o.lr(), o.alpha(),
                o.eps(), o.weightDecay(), o.momentum(), o.centered() ? "True" : "False");
    }
}
