package dev.lstm4j;

import dev.lstm4j.internal.Engines;
import dev.lstm4j.internal.LstmChecks;
import dev.lstm4j.internal.LstmEngine;
import dev.lstm4j.internal.ReferenceEngine;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.reference.ReferenceLstm;
import dev.lstm4j.reference.StepObserver;

import java.util.List;

/**
 * An {@code nn.LSTM} (or {@code nn.LSTMCell} run over a sequence) for inference: layers, bidirectional,
 * projection, optional bias, batch-first or sequence-first, batched or unbatched input, given or zero
 * initial state. Results match PyTorch's within the tolerances stated in the README.
 *
 * <p>A model whose tensors are all float64 computes in float64; any other (float32, float16, bfloat16)
 * computes in float32, as PyTorch does after {@code model.float()}.
 *
 * <p>Immutable and thread-safe: any number of threads may call {@link #forward} at once (each call has its own
 * work buffers; the fast path's worker threads are shared). Proven by {@code ConcurrencyTest}.
 *
 * <p>Legend: B batch, T steps, I input, H hidden, P projection, Hh = P if projected else H, L layers,
 * D directions.
 */
public final class Lstm {
    private final LstmConfig config;
    private final List<CellWeights> cells;
    private final Precision precision;
    private final EngineChoice choice;
    private final LstmEngine engine;
    private volatile ReferenceLstm reference;

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
        Validate.model(config != null && cells != null && choice != null, "Lstm needs a config, cells and an engine choice");
        LstmChecks.validate(config, cells, "");
        this.config = config;
        this.cells = List.copyOf(cells);
        this.precision = LstmChecks.precisionOf(cells, "");
        this.choice = choice;
        this.engine = Engines.create(config, this.cells, precision, choice, this::reference);
    }

    /** The same weights on another path: {@code lstm.withEngine(EngineChoice.REFERENCE)} for the readable one. */
    public Lstm withEngine(EngineChoice other) {
        return other == choice ? this : new Lstm(config, cells, other);
    }

    /** The path asked for when this model was built. */
    public EngineChoice engineChoice() {
        return choice;
    }

    /**
     * Whether {@link #forward} runs on the fast path: false for the reference choice, float64 models and weights
     * the fast path cannot pack (calls with an observer always use the reference path).
     */
    public boolean usesFastPath() {
        return !(engine instanceof ReferenceEngine);
    }

    /** The engine {@link #forward} uses without an observer; for {@link LstmSession}, in this package. */
    LstmEngine engine() {
        return engine;
    }

    /** What computes {@link #forward}, for logs: e.g. {@code FastLstm[vector, threads=2]} or {@code reference}. */
    public String engineName() {
        return engine.toString();
    }

    /**
     * The readable path over these weights: one method per equation of the reference card. Built on first use
     * (it holds the weights as doubles).
     */
    public ReferenceLstm reference() {
        ReferenceLstm r = reference;
        if (r == null) {
            synchronized (this) {
                r = reference;
                if (r == null) {
                    r = new ReferenceLstm(config, cells, precision);
                    reference = r;
                }
            }
        }
        return r;
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

    /** Forward pass over a batch-first {@code (B, T, I)} or unbatched {@code (T, I)} input, from zero state. */
    public LstmOutput forward(Tensor input) {
        return forward(input, ForwardOptions.defaults());
    }

    /**
     * Forward pass, as {@code lstm(input, (h0, c0))}; with lengths, over a batch of sequences of different
     * lengths with PyTorch's packed-sequence semantics ({@code pack_padded_sequence(x, lengths,
     * enforce_sorted=False)}, then {@code pad_packed_sequence(..., total_length=T)}): row b reads steps
     * 0..lengths[b]-1 only; the reverse direction starts at its last valid step; h_n and c_n hold each row's state
     * at its own end; padded output steps are 0. With an observer the pass runs on the reference path and reports
     * every step (batch rows numbered as in the input, steps as input time indices).
     *
     * @param input {@code (B, T, I)} or {@code (T, B, I)} as the options' layout says, or unbatched {@code (T, I)};
     *              converted to the model's precision
     * @throws InputException when a shape does not fit the model, or a length count or value is wrong
     */
    public LstmOutput forward(Tensor input, ForwardOptions options) {
        Validate.input(options != null, "options are null; use ForwardOptions.defaults()");
        Layout layout = options.layout();
        LstmState initial = options.initial();
        int[] lengths = options.lengths();
        StepObserver observer = options.observer();
        Validate.input(input != null, "input is null");
        // messages are built only on failure: a small model's whole pass takes less than building one
        if (!input.dtype().isFloat()) {
            throw new InputException("input: expected a float tensor, got " + input.dtype().torchName());
        }
        if (input.rank() != 2 && input.rank() != 3) {
            throw new InputException("input: expected a 3-D batch (B, T, I) / (T, B, I) or a 2-D unbatched sequence (T, I), got shape "
                    + Tensor.shapeString(input.shape()));
        }
        boolean unbatched = input.rank() == 2;
        boolean seqFirst = !unbatched && layout == Layout.SEQ_FIRST;
        int features = input.size(-1);
        if (features != config.inputSize()) {
            throw new InputException("input: expected " + config.inputSize() + " features per step (input_size), got " + features
                    + " in shape " + Tensor.shapeString(input.shape()));
        }
        Tensor x = input.to(precision.dtype());
        if (unbatched) {
            x = x.reshape(1, x.size(0), features);
        } else if (seqFirst) {
            x = x.swapFirstTwo();
        }
        int batch = x.size(0);
        int steps = x.size(1);
        if (steps <= 0) {
            throw new InputException("input: the sequence is empty (T = 0 in shape " + Tensor.shapeString(input.shape())
                    + "); give at least one time step");
        }
        if (batch <= 0) {
            throw new InputException("input: the batch is empty (B = 0 in shape " + Tensor.shapeString(input.shape()) + ")");
        }

        lengths = checkLengths(lengths, batch, steps, unbatched);
        int layersDirs = config.numLayers() * config.directions();
        Tensor h0 = null;  // null: zeros, which both engines make without a tensor
        Tensor c0 = null;
        if (initial != null) {
            h0 = stateTensor("h0", initial.h(), unbatched, layersDirs, batch, config.outputHiddenSize(), config.projSize() > 0 ? "proj_size" : "hidden_size");
            c0 = stateTensor("c0", initial.c(), unbatched, layersDirs, batch, config.hiddenSize(), "hidden_size");
        }

        LstmOutput out = observer != null ? reference().forward(x, h0, c0, lengths, observer)
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
}
