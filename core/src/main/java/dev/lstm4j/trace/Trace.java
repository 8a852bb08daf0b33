package dev.lstm4j.trace;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.Layout;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.LstmState;
import dev.lstm4j.Precision;
import dev.lstm4j.Readout;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.reference.Gate;
import dev.lstm4j.reference.StepObserver;
import dev.lstm4j.reference.StepValues;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A recorded forward pass: for every kept time step, layer, direction and batch row, everything the cell
 * computed (see {@link TraceStep}), plus the run's results. Recording is opt-in: it runs the reference path
 * with a {@link StepObserver}; a forward pass without one records nothing and pays nothing.
 *
 * <p>Legend: B batch, T steps, H hidden, Hh size of h, L layers, D directions.
 */
public final class Trace {
    private final LstmConfig config;
    private final Precision precision;
    private final String layout;
    private final int batch;
    private final int steps;
    private final int[] lengths;
    private final TraceFilter filter;
    private final List<TraceStep> records;
    private final Map<Key, TraceStep> index = new HashMap<>();
    private final LstmOutput output;
    private final Tensor head;
    private final String spec;
    private final Readout readout;
    private final Tensor readoutValues;
    private final List<LayerOutput> layers;

    /**
     * One head layer's output in the run.
     *
     * @param name   its name in the model spec (a state-dict prefix such as {@code fc1}, or a keyword such as {@code relu})
     * @param layer  PyTorch's repr of the layer, e.g. {@code Linear(in_features=8, out_features=1, bias=True)}
     * @param output its output: per step ({@code (B, T, F)} in the input's layout) after the readout {@code all}, else
     *               one vector per batch row {@code (B, F)} ({@code (F,)} unbatched)
     */
    public record LayerOutput(String name, String layer, Tensor output) {
    }

    private Trace(LstmConfig config, Precision precision, String layout, int batch, int steps, int[] lengths, TraceFilter filter,
                  List<TraceStep> records, LstmOutput output, Tensor head, String spec, Readout readout, Tensor readoutValues,
                  List<LayerOutput> layers) {
        this.config = config;
        this.precision = precision;
        this.layout = layout;
        this.batch = batch;
        this.steps = steps;
        this.lengths = lengths;
        this.filter = filter;
        List<TraceStep> sorted = new ArrayList<>(records);
        // reading order: a batch row's steps in time order, each through the layers bottom-up, forward then reverse
        sorted.sort(Comparator.comparingInt(TraceStep::batch).thenComparingInt(TraceStep::step).thenComparingInt(TraceStep::layer)
                .thenComparingInt(TraceStep::direction));
        this.records = List.copyOf(sorted);
        for (TraceStep s : this.records) {
            index.put(key(s.layer(), s.direction(), s.batch(), s.step()), s);
        }
        this.output = output;
        this.head = head;
        this.spec = spec;
        this.readout = readout;
        this.readoutValues = readoutValues;
        this.layers = List.copyOf(layers);
    }

    /** Records every step of {@code model.forward(input)} (batch-first or unbatched input, zero initial state). */
    public static Trace record(LstmModel model, Tensor input) {
        return record(model, input, ForwardOptions.defaults(), TraceFilter.ALL);
    }

    /** As {@link #record(LstmModel, Tensor, ForwardOptions, TraceFilter)}, for an LSTM without a head. */
    public static Trace record(Lstm lstm, Tensor input, ForwardOptions options, TraceFilter filter) {
        return record(new LstmModel(lstm, null, "", null, false, List.of()), input, options, filter);
    }

    /**
     * Runs the model on the reference path and records the steps {@code filter} keeps.
     *
     * @param input   as {@link Lstm#forward(Tensor, ForwardOptions)} takes it
     * @param options layout, initial state and lengths as for {@code forward} (an observer in them is not used)
     * @param filter  the steps to keep; {@link TraceFilter#ALL} for all
     * @throws dev.lstm4j.InputException when the input does not fit the model, or the filter names a step,
     *                                   layer, direction or batch row that does not exist
     */
    public static Trace record(LstmModel model, Tensor input, ForwardOptions options, TraceFilter filter) {
        Validate.input(options != null, "options are null; use ForwardOptions.defaults()");
        Layout layout = options.layout();
        int[] lengths = options.lengths();
        Lstm lstm = model.lstm();
        LstmConfig c = lstm.config();
        // a model with an embedding takes token ids, one dimension fewer
        int r0 = model.embedding() == null ? 0 : 1;
        Validate.input(input != null && (input.rank() == 2 - r0 || input.rank() == 3 - r0), r0 == 0 ? "input: expected a 3-D batch"
                + " (B, T, I) / (T, B, I) or a 2-D unbatched sequence (T, I), got " + (input == null ? "null" : "shape "
                + Tensor.shapeString(input.shape())) : "input: expected token ids (B, T) / (T, B) or an unbatched (T,), got "
                + (input == null ? "null" : "shape " + Tensor.shapeString(input.shape())));
        boolean unbatched = input.rank() == 2 - r0;
        boolean seqFirst = !unbatched && layout == Layout.SEQ_FIRST;
        int b = unbatched ? 1 : input.size(seqFirst ? 1 : 0);
        int t = input.size(unbatched || seqFirst ? 0 : 1);
        TraceFilter f = filter == null ? TraceFilter.ALL : filter;
        inRange("step", f.steps(), t, "the input has " + t + " time steps");
        inRange("layer", f.layers(), c.numLayers(), "the model has " + c.numLayers() + " layer" + (c.numLayers() == 1 ? "" : "s"));
        inRange("direction", f.directions(), c.directions(), c.bidirectional() ? "0 is forward, 1 reverse"
                : "the model is unidirectional (0 is forward)");
        inRange("batch row", f.batches(), b, "the batch has " + b + " row" + (b == 1 ? "" : "s"));

        List<TraceStep> records = new ArrayList<>();
        StepObserver recorder = (layer, dir, row, step, v) -> {
            if (f.accepts(layer, dir, row, step)) {
                records.add(new TraceStep(layer, dir, row, step, copy(v)));
            }
        };
        LstmModel.Result r = model.forward(input, options.withObserver(recorder));
        int[] lens = new int[b];
        Arrays.fill(lens, t);
        if (lengths != null) {
            System.arraycopy(lengths, 0, lens, 0, b);
        }
        List<LayerOutput> layers = new ArrayList<>();
        for (int k = 0; k < model.layers().size(); k++) {
            layers.add(new LayerOutput(model.spec().head().get(k), model.layers().get(k).describe(), r.layerOutputs().get(k)));
        }
        return new Trace(c, lstm.precision(), unbatched ? "unbatched" : seqFirst ? "seq_first" : "batch_first", b, t, lens, f, records,
                r.lstm(), r.head(), model.spec().toString(), model.readout(), r.readout(), layers);
    }

