package dev.lstm4j;

import dev.lstm4j.internal.Validate;
import dev.lstm4j.reference.StepObserver;

import java.util.List;

/**
 * An LSTM with an optional {@code nn.Linear} head applied to every step of its output, as loaded from a
 * weights file by {@link dev.lstm4j.internal.io.ModelLoader}.
 *
 * @param lstm        the LSTM
 * @param head        the head, or null
 * @param prefix      key prefix of the LSTM tensors in the file, e.g. {@code "lstm."} ("" for none)
 * @param headPrefix  key prefix of the head, e.g. {@code "fc."}, or null
 * @param cell        true when the weights came from an {@code nn.LSTMCell} (keys without {@code _l0})
 * @param ignoredKeys tensors in the file that belong to neither, in file order
 */
public record LstmModel(Lstm lstm, Linear head, String prefix, String headPrefix, boolean cell, List<String> ignoredKeys) {
    public LstmModel {
        ignoredKeys = List.copyOf(ignoredKeys);
        if (head != null) {
            Validate.model(head.inFeatures() == lstm.config().outputSize(), headPrefix + "weight: expected in_features = D*"
                    + (lstm.config().projSize() > 0 ? "proj" : "hidden") + " = " + lstm.config().outputSize()
                    + " to take the LSTM's output, file has " + head.inFeatures());
            Validate.model(head.precision() == lstm.precision(), headPrefix + "weight: the head computes in " + head.precision()
                    + " but the LSTM in " + lstm.precision() + "; save both in one dtype");
        }
    }

    /** The same model on another path: {@code withEngine(EngineChoice.REFERENCE)} for the readable one. */
    public LstmModel withEngine(EngineChoice choice) {
        Lstm other = lstm.withEngine(choice);
        return other == lstm ? this : new LstmModel(other, head, prefix, headPrefix, cell, ignoredKeys);
    }

    /** The forward pass and the head's output. */
    public record Result(LstmOutput lstm, Tensor head) {
    }

    /** Runs the LSTM and, when there is one, the head on every step of its output. */
    public Result forward(Tensor input, Layout layout, LstmState initial) {
        return forward(input, layout, initial, null);
    }

    /** As {@link #forward(Tensor, Layout, LstmState)}, reporting every step to {@code observer} when not null. */
    public Result forward(Tensor input, Layout layout, LstmState initial, StepObserver observer) {
        return forward(input, layout, initial, null, observer);
    }

    /**
     * As {@link Lstm#forward(Tensor, Layout, LstmState, int[], StepObserver)}; the head is applied to every step of
     * the padded output, as {@code head(pad_packed_sequence(...)[0])} is in PyTorch (padded steps give the bias).
     */
    public Result forward(Tensor input, Layout layout, LstmState initial, int[] lengths, StepObserver observer) {
        LstmOutput out = lstm.forward(input, layout, initial, lengths, observer);
        return new Result(out, head == null ? null : head.apply(out.output()));
    }
}
