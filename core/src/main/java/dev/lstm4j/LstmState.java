package dev.lstm4j;

import dev.lstm4j.internal.Validate;

/**
 * Hidden and cell state: h is the short-term memory, c the long-term memory.
 *
 * <p>Shapes as in PyTorch: h {@code (L*D, B, Hh)}, c {@code (L*D, B, H)}, or without the B dimension for
 * unbatched input. Row {@code layer*D + direction} belongs to that layer and direction.
 */
public record LstmState(Tensor h, Tensor c) {
    public LstmState {
        Validate.input(h != null && c != null, "LstmState needs both h and c");
    }
}
