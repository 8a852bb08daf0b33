package dev.lstm4j;

import dev.lstm4j.internal.LstmEngine;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.internal.kernel.FastLstm;
import dev.lstm4j.reference.ReferenceLstm;
import dev.lstm4j.reference.StepObserver;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * An {@code nn.LSTM} (or {@code nn.LSTMCell} run over a sequence) for inference: layers, bidirectional,
 * projection, optional bias, batch-first or sequence-first, batched or unbatched input, given or zero
 * initial state. Results match PyTorch's within the tolerances stated in the README.
 *
 * <p>A model whose tensors are all float64 computes in float64; any other (float32, float16, bfloat16)
 * computes in float32, as PyTorch does after {@code model.float()}.
 *
 * <p>Legend: B batch, T steps, I input, H hidden, P projection, Hh = P if projected else H, L layers,
 * D directions.
 */
public final class Lstm {
    private final LstmConfig config;
    private final List<CellWeights> cells;
    private final Precision precision;
    private final ReferenceLstm reference;
    private final LstmEngine engine;
    private final EngineChoice choice;

    /**
     * On the fast path ({@link EngineChoice#FAST}).
     *
     * @param cells one per layer and direction, at index {@code layer*D + direction}
     * @throws ModelException when a tensor has the wrong shape or dtypes are mixed
     */
    public Lstm(LstmConfig config, List<CellWeights> cells) {
        this(config, cells, EngineChoice.FAST);
    }

    /** As {@link #Lstm(LstmConfig, List)}, on the path {@code choice} names. */
    public Lstm(LstmConfig config, List<CellWeights> cells, EngineChoice choice) {
        validate(config, cells, "");
        this.config = config;
        this.cells = List.copyOf(cells);
        this.precision = precisionOf(cells, "");
        this.reference = new ReferenceLstm(config, this.cells, precision);
        this.choice = choice;
        // float64 stays on the reference path, which computes in double; so do weights the fast path cannot pack
        boolean fast = choice == EngineChoice.FAST && precision == Precision.F32 && FastLstm.supports(this.cells);
        this.engine = fast ? new FastLstm(config, this.cells) : reference;
    }

    /** The same weights on another path: {@code lstm.withEngine(EngineChoice.REFERENCE)} for the readable one. */
    public Lstm withEngine(EngineChoice other) {
        return other == choice ? this : new Lstm(config, cells, other);
    }

    /** The engine {@link #forward} uses when no observer is given. */
    public LstmEngine engine() {
        return engine;
    }

    public LstmConfig config() {
        return config;
    }

    public Precision precision() {
        return precision;
    }

    /** Weights of one layer and direction. */
    public CellWeights cell(int layer, int direction) {
        return cells.get(layer * config.directions() + direction);
    }

    /** All cells, index {@code layer*D + direction}. */
    public List<CellWeights> cells() {
        return cells;
    }

    /** Forward pass from zero state. */
    public LstmOutput forward(Tensor input, Layout layout) {
        return forward(input, layout, null);
    }

    /**
     * Forward pass, as {@code lstm(input, (h0, c0))}.
     *
     * @param input   {@code (B, T, I)} or {@code (T, B, I)} as {@code layout} says, or unbatched {@code (T, I)};
     *                converted to the model's precision
     * @param layout  where the batch dimension of a 3-D input is; ignored for 2-D input
     * @param initial h0 and c0 in PyTorch's shapes, or null for zeros
     * @throws InputException when a shape does not fit the model
     */
    public LstmOutput forward(Tensor input, Layout layout, LstmState initial) {
        return forward(input, layout, initial, null);
    }

    /**
     * Forward pass on the reference path, reporting every step's gates and states to {@code observer}
     * (when not null). Batch rows are numbered as in the input; steps are input time indices.
     */
    public LstmOutput forward(Tensor input, Layout layout, LstmState initial, StepObserver observer) {
        return forward(input, layout, initial, null, observer);
    }

