package dev.lstm4j;

import dev.lstm4j.internal.Readouts;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.nn.Embedding;
import dev.lstm4j.nn.Layer;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A whole model, as {@link Lstm4j#load} builds it from a weights file: {@code [embedding] → lstm → readout → head
 * layers}, described by its {@link ModelSpec}. {@link #forward} returns what PyTorch's {@code model(x)} returns
 * ({@link Result#y()}) beside the LSTM's {@code output, (h_n, c_n)}. Immutable and thread-safe, like {@link Lstm}.
 *
 * <p>The six-argument constructor keeps the earlier shape of this type: an LSTM with an optional {@code nn.Linear}
 * on every step ({@code lstm > all > fc}).
 */
public final class LstmModel {
    private final ModelSpec spec;
    private final Embedding embedding;
    private final Lstm lstm;
    private final List<Layer> layers;
    private final String prefix;
    private final boolean cell;
    private final List<String> ignoredKeys;

    /**
     * An LSTM with an optional Linear head applied to every step.
     *
     * @param lstm        the LSTM
     * @param head        the head, or null
     * @param prefix      key prefix of the LSTM tensors in the file, e.g. {@code "lstm."} ("" for none)
     * @param headPrefix  key prefix of the head, e.g. {@code "fc."}, or null
     * @param cell        true when the weights came from an {@code nn.LSTMCell} (keys without {@code _l0})
     * @param ignoredKeys tensors in the file that belong to neither, in file order
     */
    public LstmModel(Lstm lstm, Linear head, String prefix, String headPrefix, boolean cell, List<String> ignoredKeys) {
        this(legacySpec(prefix, head == null ? null : headPrefix == null ? "head" : headPrefix), null, lstm,
                head == null ? List.of() : List.of(head), prefix, cell, ignoredKeys);
    }

    /**
     * A whole model.
     *
     * @param spec        its names and keywords, in order; the head layers follow {@code spec.head()} one for one
     * @param embedding   the embedding before the LSTM, or null (then {@code spec.embedding()} is null)
     * @param lstm        the LSTM
     * @param layers      the head layers after the readout, in order
     * @param prefix      key prefix of the LSTM tensors in the file ("" for none)
     * @param cell        true when the LSTM came from an {@code nn.LSTMCell}
     * @param ignoredKeys tensors of the file that the model does not use (empty unless loading allowed them)
     * @throws ModelException when sizes do not chain, precisions mix, or the layers do not match the spec
     */
    public LstmModel(ModelSpec spec, Embedding embedding, Lstm lstm, List<Layer> layers, String prefix, boolean cell,
                     List<String> ignoredKeys) {
        Validate.model(lstm != null, "LstmModel needs an Lstm");
        Validate.model(spec != null && layers != null, "LstmModel needs a spec and a list of head layers");
        Validate.model((embedding == null) == (spec.embedding() == null), "the spec " + (embedding == null ? "names an embedding '"
                + spec.embedding() + "' but none was given" : "names no embedding but one was given"));
        Validate.model(layers.size() == spec.head().size(), "the spec has " + spec.head().size() + " head layers (" + spec.head()
                + ") but " + layers.size() + " were given");
        this.spec = spec;
        this.embedding = embedding;
        this.lstm = lstm;
        this.layers = List.copyOf(layers);
        this.prefix = Objects.requireNonNullElse(prefix, "");
        this.cell = cell;
        this.ignoredKeys = List.copyOf(ignoredKeys == null ? List.of() : ignoredKeys);
        Precision p = lstm.precision();
        if (embedding != null) {
            Validate.model(embedding.embeddingDim() == lstm.config().inputSize(), name(spec.embedding()) + "weight: embedding_dim is "
                    + embedding.embeddingDim() + " but the LSTM's input_size is " + lstm.config().inputSize());
            Validate.model(embedding.precision() == p, name(spec.embedding()) + "weight: the embedding computes in "
                    + embedding.precision() + " but the LSTM in " + p + "; save both in one dtype");
        }
        int features = lstm.config().outputSize();
        for (int k = 0; k < this.layers.size(); k++) {
            Layer l = this.layers.get(k);
            String n = spec.head().get(k);
            if (l instanceof Linear lin) {
                Validate.model(lin.inFeatures() == features, name(n) + "weight: expected in_features = " + (k == 0 ? "D*"
                        + (lstm.config().projSize() > 0 ? "proj" : "hidden") + " = " + features + " to take the readout '"
                        + spec.readout().keyword() + "'" : features + " to take the output of '" + spec.head().get(k - 1) + "'")
                        + ", file has " + lin.inFeatures());
                Validate.model(lin.precision() == p, name(n) + "weight: the layer computes in " + lin.precision() + " but the LSTM in "
                        + p + "; save all in one dtype");
            }
            try {
                features = l.outFeatures(features);
            } catch (ModelException e) {
                throw new ModelException("head layer '" + n + "': " + e.getMessage());
            }
        }
    }

    private static String name(String token) {
        return ModelSpec.baseName(token) + ".";
    }

    private static ModelSpec legacySpec(String prefix, String headPrefix) {
        ModelSpec.Builder b = ModelSpec.builder().lstm(specName(prefix)).readout(Readout.ALL);
        if (headPrefix != null) {
            b.layer(specName(headPrefix));
        }
        return b.build();
    }

    /** The spec name for a key prefix: {@code "fc."} is {@code fc}; the empty prefix is {@code lstm}. */
    static String specName(String prefix) {
        if (prefix == null || prefix.isEmpty()) {
            return "lstm";
        }
        return prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
    }

    /** The model's spec: one line that {@code --model} and {@link LoadOptions#withSpec} accept. */
    public ModelSpec spec() {
        return spec;
    }

    /** The embedding before the LSTM, or null. */
    public Embedding embedding() {
        return embedding;
    }

    public Lstm lstm() {
        return lstm;
    }

    public Readout readout() {
        return spec.readout();
    }

    /** The head layers after the readout, in order (their names are {@code spec().head()}). */
    public List<Layer> layers() {
        return layers;
    }

    /** The head when it is exactly one {@code nn.Linear}, else null (see {@link #layers()}). */
    public Linear head() {
        return layers.size() == 1 && layers.get(0) instanceof Linear l ? l : null;
    }

    /** The key prefix of {@link #head()}, e.g. {@code "fc."}, or null. */
    public String headPrefix() {
        return head() == null ? null : ModelSpec.baseName(spec.head().get(0)) + ".";
    }

    /** Key prefix of the LSTM tensors, e.g. {@code "lstm."} ("" for none). */
    public String prefix() {
        return prefix;
    }

    /** True when the weights came from an {@code nn.LSTMCell}. */
    public boolean cell() {
        return cell;
    }

    /** Tensors of the file the model does not use: empty unless loaded with {@link LoadOptions#allowingUnused()}. */
    public List<String> ignoredKeys() {
        return ignoredKeys;
    }

    /** The same model on another path: {@code withEngine(EngineChoice.REFERENCE)} for the readable one. */
    public LstmModel withEngine(EngineChoice choice) {
        Lstm other = lstm.withEngine(choice);
        return other == lstm ? this : new LstmModel(spec, embedding, other, layers, prefix, cell, ignoredKeys);
    }

    /**
     * One forward pass.
     *
     * @param lstm          the LSTM's {@code output, (h_n, c_n)}
     * @param readout       what the readout took from it ({@code output} itself for {@code all})
     * @param layerOutputs  each head layer's output, in order
     * @param y             what the model returns, PyTorch's {@code model(x)}: the last layer's output, or the readout
     *                      when there is no head
     */
    public record Result(LstmOutput lstm, Tensor readout, List<Tensor> layerOutputs, Tensor y) {
        public Result {
            layerOutputs = List.copyOf(layerOutputs);
        }

        /** The head's output (the same as {@link #y()}), or null when the model has no head layers. */
        public Tensor head() {
            return layerOutputs.isEmpty() ? null : y;
        }
    }

    /** Runs the model from zero state on a batch-first or unbatched input (token ids when it has an embedding). */
    public Result forward(Tensor input) {
        return forward(input, ForwardOptions.defaults());
    }

    /**
     * As {@link Lstm#forward(Tensor, ForwardOptions)}, with the embedding first and the readout and head after. The
     * input is token ids ({@code (B, T)}, {@code (T, B)} with {@link Layout#SEQ_FIRST}, or unbatched {@code (T,)};
     * int64 or int32) when the model has an embedding. With lengths, {@code all} runs the head on every step of the
     * padded output, as {@code head(pad_packed_sequence(...)[0])} does in PyTorch (padded steps give the head of 0);
     * {@code last-valid}, {@code mean} and {@code max} use each row's valid steps.
     *
     * @throws InputException when the input does not fit the model, or an id is out of range (named with its position)
     */
    public Result forward(Tensor input, ForwardOptions options) {
        Validate.input(options != null, "options are null; use ForwardOptions.defaults()");
        Tensor x = input;
        if (embedding != null) {
            Validate.input(input != null && (input.rank() == 1 || input.rank() == 2), "input: this model starts with an embedding ("
                    + spec.embedding() + "), so it takes token ids (B, T), (T, B) with seq-first, or (T,) unbatched; got "
                    + (input == null ? "null" : "shape " + Tensor.shapeString(input.shape())));
            x = embedding.lookup(input);
        }
        LstmOutput out = lstm.forward(x, options);
        boolean unbatched = x.rank() == 2;
        boolean seqFirst = !unbatched && options.layout() == Layout.SEQ_FIRST;
        Tensor r = Readouts.apply(spec.readout(), out, lstm.config(), unbatched, seqFirst, options.lengths());
        List<Tensor> outs = new ArrayList<>(layers.size());
        Tensor y = r;
        for (int k = 0; k < layers.size(); k++) {
            try {
                y = layers.get(k).apply(y);
            } catch (InputException e) {
                throw new InputException("head layer '" + spec.head().get(k) + "': " + e.getMessage());
            }
            outs.add(y);
        }
        return new Result(out, r, outs, y);
    }

    @Override
    public String toString() {
        return "LstmModel[" + spec + "]";
    }
}
