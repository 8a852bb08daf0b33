package dev.lstm4j;

import dev.lstm4j.reference.StepObserver;

import java.util.Arrays;

/**
 * How to run one forward pass: the input's layout, the initial state, each sequence's length and an observer of
 * every step. Immutable and thread-safe; every {@code with…} returns a new value.
 *
 * <pre>{@code
 * model.forward(x, ForwardOptions.defaults().withLayout(Layout.SEQ_FIRST).withInitial(state).withLengths(5, 2, 4));
 * }</pre>
 */
public final class ForwardOptions {
    private static final ForwardOptions DEFAULTS = new ForwardOptions(Layout.BATCH_FIRST, null, null, null);

    private final Layout layout;
    private final LstmState initial;
    private final int[] lengths;
    private final StepObserver observer;

    private ForwardOptions(Layout layout, LstmState initial, int[] lengths, StepObserver observer) {
        this.layout = layout;
        this.initial = initial;
        this.lengths = lengths;
        this.observer = observer;
    }

    /** Batch-first input, zero initial state, every row all T steps, no observer. */
    public static ForwardOptions defaults() {
        return DEFAULTS;
    }

    /** Where the batch dimension of a 3-D input is (default {@link Layout#BATCH_FIRST}); 2-D input ignores it. */
    public ForwardOptions withLayout(Layout layout) {
        if (layout == null) {
            throw new IllegalArgumentException("layout is null; use Layout.BATCH_FIRST or Layout.SEQ_FIRST");
        }
        return new ForwardOptions(layout, initial, lengths, observer);
    }

    /** Start from h0 and c0 in PyTorch's shapes, as {@code lstm(x, (h0, c0))}; null for zeros (the default). */
    public ForwardOptions withInitial(LstmState initial) {
        return new ForwardOptions(layout, initial, lengths, observer);
    }


    /**
     * Sequences of different lengths, one per batch row, each in 1..T, run as PyTorch runs a packed sequence
     * ({@code pack_padded_sequence(x, lengths, enforce_sorted=False)}): see {@code docs/variable-length.md}. Null: every row has all T steps (the default).
     */
    public ForwardOptions withLengths(int... lengths) {
        return new ForwardOptions(layout, initial, lengths == null ? null : lengths.clone(), observer);
    }


    /** Report every step's gates and states to {@code observer}; the pass then runs on the reference path. Null for none (the default). */
    public ForwardOptions withObserver(StepObserver observer) {
        return new ForwardOptions(layout, initial, lengths, observer);
    }


    public Layout layout() {
        return layout;
    }

    /** The initial state, or null for zeros. */
    public LstmState initial() {
        return initial;
    }

    /** A copy of the lengths, or null when every row has all T steps. */
    public int[] lengths() {
        return lengths == null ? null : lengths.clone();
    }

    /** The observer, or null. */
    public StepObserver observer() {
        return observer;
    }

    @Override
    public String toString() {
        return "ForwardOptions[layout=" + layout + ", initial=" + (initial == null ? "zeros" : "given")
                + ", lengths=" + (lengths == null ? "all" : Arrays.toString(lengths)) + ", observer=" + (observer != null) + "]";
    }
}
