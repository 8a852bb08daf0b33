package dev.lstm4j;

import java.util.Locale;

/**
 * What a model takes from its LSTM for the head, written in a model spec by its keyword. With lengths (packed
 * sequences) "valid steps" of row b are 0..lengths[b]-1; without, all T steps.
 */
public enum Readout {
    /** {@code out}: every step, {@code (B, T, D*Hh)}; the head runs on each step. */
    ALL("all", "out"),
    /** {@code out[:, -1]}: the last time step of the padded output, {@code (B, D*Hh)}. */
    LAST("last", "out[:, -1]"),
    /**
     * {@code out[b, lengths[b] - 1]}: each row's last valid step, {@code (B, D*Hh)}; for a bidirectional LSTM the
     * reverse half there is the reverse direction's last step to run (its first in reading order).
     */
    LAST_VALID("last-valid", "out[b, lengths[b] - 1]"),
    /** {@code h_n[-1]}, or {@code cat((h_n[-2], h_n[-1]), 1)} for a bidirectional LSTM: {@code (B, D*Hh)}. */
    HN("hn", "h_n[-1] (cat(h_n[-2], h_n[-1]) when bidirectional)"),
    /** The mean of {@code out} over each row's valid steps, {@code (B, D*Hh)}. */
    MEAN("mean", "out.sum(1) / lengths"),
    /** The maximum of {@code out} over each row's valid steps, {@code (B, D*Hh)}. */
    MAX("max", "out.max(1) over valid steps");

    private final String keyword;
    private final String torch;

    Readout(String keyword, String torch) {
        this.keyword = keyword;
        this.torch = torch;
    }

    /** The spec keyword, e.g. {@code last-valid}. */
    public String keyword() {
        return keyword;
    }

    /** The PyTorch expression this readout computes. */
    public String torch() {
        return torch;
    }

    /** The readout a spec keyword names, or null. */
    public static Readout ofKeyword(String word) {
        String w = word.toLowerCase(Locale.ROOT);
        for (Readout r : values()) {
            if (r.keyword.equals(w)) {
                return r;
            }
        }
        return null;
    }

    /** Whether the readout keeps the time dimension (only {@link #ALL}). */
    public boolean perStep() {
        return this == ALL;
    }
}
