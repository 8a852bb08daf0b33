package dev.lstm4j.nn;

import dev.lstm4j.DType;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;

/**
 * {@code nn.BatchNorm1d(C)} in eval mode, with its running statistics:
 * {@code y = (x − running_mean) / √(running_var + eps) · weight + bias}, over the features of a {@code (N, C)} input.
 * A 3-D input is refused: PyTorch's BatchNorm1d reads {@code (N, C, L)}, channels in dimension 1, which is not the
 * features of a per-step LSTM output. Weight and bias are null for {@code affine=False}. Immutable and thread-safe.
 */
public final class BatchNorm1d implements Layer {
    private final int features;
    private final double[] mean;
    private final double[] var;
    private final double[] w;
    private final double[] b;
    private final double eps;

    /**
     * @throws dev.lstm4j.ModelException when the statistics and parameters are not 1-D tensors of one size
     */
    public BatchNorm1d(Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias, double eps) {
        Validate.model(runningMean != null && runningMean.rank() == 1, "batch norm running_mean: expected a 1-D (num_features,) tensor, got "
                + runningMean);
        this.features = runningMean.size(0);
        Validate.model(runningVar != null, "batch norm: running_var is missing");
        Validate.shape("batch norm running_var", runningVar, "(num_features=" + features + ",)", features);
        if (weight != null) {
            Validate.shape("batch norm weight", weight, "(num_features=" + features + ",)", features);
        }
        if (bias != null) {
            Validate.shape("batch norm bias", bias, "(num_features=" + features + ",)", features);
        }
        Validate.model(eps > 0 && Double.isFinite(eps), "batch norm: eps must be positive, got " + eps);
        this.mean = runningMean.toDoubleArray();
        this.var = runningVar.toDoubleArray();
        this.w = weight == null ? null : weight.toDoubleArray();
        this.b = bias == null ? null : bias.toDoubleArray();
        this.eps = eps;
    }

    public int features() {
        return features;
    }

    public double eps() {
        return eps;
    }

    @Override
    public String describe() {
        return "BatchNorm1d(" + features + ", eps=" + Erf.py(eps) + ", affine=" + (w != null ? "True" : "False") + ") in eval mode";
    }

    @Override
    public int outFeatures(int inFeatures) {
        Validate.model(inFeatures == features, "batch norm: num_features is " + features + " but its input has " + inFeatures + " features");
        return inFeatures;
    }

    @Override
    public Tensor apply(Tensor input) {
        Validate.input(input.rank() >= 1 && input.rank() <= 2 && input.size(-1) == features, "batch norm: expected a (N, "
                + features + ") input, got shape " + Tensor.shapeString(input.shape())
                + (input.rank() == 3 ? "; BatchNorm1d reads a 3-D input as (N, C, L), so it follows a readout that gives one"
                + " vector per sequence (last, last-valid, hn, mean, max), not 'all'" : ""));
        Precision p = input.dtype() == DType.F64 ? Precision.F64 : Precision.F32;
        double[] x = input.to(p.dtype()).toDoubleArray();
        for (int r = 0; r < x.length; r += features) {
            for (int k = 0; k < features; k++) {
                double y = (x[r + k] - mean[k]) / Math.sqrt(var[k] + eps);
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
