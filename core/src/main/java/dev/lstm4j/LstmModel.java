package dev.lstm4j;

import dev.lstm4j.internal.Validate;

import java.util.List;

/**
 * An LSTM with an optional {@code nn.Linear} head applied to every step of its output, as {@link Lstm4j#load}
 * builds it from a weights file. Immutable and thread-safe, like {@link Lstm}.
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
        Validate.model(lstm != null, "LstmModel needs an Lstm");
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

    /** The forward pass and the head's output (null without a head). */
    public record Result(LstmOutput lstm, Tensor head) {
    }

    /** Runs the LSTM from zero state on a batch-first or unbatched input, then the head on every step. */
    public Result forward(Tensor input) {
        return forward(input, ForwardOptions.defaults());
    }

    /**
     * As {@link Lstm#forward(Tensor, ForwardOptions)}, then the head on every step of the output. With lengths the
     * head is applied to every step of the padded output, as {@code head(pad_packed_sequence(...)[0])} is in
     * PyTorch (padded steps give the bias).
     */
    public Result forward(Tensor input, ForwardOptions options) {
        LstmOutput out = lstm.forward(input, options);
        return new Result(out, head == null ? null : head.apply(out.output()));
    }
}
