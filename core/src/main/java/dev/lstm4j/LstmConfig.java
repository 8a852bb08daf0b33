package dev.lstm4j;

import dev.lstm4j.internal.Validate;

/**
 * The architecture of an {@code nn.LSTM}, as its constructor takes it.
 *
 * @param inputSize     I, features per time step
 * @param hiddenSize    H, size of the cell state c (and of h without projection)
 * @param numLayers     L, stacked layers
 * @param bidirectional D = 2 when true, else 1
 * @param projSize      P, size of h when projected by {@code weight_hr}; 0 for none
 * @param bias          whether {@code bias_ih}/{@code bias_hh} exist
 */
public record LstmConfig(int inputSize, int hiddenSize, int numLayers, boolean bidirectional, int projSize, boolean bias) {
    public LstmConfig {
        Validate.model(inputSize > 0, "inputSize must be positive, got " + inputSize);
        Validate.model(hiddenSize > 0, "hiddenSize must be positive, got " + hiddenSize);
        Validate.model(numLayers > 0, "numLayers must be positive, got " + numLayers);
        Validate.model(projSize >= 0, "projSize must be 0 (none) or positive, got " + projSize);
        Validate.model(projSize < hiddenSize || projSize == 0,
                "projSize must be smaller than hiddenSize (PyTorch's rule), got projSize=" + projSize + " hiddenSize=" + hiddenSize);
    }

    /** A single-layer, unidirectional LSTM with bias and no projection. */
    public static LstmConfig of(int inputSize, int hiddenSize) {
        return new LstmConfig(inputSize, hiddenSize, 1, false, 0, true);
    }

    /** D: 2 for bidirectional, else 1. */
    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** Size of h: P when projected, else H. */
    public int outputHiddenSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    /** Features per step of {@code output}: D × size of h. */
    public int outputSize() {
        return directions() * outputHiddenSize();
    }

    /** Input size of layer {@code layer}: I for the first, D × size of h after. */
    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : outputSize();
    }

    /** PyTorch's key suffix for a layer and direction: {@code l0}, {@code l1_reverse}. */
    public static String suffix(int layer, int direction) {
        return "l" + layer + (direction == 1 ? "_reverse" : "");
    }

    @Override
    public String toString() {
        return "LSTM(input_size=" + inputSize + ", hidden_size=" + hiddenSize + ", num_layers=" + numLayers
                + ", bidirectional=" + bidirectional + (projSize > 0 ? ", proj_size=" + projSize : "")
                + (bias ? "" : ", bias=False") + ")";
    }
}