    private static void inRange(String what, Set<Integer> wanted, int count, String why) {
        if (wanted != null) {
            for (int v : wanted) {
                Validate.input(v >= 0 && v < count, "trace filter: " + what + " " + v + " does not exist; " + why
                        + " (0.." + (count - 1) + ")");
            }
        }
    }

    /** Own copies, so later changes to the engine's arrays cannot alter the record. */
    private static StepValues copy(StepValues v) {
        double[] hidden = v.hidden().clone();
        double[] h = v.h() == v.hidden() ? hidden : v.h().clone();
        return new StepValues(v.x().clone(), v.hPrev().clone(), v.cPrev().clone(), copy(v.i()), copy(v.f()), copy(v.g()), copy(v.o()),
                v.kept().clone(), v.written().clone(), v.c().clone(), v.tanhC().clone(), hidden, h);
    }

    private static Gate copy(Gate g) {
        return new Gate(g.preActivation().clone(), g.activation().clone());
    }

    private record Key(int layer, int direction, int batch, int step) {
    }

    private static Key key(int layer, int direction, int batch, int step) {
        return new Key(layer, direction, batch, step);
    }

    public LstmConfig config() {
        return config;
    }

    public Precision precision() {
        return precision;
    }

    /** {@code batch_first}, {@code seq_first} or {@code unbatched}: how the input was given. */
    public String layout() {
        return layout;
    }

    /** B, 1 for unbatched input. */
    public int batch() {
        return batch;
    }

    /** T, the input's time steps. */
    public int steps() {
        return steps;
    }

    /** Each batch row's length: T for every row unless the run had lengths. */
    public int[] lengths() {
        return lengths.clone();
    }

    public TraceFilter filter() {
        return filter;
    }

    /** True when h is projected: then {@code values.h()} is {@code W_hr values.hidden()}. */
    public boolean projected() {
        return config.projSize() > 0;
    }

    /** Every kept step, ordered by batch row, time step, layer, direction. */
    public List<TraceStep> records() {
        return records;
    }

    /** The record at these indices, or null when it was filtered out or is padding. */
    public TraceStep at(int layer, int direction, int batch, int step) {
        return index.get(key(layer, direction, batch, step));
    }

    /** The run's output, h_n and c_n, as {@link Lstm#forward(Tensor, Layout, LstmState)} returns them. */
    public LstmOutput output() {
        return output;
    }

    /** The head's final output (what the model returns), or null when the model has no head layers. */
    public Tensor head() {
        return head;
    }

    /** The model's spec, e.g. {@code lstm > last > fc1 > relu > fc2}. */
    public String spec() {
        return spec;
    }

    public Readout readout() {
        return readout;
    }

    /** What the readout took from the LSTM: {@code output} itself for {@code all}, else {@code (B, F)} ({@code (F,)} unbatched). */
    public Tensor readoutValues() {
        return readoutValues;
    }

    /** Every head layer's output, in order. */
    public List<LayerOutput> layers() {
        return layers;
    }

    /**
     * The vector of a per-step tensor (in this trace's layout) at a batch row and step, or of a per-sequence tensor
     * ({@code (B, F)} or {@code (F,)}) at a batch row when {@code step} is negative.
     */
    public double[] vectorAt(Tensor t, int batch, int step) {
        int f = t.size(-1);
        int base;
        if (step < 0) {
            base = t.rank() == 1 ? 0 : batch * f;
        } else {
            base = switch (layout) {
                case "unbatched" -> step * f;
                case "seq_first" -> (step * this.batch + batch) * f;
                default -> (batch * steps + step) * f;
            };
        }
        double[] v = new double[f];
        for (int k = 0; k < f; k++) {
            v[k] = t.at(base + k);
        }
        return v;
    }
}
