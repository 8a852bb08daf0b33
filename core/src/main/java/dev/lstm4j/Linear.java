package dev.lstm4j;

import dev.lstm4j.internal.Validate;

/**
 * An {@code nn.Linear} layer: {@code y = W h + b}, applied to the last dimension of its input. Immutable and thread-safe.
 *
 * <p>Shapes: weight {@code (O, F)}, bias {@code (O,)} or null; input {@code (..., F)} gives {@code (..., O)}.
 */
public final class Linear implements dev.lstm4j.nn.Layer {
    private final Tensor weight;
    private final Tensor bias;
    private final Precision precision;
    private final double[] w;
    private final double[] b;

    /**
     * @throws ModelException when shapes do not fit or dtypes mix float64 with others
     */
    public Linear(Tensor weight, Tensor bias) {
        Validate.model(weight != null && weight.rank() == 2, "linear weight: expected a 2-D (out_features, in_features) tensor, got "
                + (weight == null ? "none" : Tensor.shapeString(weight.shape())));
        if (bias != null) {
            Validate.shape("linear bias", bias, "(out_features=" + weight.size(0) + ",)", weight.size(0));
            Validate.model((bias.dtype() == DType.F64) == (weight.dtype() == DType.F64), "linear: weight is " + weight.dtype()
                    + " but bias is " + bias.dtype() + "; save both in one dtype");
        }
        this.weight = weight;
        this.bias = bias;
        this.precision = weight.dtype() == DType.F64 ? Precision.F64 : Precision.F32;
        this.w = weight.toDoubleArray();
        this.b = bias == null ? null : bias.toDoubleArray();
    }

    public int inFeatures() {
        return weight.size(1);
    }

    public int outFeatures() {
        return weight.size(0);
    }

    public Tensor weight() {
        return weight;
    }

    /** May be null. */
    public Tensor bias() {
        return bias;
    }

    public Precision precision() {
        return precision;
    }

    @Override
    public String describe() {
        return "Linear(in_features=" + inFeatures() + ", out_features=" + outFeatures() + ", bias=" + (bias != null ? "True" : "False") + ")";
    }

    @Override
    public int outFeatures(int inFeatures) {
        Validate.model(inFeatures == inFeatures(), "linear: in_features is " + inFeatures() + " but its input has " + inFeatures
                + " features");
        return outFeatures();
    }

    /**
     * y = W h + b for every row of the last dimension.
     *
     * @throws InputException when the last dimension is not {@link #inFeatures()}
     */
    public Tensor apply(Tensor input) {
        int f = inFeatures();
        int o = outFeatures();
        Validate.input(input.rank() >= 1 && input.size(-1) == f, "linear head: expected input with last dimension in_features="
                + f + ", got shape " + Tensor.shapeString(input.shape()));
        double[] x = input.to(precision.dtype()).toDoubleArray();
        int rows = x.length / f;
        double[] y = new double[rows * o];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < o; j++) {
                double acc = 0;
                for (int k = 0; k < f; k++) {
                    acc += w[j * f + k] * x[r * f + k];
                }
                // as in PyTorch: bias added to the rounded product
                double v = precision.round(acc);
                y[r * o + j] = b == null ? v : precision.round(v + b[j]);
            }
        }
        int[] shape = input.shape();
        shape[shape.length - 1] = o;
        return Tensor.wrap(precision.dtype(), shape, y);
    }
}
