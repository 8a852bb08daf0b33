package dev.lstm4j.train;

/** How a loss reduces its element-wise values, as PyTorch's {@code reduction=} argument ({@code 'none'} is not offered). */
public enum Reduction {
    /** The mean over elements (for cross-entropy: over targets that are not ignored). */
    MEAN,
    /** The sum over elements. */
    SUM
}
