package dev.lstm4j.train;

import dev.lstm4j.internal.Validate;

/** The losses behind {@link Loss}'s factories. */
final class LossFunctions {
    private LossFunctions() {
    }

    private static String r(Reduction reduction) {
        return "reduction='" + reduction.name().toLowerCase(java.util.Locale.ROOT) + "'";
    }

    private static void sameLength(Loss loss, double[] x, double[] y) {
        if (x.length == y.length && x.length > 0) {
            return;  // the messages are built only on failure: a training step builds none
        }
        Validate.input(x.length == y.length, loss.name() + ": prediction has " + x.length + " values but target has " + y.length
                + "; give one target per prediction");
        Validate.input(x.length > 0, loss.name() + ": empty prediction");
    }

    /**
     * {@code loss.compute(x, y)}, with the gradient written into {@code gradient} (x's length); element-wise losses
     * allocate nothing, so the training loop's steps do not.
     */
    static double computeInto(Loss loss, double[] x, double[] y, double[] gradient) {
        if (loss instanceof ElementWise e) {
            return e.computeInto(x, y, gradient);
        }
        Loss.Result r = loss.compute(x, y);
        System.arraycopy(r.gradient(), 0, gradient, 0, gradient.length);
        return r.value();
    }

    /** An element-wise loss: value(d) and its derivative, d = x − y (or x and y for BCE). */
    private abstract static class ElementWise implements Loss {
        final Reduction reduction;

        ElementWise(Reduction reduction) {
            Validate.input(reduction != null, "reduction is null; use Reduction.MEAN or Reduction.SUM");
            this.reduction = reduction;
        }

        abstract double value(double x, double y);

        abstract double derivative(double x, double y);

        @Override
        public Result compute(double[] x, double[] y) {
            double[] g = new double[x.length];
            return new Result(computeInto(x, y, g), g);
        }

        double computeInto(double[] x, double[] y, double[] g) {
            sameLength(this, x, y);
            double sum = 0;
            double scale = reduction == Reduction.MEAN ? 1.0 / x.length : 1.0;
            for (int k = 0; k < x.length; k++) {
                sum += value(x[k], y[k]);
                g[k] = derivative(x[k], y[k]) * scale;
            }
            return reduction == Reduction.MEAN ? sum / x.length : sum;
        }
    }

    static final class Mse extends ElementWise {
        Mse(Reduction r) {
            super(r);
        }

        double value(double x, double y) {
            return (x - y) * (x - y);
        }

        double derivative(double x, double y) {
            return 2 * (x - y);
        }

        public String name() {
            return "MSELoss(" + r(reduction) + ")";
        }
    }

    static final class L1 extends ElementWise {
        L1(Reduction r) {
            super(r);
        }

        double value(double x, double y) {
            return Math.abs(x - y);
        }

        double derivative(double x, double y) {
            return Math.signum(x - y);
        }

        public String name() {
            return "L1Loss(" + r(reduction) + ")";
        }
    }

    static final class SmoothL1 extends ElementWise {
        final double beta;

        SmoothL1(double beta, Reduction r) {
            super(r);
            Validate.input(beta >= 0, "SmoothL1Loss: beta must be >= 0, got " + beta);
            this.beta = beta;
        }

        double value(double x, double y) {
            double d = Math.abs(x - y);
            return d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
        }

        double derivative(double x, double y) {
            double d = x - y;
            return d < -beta ? -1 : d > beta ? 1 : beta == 0 ? Math.signum(d) : d / beta;
        }

        public String name() {
            return "SmoothL1Loss(" + r(reduction) + ", beta=" + beta + ")";
        }
    }

    static final class Huber extends ElementWise {
        final double delta;

        Huber(double delta, Reduction r) {
            super(r);
            Validate.input(delta > 0, "HuberLoss: delta must be > 0, got " + delta);
            this.delta = delta;
        }

        double value(double x, double y) {
            double d = Math.abs(x - y);
            return d < delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
        }

        double derivative(double x, double y) {
            double d = x - y;
            return d < -delta ? -delta : d > delta ? delta : d;
        }

        public String name() {
            return "HuberLoss(" + r(reduction) + ", delta=" + delta + ")";
        }
    }

    static final class BceWithLogits extends ElementWise {
        BceWithLogits(Reduction r) {
            super(r);
        }

        double value(double x, double y) {
            return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
        }

        double derivative(double x, double y) {
            return dev.lstm4j.reference.ReferenceLstm.sigmoid(x) - y;
        }

        public String name() {
            return "BCEWithLogitsLoss(" + r(reduction) + ")";
        }
    }

    static final class CrossEntropy implements Loss {
        final int classes, ignoreIndex;
        final Reduction reduction;

        CrossEntropy(int classes, int ignoreIndex, Reduction reduction) {
            Validate.input(classes > 0, "CrossEntropyLoss: classes must be positive, got " + classes);
            Validate.input(reduction != null, "reduction is null; use Reduction.MEAN or Reduction.SUM");
            this.classes = classes;
            this.ignoreIndex = ignoreIndex;
            this.reduction = reduction;
        }

        @Override
        public Result compute(double[] logits, double[] target) {
            Validate.input(logits.length == target.length * classes, name() + ": prediction has " + logits.length
                    + " values, expected (N=" + target.length + ") * (C=" + classes + ")");
            int n = target.length;
            double sum = 0;
            int count = 0;
            double[] g = new double[logits.length];
            for (int row = 0; row < n; row++) {
                int cls = (int) target[row];
                Validate.input(cls == target[row], name() + ": target[" + row + "] = " + target[row] + " is not a class index");
                if (cls == ignoreIndex) {
                    continue;
                }
                Validate.input(cls >= 0 && cls < classes, name() + ": target[" + row + "] = " + cls + " is outside 0.." + (classes - 1));
                int o = row * classes;
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    max = Math.max(max, logits[o + c]);
                }
                double z = 0;
                for (int c = 0; c < classes; c++) {
                    z += Math.exp(logits[o + c] - max);
                }
                double logZ = max + Math.log(z);
                sum += logZ - logits[o + cls];
                for (int c = 0; c < classes; c++) {
                    g[o + c] = Math.exp(logits[o + c] - logZ);
                }
                g[o + cls] -= 1;
                count++;
            }
            if (reduction == Reduction.MEAN) {
                for (int k = 0; k < g.length; k++) {
                    g[k] /= count;
                }
                return new Result(sum / count, g);
            }
            return new Result(sum, g);
        }

        public String name() {
            return "CrossEntropyLoss(" + r(reduction) + ", ignore_index=" + ignoreIndex + ")";
        }
    }
}
