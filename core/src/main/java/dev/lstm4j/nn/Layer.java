package dev.lstm4j.nn;

import dev.lstm4j.Tensor;

/**
 * One head layer of a model: applied to the last dimension of its input, as {@code torch.nn} layers are.
 * Implementations are immutable and thread-safe.
 */
public interface Layer {
    /** PyTorch's repr of the layer, e.g. {@code Linear(in_features=8, out_features=1, bias=True)}. */
    String describe();

    /**
     * The size of the last dimension this layer gives for an input whose last dimension is {@code inFeatures}.
     *
     * @throws dev.lstm4j.ModelException when the layer cannot take that size
     */
    int outFeatures(int inFeatures);

    /**
     * The layer's output for a float32 or float64 input of shape {@code (..., F)}, computed in the input's precision
     * (each result rounded to it, as PyTorch's float32 kernels give float32 values).
     *
     * @throws dev.lstm4j.InputException when the input does not fit
     */
    Tensor apply(Tensor input);
}
