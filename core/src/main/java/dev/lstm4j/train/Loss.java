package dev.lstm4j.train;

/**
 * A loss and its gradient, as PyTorch's {@code nn} losses define them. Immutable and thread-safe.
 *
 * <p>Shapes: prediction and target are flat row-major arrays of the same length (N elements), except for
 * {@link #crossEntropy}, whose prediction is (N, C) logits and whose target is (N,) class indices.
 */
public interface Loss {
    /**
     * The value and {@code d value / d prediction}.
     *
     * @param gradient same length as the prediction
     */
    record Result(double value, double[] gradient) {
    }

    /** Loss value and gradient. */
    Result compute(double[] prediction, double[] target);

    /** PyTorch's name, e.g. {@code MSELoss(reduction='mean')}. */
    String name();

    /** {@code nn.MSELoss}: {@code (x − y)²}; gradient {@code 2(x − y)} (÷ N for the mean). */
    static Loss mse(Reduction reduction) {
        return new LossFunctions.Mse(reduction);
    }

    /** {@code nn.L1Loss}: {@code |x − y|}; gradient {@code sign(x − y)}, 0 where x = y. */
    static Loss l1(Reduction reduction) {
        return new LossFunctions.L1(reduction);
    }

    /**
     * {@code nn.SmoothL1Loss(beta)}: {@code 0.5 d² / β} where {@code |d| < β}, else {@code |d| − 0.5 β}, d = x − y;
     * β = 0 is L1.
     */
    static Loss smoothL1(double beta, Reduction reduction) {
        return new LossFunctions.SmoothL1(beta, reduction);
    }

    /** {@code nn.HuberLoss(delta)}: {@code 0.5 d²} where {@code |d| < δ}, else {@code δ (|d| − 0.5 δ)}. */
    static Loss huber(double delta, Reduction reduction) {
        return new LossFunctions.Huber(delta, reduction);
    }

    /**
     * {@code nn.BCEWithLogitsLoss}: {@code max(x, 0) − x y + log(1 + e^{−|x|})}, computed without overflow; gradient
     * {@code σ(x) − y}.
     */
    static Loss bceWithLogits(Reduction reduction) {
        return new LossFunctions.BceWithLogits(reduction);
    }

    /**
     * {@code nn.CrossEntropyLoss(ignore_index)} on (N, C) logits and (N,) class indices (as doubles):
     * {@code −log softmax(x_n)[y_n]}; rows whose target is {@code ignoreIndex} add nothing, and the mean divides by the
     * rows that are not ignored (NaN when every row is, as in PyTorch). Gradient {@code softmax(x_n) − onehot(y_n)}.
     */
    static Loss crossEntropy(int classes, int ignoreIndex, Reduction reduction) {
        return new LossFunctions.CrossEntropy(classes, ignoreIndex, reduction);
    }
}
