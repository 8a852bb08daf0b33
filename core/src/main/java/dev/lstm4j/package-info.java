/**
 * lstm4j's API: start at {@link dev.lstm4j.Lstm4j} ({@code Lstm4j.load(path)}), which gives an
 * {@link dev.lstm4j.LstmModel}; run it with {@code forward(x)} or {@code forward(x, ForwardOptions)}, or one step at a
 * time with an {@link dev.lstm4j.LstmSession}. {@link dev.lstm4j.Lstm} is {@code nn.LSTM}, built from
 * {@link dev.lstm4j.LstmConfig} and {@link dev.lstm4j.CellWeights} in PyTorch's layout; {@link dev.lstm4j.Tensor} is a
 * small immutable float tensor with a shape. Errors are unchecked {@link dev.lstm4j.Lstm4jException}s.
 *
 * <p>Every type here says whether it is immutable and thread-safe. Packages under {@code dev.lstm4j.internal} are
 * not API: don't depend on them, they change without notice.
 */
package dev.lstm4j;
