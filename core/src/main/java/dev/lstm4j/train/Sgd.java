package dev.lstm4j.train;

import dev.lstm4j.Precision;
import dev.lstm4j.internal.Validate;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code torch.optim.SGD}, as PyTorch computes it for each parameter p with gradient g:
 * <pre>
 * g = g + weight_decay · p                                  (if weight_decay ≠ 0)
 * buf = g (first step), else buf = momentum · buf + (1 − dampening) · g   (if momentum ≠ 0)
 * g = g + momentum · buf (nesterov), else g = buf
 * p = p − lr · g
 * </pre>
 */
public final class Sgd extends Optimizer {
    /** SGD's options; immutable, with withers. Defaults as PyTorch's, lr required. */
    public record Options(double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        public Options {
            Validate.input(lr >= 0 && momentum >= 0 && weightDecay >= 0, "SGD: lr, momentum and weight_decay must be >= 0");
            Validate.input(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires a momentum and zero dampening");
        }

        public static Options lr(double lr) {
            return new Options(lr, 0, 0, 0, false);
        }

        public Options withMomentum(double v) {
            return new Options(lr, v, dampening, weightDecay, nesterov);
        }

        public Options withDampening(double v) {
            return new Options(lr, momentum, v, weightDecay, nesterov);
        }

        public Options withWeightDecay(double v) {
            return new Options(lr, momentum, dampening, v, nesterov);
        }

        public Options withNesterov(boolean v) {
            return new Options(lr, momentum, dampening, weightDecay, v);
        }
    }

    private final Options o;
    private final double[][] momentumBuffer;

    public Sgd(List<Parameter> params, Precision precision, Options options) {
        super(params, precision);
        this.o = options;
        this.momentumBuffer = new double[params.size()][];
    }

    @Override
    protected void update(int index, Parameter param) {
        double[] w = param.value(), grad = param.grad();
        double[] d = grad.clone();
        if (o.weightDecay() != 0) {
            for (int k = 0; k < d.length; k++) {
                d[k] = r(d[k] + r(o.weightDecay() * w[k]));
            }
        }
        if (o.momentum() != 0) {
            double[] buf = momentumBuffer[index];
            if (buf == null) {
                buf = d.clone();
                momentumBuffer[index] = buf;
            } else {
                for (int k = 0; k < d.length; k++) {
                    buf[k] = r(r(buf[k] * o.momentum()) + r((1 - o.dampening()) * d[k]));
                }
            }
            if (o.nesterov()) {
                for (int k = 0; k < d.length; k++) {
                    d[k] = r(d[k] + r(o.momentum() * buf[k]));
                }
            } else {
                d = buf;
            }
        }
        for (int k = 0; k < d.length; k++) {
            w[k] = r(w[k] - r(o.lr() * d[k]));
        }
    }

    @Override
    protected Map<String, double[]> buffers(int index) {
        if (o.momentum() == 0) {
            return Collections.emptyMap();
        }
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("momentum_buffer", momentumBuffer[index]);
        return m;
    }

    @Override
    protected void setBuffer(int index, String buffer, double[] value) {
        momentumBuffer[index] = value;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "SGD(lr=%s, momentum=%s, dampening=%s, weight_decay=%s, nesterov=%s)", o.lr(), o.momentum(),
                o.dampening(), o.weightDecay(), o.nesterov() ? "True" : "False");
    }
}
