package dev.lstm4j.trace;

import dev.lstm4j.reference.StepValues;

/**
 * What one cell computed at one time step, and where: every stage of the reference card for one layer,
 * direction and batch row. Shapes as in {@link StepValues}.
 *
 * @param layer     0-based layer
 * @param direction 0 forward, 1 reverse
 * @param batch     row in the batch (0 for unbatched input)
 * @param step      time index t in the input sequence
 * @param values    x, h_{t-1}, c_{t-1}, the four gates (pre-activation and activation), f ⊙ c_{t-1}, i ⊙ g,
 *                  c_t, tanh(c_t), o ⊙ tanh(c_t) and h_t (projected when the model has proj_size)
 */
public record TraceStep(int layer, int direction, int batch, int step, StepValues values) {
}
