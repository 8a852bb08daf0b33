package dev.lstm4j.train;

import dev.lstm4j.Tensor;

/**
 * One trainable tensor and its gradient, as {@code nn.Parameter} and its {@code .grad}: a PyTorch state-dict
 * name, a shape and two live flat arrays (row-major) that the backward pass adds into and the optimizer updates.
 * Mutable and not thread-safe.
 */
public final class Parameter {
    private final String name;
    private final int[] shape;
    private final double[] value;
    private final double[] grad;

    /** Takes {@code value} as it is (no copy); the gradient starts at zero. */
    public Parameter(String name, int[] shape, double[] value) {
        if (Tensor.elementCount(shape) != value.length) {
            throw new IllegalArgumentException(name + ": shape " + Tensor.shapeString(shape) + " needs " + Tensor.elementCount(shape)
                    + " values, got " + value.length);
        }
        this.name = name;
        this.shape = shape.clone();
        this.value = value;
        this.grad = new double[value.length];
    }

    /** The state-dict key, e.g. {@code lstm.weight_ih_l0} or {@code fc.bias}. */
    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int size() {
        return value.length;
    }

    /** The live values (not a copy). */
    public double[] value() {
        return value;
    }

    /** The live gradient (not a copy); the backward pass accumulates into it. */
    public double[] grad() {
        return grad;
    }

    /** {@code p.grad.zero_()}. */
    public void zeroGrad() {
        java.util.Arrays.fill(grad, 0);
    }

    @Override
    public String toString() {
        return name + Tensor.shapeString(shape);
    }
}
