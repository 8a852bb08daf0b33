package dev.lstm4j;

/**
 * What {@code nn.LSTM} returns: {@code output, (h_n, c_n)}.
 *
 * @param output last layer's h for every step: {@code (B, T, D*Hh)} batch-first, {@code (T, B, D*Hh)}
 *               sequence-first, {@code (T, D*Hh)} unbatched
 * @param hN     final h of every layer and direction, {@code (L*D, B, Hh)} or {@code (L*D, Hh)}
 * @param cN     final c of every layer and direction, {@code (L*D, B, H)} or {@code (L*D, H)}
 */
public record LstmOutput(Tensor output, Tensor hN, Tensor cN) {
}