    /**
     * Forward pass over a batch of sequences of different lengths, with PyTorch's packed-sequence semantics
     * ({@code pack_padded_sequence(x, lengths, enforce_sorted=False)}, then {@code pad_packed_sequence(...,
     * total_length=T)}): row b reads steps 0..lengths[b]-1 only; the reverse direction starts at its last valid
     * step; h_n and c_n hold each row's state at its own end; padded output steps are 0. Runs on this model's
     * engine (the fast path for float32), or on the reference path when {@code observer} is not null.
     *
     * @param lengths  one length per batch row, each in 1..T; null means every row has all T steps
     * @param observer receives every computed step, or null
     * @throws InputException when a shape does not fit the model, or a length count or value is wrong
     */
    public LstmOutput forward(Tensor input, Layout layout, LstmState initial, int[] lengths, StepObserver observer) {
        Validate.input(input != null, "input is null");
        Validate.input(input.dtype().isFloat(), "input: expected a float tensor, got " + input.dtype().torchName());
        Validate.input(input.rank() == 2 || input.rank() == 3, "input: expected a 3-D batch (B, T, I) / (T, B, I) or a 2-D unbatched"
                + " sequence (T, I), got shape " + Tensor.shapeString(input.shape()));
        boolean unbatched = input.rank() == 2;
        boolean seqFirst = !unbatched && layout == Layout.SEQ_FIRST;
        int features = input.size(-1);
        Validate.input(features == config.inputSize(), "input: expected " + config.inputSize() + " features per step (input_size), got "
                + features + " in shape " + Tensor.shapeString(input.shape()));
        Tensor x = input.to(precision.dtype());
        if (unbatched) {
            x = x.reshape(1, x.size(0), features);
        } else if (seqFirst) {
            x = x.swapFirstTwo();
        }
        int batch = x.size(0);
        int steps = x.size(1);
        Validate.input(steps > 0, "input: the sequence is empty (T = 0 in shape " + Tensor.shapeString(input.shape())
                + "); give at least one time step");
        Validate.input(batch > 0, "input: the batch is empty (B = 0 in shape " + Tensor.shapeString(input.shape()) + ")");

        lengths = checkLengths(lengths, batch, steps, unbatched);
        int layersDirs = config.numLayers() * config.directions();
        Tensor h0;
        Tensor c0;
        if (initial == null) {
            h0 = Tensor.zeros(precision.dtype(), layersDirs, batch, config.outputHiddenSize());
            c0 = Tensor.zeros(precision.dtype(), layersDirs, batch, config.hiddenSize());
        } else {
            h0 = stateTensor("h0", initial.h(), unbatched, layersDirs, batch, config.outputHiddenSize(), config.projSize() > 0 ? "proj_size" : "hidden_size");
            c0 = stateTensor("c0", initial.c(), unbatched, layersDirs, batch, config.hiddenSize(), "hidden_size");
        }

        LstmOutput out = observer != null ? reference.forward(x, h0, c0, lengths, observer)
                : lengths == null ? engine.forward(x, h0, c0) : engine.forwardPacked(x, h0, c0, lengths);
        if (unbatched) {
            return new LstmOutput(out.output().reshape(steps, config.outputSize()),
                    out.hN().reshape(layersDirs, config.outputHiddenSize()),
                    out.cN().reshape(layersDirs, config.hiddenSize()));
        }
        if (seqFirst) {
            return new LstmOutput(out.output().swapFirstTwo(), out.hN(), out.cN());
        }
        return out;
    }

    /** A copy of valid lengths, or null when there are none or every row has all T steps. */
    private static int[] checkLengths(int[] lengths, int batch, int steps, boolean unbatched) {
        if (lengths == null) {
            return null;
        }
        Validate.input(lengths.length == batch, "lengths: expected one length per sequence, " + batch + " for "
                + (unbatched ? "an unbatched input (B = 1)" : "batch B = " + batch) + ", got " + lengths.length);
        boolean full = true;
        for (int b = 0; b < lengths.length; b++) {
            Validate.input(lengths[b] >= 1 && lengths[b] <= steps, "lengths[" + b + "] = " + lengths[b] + ": each length must be in 1.."
                    + steps + " (T, the input's time steps); " + (lengths[b] < 1 ? "drop empty sequences from the batch"
                    : "pad the input to the longest sequence"));
            full &= lengths[b] == steps;
        }
        return full ? null : lengths.clone();
    }

