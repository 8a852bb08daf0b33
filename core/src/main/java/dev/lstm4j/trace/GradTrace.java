package dev.lstm4j.trace;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.ModelException;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Readouts;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.internal.train.HeadBackward;
import dev.lstm4j.nn.Layer;
import dev.lstm4j.reference.ReferenceBackward;
import dev.lstm4j.reference.ReferenceBackward.CellGrads;
import dev.lstm4j.reference.ReferenceBackward.Tape;
import dev.lstm4j.reference.ReferenceLstm;
import dev.lstm4j.reference.StepGrads;
import dev.lstm4j.train.Loss;
import dev.lstm4j.train.Reduction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A recorded backward pass, the mirror of {@link Trace}: for one loss L of a model's output, every step's gradients
 * (see {@link StepGrads}) for every layer, direction and batch row the filter keeps. It runs
 * {@link ReferenceBackward} on a forward pass of the reference path (the same {@code ReferenceLstm.step} that a
 * trace records), through the model's head and readout, exactly as {@code loss.backward()} does in PyTorch.
 *
 * <p>The loss is either {@link #sum} (L = {@code y.sum()}, so ∂L/∂y = 1 everywhere: every output pulls equally) or
 * {@link #mse} against a target. The backward goes through the readouts all, last, last-valid, hn and mean and the head
 * layers Linear, relu, tanh, sigmoid and dropout; other models are refused with the reason. The gradients are computed
 * in double on the model's forward values (rounded to its precision), so a float64 model matches
 * {@code torch.autograd} in float64 to about 1e-12.
 *
 * <p>Immutable once built (nothing changes its arrays after recording; don't change them yourself), and so safe to
 * read from several threads at once.
 *
 * <p>Legend: B batch, T steps, H hidden, Hh size of h, L layers, D directions, F = D*Hh.
 */
public final class GradTrace {
    private final LstmConfig config;
    private final int batch;
    private final int steps;
    private final int[] lengths;
    private final String loss;
    private final double lossValue;
    private final List<Step> records;
    private final Map<Key, Step> index = new HashMap<>();

    /**
     * One backward step and where it sits. Shapes as in {@link StepGrads}; {@code dh = dhFromOutput + dhFromNext}.
     *
     * @param dhFromOutput the part of dh_t that comes from the step's output: from the loss through the head for the
     *                     last layer, from the layer above ({@code W_ihᵀ dz} there, both directions summed) otherwise
     * @param dhFromNext   the part that comes along h from the step the forward pass ran after this one (t+1, or t−1
     *                     in the reverse direction): its {@code dh_{t-1}}; at a row's last step, the gradient of h_n
     */
    public record Step(int layer, int direction, int batch, int step, double[] dhFromOutput, double[] dhFromNext, StepGrads grads) {
    }

    private record Key(int layer, int direction, int batch, int step) {
    }

    private GradTrace(LstmConfig config, int batch, int steps, int[] lengths, String loss, double lossValue, List<Step> records) {
        this.config = config;
        this.batch = batch;
        this.steps = steps;
        this.lengths = lengths;
        this.loss = loss;
        this.lossValue = lossValue;
        this.records = List.copyOf(records);
        for (Step s : this.records) {
            index.put(new Key(s.layer(), s.direction(), s.batch(), s.step()), s);
        }
    }

    /**
     * The gradients of L = {@code model(x).sum()}: ∂L/∂y = 1 for every output of the model.
     *
     * @param input   as {@link LstmModel#forward(Tensor, ForwardOptions)} takes it
     * @param options layout, initial state and lengths (an observer in them is not used)
     * @param filter  the steps to keep; {@link TraceFilter#ALL} for all (the loss always covers the whole batch)
     * @throws ModelException when the backward cannot go through the model's readout or head (the message says which)
     * @throws dev.lstm4j.InputException when the input does not fit the model
     */
    public static GradTrace sum(LstmModel model, Tensor input, ForwardOptions options, TraceFilter filter) {
        return record(model, input, options, filter, null);
    }

    /**
     * The gradients of L = {@code nn.MSELoss()(model(x), target)}, the mean of the squared errors over every element.
     *
     * @param target the shape of the model's output {@code y} in the input's layout ({@code (B, T, O)} after the readout
     *               all, else {@code (B, O)}; without B for unbatched input; {@code (T, B, O)} seq-first)
     * @throws dev.lstm4j.InputException when the target's shape is not the output's
     */
    public static GradTrace mse(LstmModel model, Tensor input, ForwardOptions options, TraceFilter filter, Tensor target) {
        Validate.input(target != null, "target is null; use GradTrace.sum for L = y.sum()");
        return record(model, input, options, filter, target);
    }

    private static GradTrace record(LstmModel model, Tensor input, ForwardOptions options, TraceFilter filter, Tensor target) {
        return record(model, input, options, filter, target, ReferenceBackward::stepBackward);
    }

    /** As the factories, with {@code step} for each step's backward: a test proves with a broken one that its checks can fail. */
    static GradTrace record(LstmModel model, Tensor input, ForwardOptions options, TraceFilter filter, Tensor target,
                            ReferenceBackward.StepBackward stepBackward) {
        Validate.input(model != null && options != null, "GradTrace needs a model and options (ForwardOptions.defaults())");
        String why = HeadBackward.unsupported(model);
        if (why != null) {
            throw new ModelException("gradient trace of " + model.spec() + ": " + why);
        }
        TraceFilter f = filter == null ? TraceFilter.ALL : filter;
        // the model's own forward checks the input, initial state and lengths, and gives y in the input's layout
        Tensor yModel = model.forward(input, options.withObserver(null)).y();
        LstmConfig c = model.lstm().config();
        Precision p = model.lstm().precision();
        Tensor x = model.embedding() == null ? input : model.embedding().lookup(input);
        boolean unbatched = x.rank() == 2;
        boolean seqFirst = !unbatched && options.layout() == Layout.SEQ_FIRST;
        x = x.to(p.dtype());
        if (unbatched) {
            x = x.reshape(1, x.size(0), x.size(1));
        } else if (seqFirst) {
            x = x.swapFirstTwo();
        }
        int b = x.size(0), t = x.size(1);
        int[] lengths = options.lengths() == null ? null : options.lengths().clone();
        int ld = c.numLayers() * c.directions(), hh = c.outputHiddenSize();
        double[] h0 = null, c0 = null;
        if (options.initial() != null) {
            h0 = options.initial().h().to(p.dtype()).toDoubleArray();
            c0 = options.initial().c().to(p.dtype()).toDoubleArray();
        }
        ReferenceLstm ref = model.lstm().reference();
        ReferenceLstm.Params[] params = new ReferenceLstm.Params[ld];
        CellGrads[] cellGrads = new CellGrads[ld];
        for (int k = 0; k < ld; k++) {
            params[k] = ref.params(k / c.directions(), k % c.directions());
            cellGrads[k] = CellGrads.zerosLike(params[k]);
        }

        // forward on the reference path, keeping every step, then readout and head as the model runs them
        Tape tape = ReferenceBackward.forward(c, params, b, t, x.toDoubleArray(), h0, c0, lengths, null);
        LstmOutput out = new LstmOutput(Tensor.wrap(p.dtype(), new int[] {b, t, c.outputSize()}, tape.output()),
                Tensor.wrap(p.dtype(), new int[] {ld, b, hh}, tape.hN()), Tensor.wrap(p.dtype(), new int[] {ld, b, c.hiddenSize()}, tape.cN()));
        Tensor y = Readouts.apply(model.readout(), out, c, false, false, lengths);
        List<double[]> ins = new ArrayList<>(), outs = new ArrayList<>();
        for (Layer layer : model.layers()) {
            ins.add(y.toDoubleArray());
            y = layer.apply(y);
            outs.add(y.toDoubleArray());
        }
        double[] yv = y.toDoubleArray();

        // the loss and ∂L/∂y
        String lossName;
        double value;
        double[] dY;
        if (target == null) {
            lossName = "y.sum()";
            value = 0;
            for (double v : yv) {
                value += v;
            }
            dY = new double[yv.length];
            Arrays.fill(dY, 1);
        } else {
            Validate.input(Arrays.equals(target.shape(), yModel.shape()), "target: expected the shape of the model's output y, "
                    + Tensor.shapeString(yModel.shape()) + " for " + model.spec() + " on this input, got " + Tensor.shapeString(target.shape()));
            Validate.input(target.dtype().isFloat(), "target: expected a float tensor, got " + target.dtype().torchName());
            Tensor tb = seqFirst && model.readout().perStep() ? target.swapFirstTwo() : target;
            Loss.Result r = Loss.mse(Reduction.MEAN).compute(yv, tb.toDoubleArray());
            lossName = "MSELoss(reduction='mean')(y, target)";
            value = r.value();
            dY = r.gradient();
        }

        // back through the head, the readout and the LSTM
        double[] d = dY;
        for (int k = model.layers().size() - 1; k >= 0; k--) {
            d = HeadBackward.layerBackward(model.layers().get(k), ins.get(k), outs.get(k), d);
        }
        double[] dHn = new double[ld * b * hh];
        double[] dOutput = HeadBackward.readoutBackward(model.readout(), d, c, b, t, lengths, dHn);
        StepGrads[][][] g = new StepGrads[ld][b][t];
        ReferenceBackward.backward(tape, dOutput, dHn, null, cellGrads, stepBackward,
                (layer, dir, row, time, grads) -> g[layer * c.directions() + dir][row][time] = grads);

        List<Step> records = new ArrayList<>();
        int dirs = c.directions(), fOut = c.outputSize();
        for (int row = 0; row < b; row++) {
            int len = lengths == null ? t : lengths[row];
            for (int step = 0; step < len; step++) {
                for (int layer = 0; layer < c.numLayers(); layer++) {
                    for (int dir = 0; dir < dirs; dir++) {
                        if (!f.accepts(layer, dir, row, step)) {
                            continue;
                        }
                        int k = layer * dirs + dir;
                        // dh_t = what came from t+1 (h_n's gradient at the row's last step) + what came from the output
                        double[] fromOut = new double[hh];
                        if (layer == c.numLayers() - 1) {
                            System.arraycopy(dOutput, (row * t + step) * fOut + dir * hh, fromOut, 0, hh);
                        } else {
                            // in the order ReferenceBackward sums the layer above's dx: forward direction, then reverse
                            for (int up = 0; up < dirs; up++) {
                                double[] dx = g[(layer + 1) * dirs + up][row][step].dX();
                                for (int j = 0; j < hh; j++) {
                                    fromOut[j] += dx[dir * hh + j];
                                }
                            }
                        }
                        boolean first = dir == 0 ? step == len - 1 : step == 0;
                        double[] fromNext = first ? Arrays.copyOfRange(dHn, (k * b + row) * hh, (k * b + row + 1) * hh)
                                : g[k][row][dir == 0 ? step + 1 : step - 1].dHPrev();
                        records.add(new Step(layer, dir, row, step, fromOut, fromNext, g[k][row][step]));
                    }
                }
            }
        }
        int[] lens = new int[b];
        Arrays.fill(lens, t);
        if (lengths != null) {
            System.arraycopy(lengths, 0, lens, 0, b);
        }
        return new GradTrace(c, b, t, lens, lossName, value, records);
    }

    public LstmConfig config() {
        return config;
    }

    /** B, 1 for unbatched input. */
    public int batch() {
        return batch;
    }

    /** T, the input's time steps. */
    public int steps() {
        return steps;
    }

    /** Each batch row's length. */
    public int[] lengths() {
        return lengths.clone();
    }

    /** The loss as PyTorch writes it: {@code y.sum()} or {@code MSELoss(reduction='mean')(y, target)}. */
    public String loss() {
        return loss;
    }

    /** L, in double. */
    public double lossValue() {
        return lossValue;
    }

    /** Every kept step, ordered by batch row, time step, layer, direction. */
    public List<Step> records() {
        return records;
    }

    /** The step at these indices, or null when it was filtered out or is padding. */
    public Step at(int layer, int direction, int batch, int step) {
        return index.get(new Key(layer, direction, batch, step));
    }
}
