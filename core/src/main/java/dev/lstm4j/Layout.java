package dev.lstm4j;

/** Where the batch dimension of a 3-D input sits, as {@code nn.LSTM(batch_first=...)} says. */
public enum Layout {
    /** {@code (B, T, I)}: {@code batch_first=True}. */
    BATCH_FIRST,
    /** {@code (T, B, I)}: PyTorch's default. */
    SEQ_FIRST
}
