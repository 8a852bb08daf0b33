package dev.lstm4j.nn;

import dev.lstm4j.DType;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;

/**
 * {@code nn.LayerNorm(F)} over the last dimension: {@code y = (x − mean) / √(var + eps) · weight + bias}, var
 * the biased variance. Weight and bias are null for {@code elementwise_affine=False}. Immutable and thread-safe.
 */
public final class LayerNorm implements Layer {
    private final Tensor weight;
    private final Tensor bias;
    private final double eps;
    private final int features;
    private final double[] w;
    private final double[] b;

    /**
     * @param features normalized_shape (a single size; the last dimension)
     * @param weight   {@code (F,)} or null
     * @param bias     {@code (F,)} or null
     * @param eps      PyTorch's default is 1e-5
     */
    public LayerNorm(int features, Tensor weight, Tensor bias, double eps) {
        Validate.model(features > 0 || weight != null, "layer norm: give its size");
        this.features = weight != null ? weight.size(0) : features;
        if (weight != null) {
            Validate.model(weight.rank() == 1, "layer norm weight: expected a 1-D (normalized_shape,) tensor, got " + weight);
        }
        if (bias != null) {
            Validate.shape("layer norm bias", bias, "(normalized_shape=" + this.features + ",)", this.features);
        }
        Validate.model(eps > 0 && Double.isFinite(eps), "layer norm: eps must be positive, got " + eps);
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
        this.w = weight == null ? null : weight.toDoubleArray();
        this.b = bias == null ? null : bias.toDoubleArray();
    }

    public int features() {
        return features;
    }

    public double eps() {
        return eps;
    }

    /** May be null. */
    public Tensor weight() {
        return weight;
    }

    /** May be null. */
    public Tensor bias() {
        return bias;
    }

    @Override
    public String describe() {
        return "LayerNorm((" + features + ",), eps=" + eps + ", elementwise_affine=" + (weight != null ? "True" : "False") + ")";
    }

    @Override
    public int outFeatures(int inFeatures) {
        Validate.model(inFeatures == features, "layer norm: normalized_shape is (" + features + ",) but its input has "
                + inFeatures + " features");
        return inFeatures;
    }

    @Override
    public Tensor apply(Tensor input) {
        Validate.input(input.rank() >= 1 && input.size(-1) == features, "layer norm: expected input with last dimension "
                + features + ", got shape " + Tensor.shapeString(input.shape()));
        Precision p = input.dtype() == DType.F64 ? Precision.F64 : Precision.F32;
        double[] x = input.to(p.dtype()).toDoubleArray();
        int n = features;
        for (int r = 0; r < x.length; r += n) {
            // mean and biased variance of the row
            double mean = 0;
            for (int k = 0; k < n; k++) {
                mean += x[r + k];
            }
            mean /= n;
            double var = 0;
            for (int k = 0; k < n; k++) {
                double d = x[r + k] - mean;
                var += d * d;
            }
            var /= n;
            double inv = 1 / Math.sqrt(var + eps);
            for (int k = 0; k < n; k++) {
                double y = (x[r + k] - mean) * inv;
                if (w != null) {
                    y = y * w[k];
                }
                if (b != null) {
                    y = y + b[k];
                }
                x[r + k] = p.round(y);
            }
        }
        return Tensor.wrap(p.dtype(), input.shape(), x);
    }
}
