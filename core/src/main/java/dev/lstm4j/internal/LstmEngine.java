package dev.lstm4j.internal;

import dev.lstm4j.LstmOutput;
import dev.lstm4j.Tensor;

/**
 * One way to compute an LSTM forward pass over canonical, already validated tensors. The reference path
 * ({@link dev.lstm4j.reference.ReferenceLstm}) is the specification; faster engines must give its results.
 *
 * <p>Shapes (legend: B batch, T steps, I input, H hidden, Hh size of h, L layers, D directions):
 * x {@code (B, T, I)}, h0 {@code (L*D, B, Hh)}, c0 {@code (L*D, B, H)}; returns output
 * {@code (B, T, D*Hh)}, h_n {@code (L*D, B, Hh)}, c_n {@code (L*D, B, H)}, all in the model's precision.
 */
public interface LstmEngine {
    LstmOutput forward(Tensor x, Tensor h0, Tensor c0);

    /**
     * As {@link #forward}, over sequences of different lengths with PyTorch's packed-sequence semantics: row b uses
     * steps 0..lengths[b]-1 only, the reverse direction starts at its last valid step, h_n/c_n are each row's state
     * at its own end, and padded outputs are 0.
     *
     * @param lengths (B,), each in 1..T (checked by the caller), or null for all T
     */
    LstmOutput forwardPacked(Tensor x, Tensor h0, Tensor c0, int[] lengths);
}