    private Tensor stateTensor(String name, Tensor t, boolean unbatched, int layersDirs, int batch, int size, String sizeName) {
        int[] expected = unbatched ? new int[] {layersDirs, size} : new int[] {layersDirs, batch, size};
        String meaning = unbatched ? "(num_layers*D=" + layersDirs + ", " + sizeName + "=" + size + ")"
                : "(num_layers*D=" + layersDirs + ", batch=" + batch + ", " + sizeName + "=" + size + ")";
        Validate.input(t != null, name + " is null; give both h0 and c0, or neither");
        Validate.input(java.util.Arrays.equals(t.shape(), expected), name + ": expected shape " + meaning + ", got "
                + Tensor.shapeString(t.shape()));
        Tensor r = t.to(precision.dtype());
        return unbatched ? r.reshape(layersDirs, 1, size) : r;
    }

    /**
     * Checks every cell against the config, naming tensors as PyTorch does ({@code prefix + "weight_ih_l0"}).
     *
     * @throws ModelException on the first mismatch
     */
    public static void validate(LstmConfig config, List<CellWeights> cells, String keyPrefix) {
        int d = config.directions();
        Validate.model(cells.size() == config.numLayers() * d, "expected " + config.numLayers() * d
                + " cells (num_layers * directions), got " + cells.size());
        int h4 = 4 * config.hiddenSize();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < d; dir++) {
                CellWeights w = cells.get(layer * d + dir);
                String sfx = LstmConfig.suffix(layer, dir);
                int in = config.layerInputSize(layer);
                String inMeaning = layer == 0 ? "input=" + in : "D*" + (config.projSize() > 0 ? "proj" : "hidden") + "=" + in;
                Validate.shape(keyPrefix + "weight_ih_" + sfx, w.weightIh(), "(4*hidden=" + h4 + ", " + inMeaning + ")", h4, in);
                Validate.shape(keyPrefix + "weight_hh_" + sfx, w.weightHh(), "(4*hidden=" + h4 + ", "
                        + (config.projSize() > 0 ? "proj" : "hidden") + "=" + config.outputHiddenSize() + ")", h4, config.outputHiddenSize());
                Validate.model(w.hasBias() == config.bias(), keyPrefix + "bias_ih_" + sfx + ": "
                        + (config.bias() ? "missing, but the model has bias=True" : "present, but the model has bias=False"));
                if (w.hasBias()) {
                    Validate.shape(keyPrefix + "bias_ih_" + sfx, w.biasIh(), "(4*hidden=" + h4 + ",)", h4);
                    Validate.shape(keyPrefix + "bias_hh_" + sfx, w.biasHh(), "(4*hidden=" + h4 + ",)", h4);
                }
                Validate.model(w.hasProjection() == (config.projSize() > 0), keyPrefix + "weight_hr_" + sfx + ": "
                        + (config.projSize() > 0 ? "missing, but proj_size=" + config.projSize() : "present, but the model has no projection"));
                if (w.hasProjection()) {
                    Validate.shape(keyPrefix + "weight_hr_" + sfx, w.weightHr(), "(proj=" + config.projSize() + ", hidden="
                            + config.hiddenSize() + ")", config.projSize(), config.hiddenSize());
                }
            }
        }
    }

    /** F64 when every tensor is float64, F32 when none is; mixed float64 and other dtypes is refused. */
    static Precision precisionOf(List<CellWeights> cells, String keyPrefix) {
        Set<DType> seen = EnumSet.noneOf(DType.class);
        for (CellWeights w : cells) {
            for (Tensor t : new Tensor[] {w.weightIh(), w.weightHh(), w.biasIh(), w.biasHh(), w.weightHr()}) {
                if (t != null) {
                    Validate.model(t.dtype().isFloat(), keyPrefix + "*: weights must be float16, bfloat16, float32 or float64, found "
                            + t.dtype().torchName());
                    seen.add(t.dtype());
                }
            }
        }
        if (seen.contains(DType.F64)) {
            Validate.model(seen.size() == 1, keyPrefix + "*: tensors mix float64 with " + seen + "; save every tensor in one dtype"
                    + " (model.double() or model.float() before saving)");
            return Precision.F64;
        }
        return Precision.F32;
    }
}
