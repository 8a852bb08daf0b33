/**
 * The layers a model may have around its LSTM, as PyTorch's {@code torch.nn} computes them at inference:
 * {@link dev.lstm4j.nn.Embedding} before it, and after its readout the head layers ({@link dev.lstm4j.Linear},
 * {@link dev.lstm4j.nn.LayerNorm}, {@link dev.lstm4j.nn.BatchNorm1d} in eval mode, and the parameter-free
 * {@link dev.lstm4j.nn.Activation}s). Every layer is immutable and thread-safe. See {@code docs/models.md}.
 */
package dev.lstm4j.nn;
