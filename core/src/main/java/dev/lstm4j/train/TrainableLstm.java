package dev.lstm4j.train;

import dev.lstm4j.CellWeights;
import dev.lstm4j.Linear;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.internal.kernel.FastLstm;
import dev.lstm4j.internal.train.FastBackward;
import dev.lstm4j.reference.ReferenceBackward;
import dev.lstm4j.reference.ReferenceBackward.CellGrads;
import dev.lstm4j.reference.ReferenceBackward.InputGrads;
import dev.lstm4j.reference.ReferenceBackward.Tape;
import dev.lstm4j.reference.ReferenceLstm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An {@code nn.LSTM} with an optional {@code nn.Linear} head on every step, as a set of {@link Parameter}s that a
 * backward pass fills with gradients and an optimizer updates: the PyTorch module
 * <pre>
 * class Model(nn.Module):
 *     def __init__(self): self.lstm = nn.LSTM(..., batch_first=True, dropout=p); self.fc = nn.Linear(D*Hh, O)
 *     def forward(self, x, state=None): out, (h, c) = self.lstm(x, state); return self.fc(out), (h, c)
 * </pre>
 * The forward and backward run on the reference path ({@link ReferenceBackward}), or on the batched float32 path
 * ({@link #setFastPath}). Parameter names and order are
 * the module's {@code state_dict()}: {@code lstm.weight_ih_l0}, {@code lstm.weight_hh_l0}, {@code lstm.bias_ih_l0},
 * {@code lstm.bias_hh_l0}, {@code lstm.weight_hr_l0}, then {@code _reverse}, the next layer, {@code fc.weight},
 * {@code fc.bias}.
 *
 * <p>Mutable (the parameters change as it trains) and not thread-safe. Float32 models keep every parameter a
 * float32 value; the optimizers round after each update.
 *
 * <p>Legend: B batch, T steps, I input, H hidden, P projection, Hh = P if projected else H, L layers, D directions,
 * O head outputs.
 */
public final class TrainableLstm {
    private final LstmConfig config;
    private final Precision precision;
    private final int headOut;
    private final double dropout;
    private final List<Parameter> params;
    private final ReferenceLstm.Params[] cells;
    private final CellGrads[] cellGrads;
    private final Parameter headWeight;
    private final Parameter headBias;
    private boolean fastPath;
    private int threads = FastLstm.defaultThreads();
    private final FastRun[] fastRuns = new FastRun[2];  // the training loop's workspaces: a full batch's and an epoch's last

    private TrainableLstm(LstmConfig config, Precision precision, int headOut, double dropout, List<Parameter> params) {
        Validate.model(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got " + dropout);
        this.config = config;
        this.precision = precision;
        this.headOut = headOut;
        this.dropout = dropout;
        this.params = List.copyOf(params);
        int d = config.directions();
        this.cells = new ReferenceLstm.Params[config.numLayers() * d];
        this.cellGrads = new CellGrads[cells.length];
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Parameter p : params) {
            byName.put(p.name(), p);
        }
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < d; dir++) {
                String s = LstmConfig.suffix(layer, dir);
                Parameter wih = byName.get("lstm.weight_ih_" + s), whh = byName.get("lstm.weight_hh_" + s);
                Parameter bih = byName.get("lstm.bias_ih_" + s), bhh = byName.get("lstm.bias_hh_" + s);
                Parameter whr = byName.get("lstm.weight_hr_" + s);
                cells[layer * d + dir] = new ReferenceLstm.Params(config.layerInputSize(layer), config.hiddenSize(),
                        config.outputHiddenSize(), wih.value(), whh.value(), bih == null ? null : bih.value(),
                        bhh == null ? null : bhh.value(), whr == null ? null : whr.value(), precision);
                cellGrads[layer * d + dir] = new CellGrads(wih.grad(), whh.grad(), bih == null ? null : bih.grad(),
                        bhh == null ? null : bhh.grad(), whr == null ? null : whr.grad());
            }
        }
        this.headWeight = byName.get("fc.weight");
        this.headBias = byName.get("fc.bias");
    }

    /**
     * A new model initialised as PyTorch initialises one (not with PyTorch's generator): every LSTM tensor
     * {@code U(−1/√H, 1/√H)}, the head's weight and bias {@code U(−1/√F, 1/√F)} with F = D·Hh.
     *
     * @param headOut O, outputs of the head, or 0 for no head
     * @param dropout inter-layer dropout p (nn.LSTM's {@code dropout}), 0 for none
     * @param seed    the initial weights depend only on it
     */
    public static TrainableLstm create(LstmConfig config, int headOut, double dropout, Precision precision, long seed) {
        Validate.model(config != null && precision != null, "create needs a config and a precision");
        Validate.model(headOut >= 0, "headOut must be 0 (no head) or positive, got " + headOut);
        SplittableRandom rnd = new SplittableRandom(seed);
        double k = 1 / Math.sqrt(config.hiddenSize());
        List<Parameter> ps = new ArrayList<>();
        int hs = config.hiddenSize(), hh = config.outputHiddenSize();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.directions(); dir++) {
                String s = LstmConfig.suffix(layer, dir);
                int in = config.layerInputSize(layer);
                ps.add(new Parameter("lstm.weight_ih_" + s, new int[] {4 * hs, in}, uniform(rnd, 4 * hs * in, k, precision)));
                ps.add(new Parameter("lstm.weight_hh_" + s, new int[] {4 * hs, hh}, uniform(rnd, 4 * hs * hh, k, precision)));
                if (config.bias()) {
                    ps.add(new Parameter("lstm.bias_ih_" + s, new int[] {4 * hs}, uniform(rnd, 4 * hs, k, precision)));
                    ps.add(new Parameter("lstm.bias_hh_" + s, new int[] {4 * hs}, uniform(rnd, 4 * hs, k, precision)));
                }
                if (config.projSize() > 0) {
                    ps.add(new Parameter("lstm.weight_hr_" + s, new int[] {hh, hs}, uniform(rnd, hh * hs, k, precision)));
                }
            }
        }
        if (headOut > 0) {
            int f = config.outputSize();
            double kf = 1 / Math.sqrt(f);
            ps.add(new Parameter("fc.weight", new int[] {headOut, f}, uniform(rnd, headOut * f, kf, precision)));
            ps.add(new Parameter("fc.bias", new int[] {headOut}, uniform(rnd, headOut, kf, precision)));
        }
        return new TrainableLstm(config, precision, headOut, dropout, ps);
    }

    /**
     * A model starting from given tensors, keyed as {@link #stateDict()} writes them ({@code lstm.*}, {@code fc.*});
     * for fine-tuning a loaded model or resuming a checkpoint.
     *
     * @throws dev.lstm4j.ModelException when a key is missing or a shape differs
     */
    public static TrainableLstm fromStateDict(LstmConfig config, int headOut, double dropout, Precision precision,
                                              Map<String, Tensor> tensors) {
        TrainableLstm fresh = create(config, headOut, dropout, precision, 0);
        for (Parameter p : fresh.params) {
            Tensor t = tensors.get(p.name());
            Validate.model(t != null, "state dict: missing " + p.name() + " " + Tensor.shapeString(p.shape())
                    + "; save it with model.state_dict() from a model built as " + config);
            Validate.model(java.util.Arrays.equals(t.shape(), p.shape()), p.name() + ": expected shape " + Tensor.shapeString(p.shape())
                    + ", got " + Tensor.shapeString(t.shape()));
            double[] v = t.toDoubleArray();
            for (int k = 0; k < v.length; k++) {
                p.value()[k] = precision.round(v[k]);
            }
        }
        return fresh;
    }

    /** A trainable copy of a loaded model (its LSTM and head), for fine-tuning. */
    public static TrainableLstm from(LstmModel model, double dropout) {
        Lstm lstm = model.lstm();
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int layer = 0; layer < lstm.config().numLayers(); layer++) {
            for (int dir = 0; dir < lstm.config().directions(); dir++) {
                CellWeights w = lstm.cell(layer, dir);
                String s = LstmConfig.suffix(layer, dir);
                t.put("lstm.weight_ih_" + s, w.weightIh());
                t.put("lstm.weight_hh_" + s, w.weightHh());
                if (w.hasBias()) {
                    t.put("lstm.bias_ih_" + s, w.biasIh());
                    t.put("lstm.bias_hh_" + s, w.biasHh());
                }
                if (w.hasProjection()) {
                    t.put("lstm.weight_hr_" + s, w.weightHr());
                }
            }
        }
        int headOut = 0;
        if (model.head() != null) {
            headOut = model.head().outFeatures();
            t.put("fc.weight", model.head().weight());
            Validate.model(model.head().bias() != null, "fine-tuning a head without bias is not supported; the head needs fc.bias");
            t.put("fc.bias", model.head().bias());
        }
        return fromStateDict(lstm.config(), headOut, dropout, lstm.precision(), t);
    }

    private static double[] uniform(SplittableRandom rnd, int n, double k, Precision p) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = p.round(rnd.nextDouble(-k, k));
        }
        return v;
    }

    public LstmConfig config() {
        return config;
    }

    public Precision precision() {
        return precision;
    }

    /** O, or 0 without a head. */
    public int headOut() {
        return headOut;
    }

    public double dropout() {
        return dropout;
    }

    /**
     * Runs forward and backward on the batched float32 path (same result as the reference path within the bound
     * {@code FastBackwardContractTest} states) instead of the reference path. Float32 models only.
     *
     * @throws dev.lstm4j.ModelException for a float64 model
     */
    public void setFastPath(boolean on) {
        Validate.model(!on || precision == Precision.F32, "the fast training path is float32; a float64 model trains on the reference path");
        this.fastPath = on;
    }

    /** Whether {@link #forward} runs on the fast float32 path. */
    public boolean fastPath() {
        return fastPath;
    }

    /**
     * At most this many threads share each product of the fast path (default {@code -Dlstm4j.threads}, else the number
     * of processors). The results do not depend on it: products are split by output columns, no sum changes order.
     */
    public void setThreads(int threads) {
        Validate.input(threads >= 1, "threads must be at least 1, got " + threads);
        this.threads = threads;
    }

    /** The fast path's thread count ({@link #setThreads}). */
    public int threads() {
        return threads;
    }

    /** Every parameter, in {@code state_dict()} order. The list is unmodifiable; the parameters are live. */
    public List<Parameter> parameters() {
        return params;  // List.copyOf: already unmodifiable, and no wrapper per call (the training loop asks every step)
    }

    /** {@code model.zero_grad()}. */
    public void zeroGrad() {
        for (Parameter p : params) {
            p.zeroGrad();
        }
    }

    /** The current values as a PyTorch state dict ({@code lstm.*} then {@code fc.*}), in the model's dtype. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Parameter p : params) {
            m.put(p.name(), Tensor.of(precision.dtype(), p.shape(), p.value()));
        }
        return m;
    }

    /** The current values as an inference model (a snapshot: later training does not change it). */
    public LstmModel toModel() {
        Map<String, Tensor> sd = stateDict();
        List<CellWeights> cw = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.directions(); dir++) {
                String s = LstmConfig.suffix(layer, dir);
                cw.add(new CellWeights(sd.get("lstm.weight_ih_" + s), sd.get("lstm.weight_hh_" + s), sd.get("lstm.bias_ih_" + s),
                        sd.get("lstm.bias_hh_" + s), sd.get("lstm.weight_hr_" + s)));
            }
        }
        Linear head = headOut > 0 ? new Linear(sd.get("fc.weight"), sd.get("fc.bias")) : null;
        return new LstmModel(new Lstm(config, cw), head, "lstm.", head == null ? null : "fc.", false, List.of());
    }

    /**
     * Seeded inter-layer dropout masks for one forward pass in training mode: for each layer below the last, (B, T, D*Hh)
     * values 0 with probability p and 1/(1−p) otherwise; null when p = 0 or there is one layer.
     */
    public double[][] dropoutMasks(java.util.function.DoubleSupplier uniform01, int batch, int steps) {
        if (dropout == 0 || config.numLayers() == 1) {
            return null;
        }
        double[][] masks = new double[config.numLayers() - 1][batch * steps * config.outputSize()];
        double keep = precision.round(1 / (1 - dropout));
        for (double[] m : masks) {
            for (int k = 0; k < m.length; k++) {
                m[k] = uniform01.getAsDouble() < dropout ? 0 : keep;
            }
        }
        return masks;
    }

    /**
     * The forward pass, keeping what the backward needs.
     *
     * @param x       (B, T, I), batch first, values of the model's precision
     * @param h0      (L*D, B, Hh) or null for zeros
     * @param c0      (L*D, B, H) or null for zeros
     * @param lengths (B,) each in 1..T, or null for all T
     * @param masks   inter-layer dropout masks ({@link #dropoutMasks}) or null for none (evaluation mode)
     */
    public Pass forward(double[] x, int batch, int steps, double[] h0, double[] c0, int[] lengths, double[][] masks) {
        return forward(x, batch, steps, h0, c0, lengths, masks, false);
    }

    /**
     * As {@link #forward(double[], int, int, double[], double[], int[], double[][])}, for the training loop: on the fast
     * path the pass and its arrays are the model's own and are reused by the next such call with the same shapes, so a
     * warm loop allocates nothing. Use the pass (its backward too) before the next forward.
     */
    Pass forwardReusing(double[] x, int batch, int steps, double[] h0, double[] c0, int[] lengths, double[][] masks) {
        return forward(x, batch, steps, h0, c0, lengths, masks, true);
    }

    private Pass forward(double[] x, int batch, int steps, double[] h0, double[] c0, int[] lengths, double[][] masks, boolean reuse) {
        if (!(batch > 0 && steps > 0 && x.length == batch * steps * config.inputSize())) {
            // the message is built only on failure: a training step builds none
            Validate.input(false, "forward: x has " + x.length + " values, expected B*T*I = " + batch + "*" + steps + "*" + config.inputSize());
        }
        int ld = config.numLayers() * config.directions();
        Validate.input(h0 == null || h0.length == ld * batch * config.outputHiddenSize(), "forward: h0 has the wrong size");
        Validate.input(c0 == null || c0.length == ld * batch * config.hiddenSize(), "forward: c0 has the wrong size");
        if (fastPath) {
            FastRun run = reuse ? cachedRun(batch, steps) : new FastRun(batch, steps);
            return run.forward(x, h0, c0, lengths, masks);
        }
        double[] xr = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            xr[k] = precision.round(x[k]);
        }
        Tape tape = ReferenceBackward.forward(config, cells, batch, steps, xr, h0, c0, lengths, masks);
        return new Pass(tape, null, tape.output(), tape.hN(), tape.cN(), headOut > 0 ? linear(tape.output()) : null);
    }

    private FastRun cachedRun(int batch, int steps) {
        for (FastRun f : fastRuns) {
            if (f != null && f.fb.fits(config, batch, steps, threads)) {
                return f;
            }
        }
        fastRuns[1] = fastRuns[0];
        fastRuns[0] = new FastRun(batch, steps);
        return fastRuns[0];
    }

    /** A fast-path workspace, the arrays a pass returns and the pass itself. */
    private final class FastRun {
        final FastBackward fb;
        final double[] output, hN, cN, head, dOut;
        final Pass pass;

        FastRun(int batch, int steps) {
            int ld = config.numLayers() * config.directions();
            fb = new FastBackward(config, batch, steps, threads);
            output = new double[batch * steps * config.outputSize()];
            hN = new double[ld * batch * config.outputHiddenSize()];
            cN = new double[ld * batch * config.hiddenSize()];
            head = headOut > 0 ? new double[batch * steps * headOut] : null;
            dOut = new double[output.length];
            pass = new Pass(null, this, output, hN, cN, head);
        }

        Pass forward(double[] x, double[] h0, double[] c0, int[] lengths, double[][] masks) {
            for (int k = 0; k < cells.length; k++) {
                ReferenceLstm.Params w = cells[k];
                fb.weights(k, w.weightIh(), w.weightHh(), w.biasIh(), w.biasHh(), w.weightHr());
            }
            fb.forward(x, h0, c0, lengths, masks, output, hN, cN);
            if (head != null) {
                linear(output, head);
            }
            pass.forwardNumber = fb.forwards();
            return pass;
        }
    }

    /** {@code fc(out)} on every row, rounded as {@link Linear#apply} rounds. */
    private double[] linear(double[] in) {
        double[] y = new double[in.length / config.outputSize() * headOut];
        linear(in, y);
        return y;
    }

    private void linear(double[] in, double[] y) {
        int f = config.outputSize();
        int rows = in.length / f;
        double[] w = headWeight.value(), b = headBias.value();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < headOut; j++) {
                double acc = 0;
                for (int k = 0; k < f; k++) {
                    acc += w[j * f + k] * in[r * f + k];
                }
                y[r * headOut + j] = precision.round(precision.round(acc) + b[j]);
            }
        }
    }

    /** One forward pass and its backward. Not thread-safe; use each pass once. */
    public final class Pass {
        private final Tape tape;
        private final FastRun fast;
        private final double[] output, hN, cN;
        private final double[] head;
        private int forwardNumber;

        private Pass(Tape tape, FastRun fast, double[] output, double[] hN, double[] cN, double[] head) {
            this.tape = tape;
            this.fast = fast;
            this.output = output;
            this.hN = hN;
            this.cN = cN;
            this.head = head;
        }

        /** The LSTM's output (B, T, D*Hh) (live; do not change). */
        public double[] output() {
            return output;
        }

        /** h_n (L*D, B, Hh). */
        public double[] hN() {
            return hN;
        }

        /** c_n (L*D, B, H). */
        public double[] cN() {
            return cN;
        }

        /** The head's output (B, T, O), or null without a head. */
        public double[] head() {
            return head;
        }

        /**
         * Backward from the gradients of the outputs; adds into every parameter's gradient and returns those of x,
         * h0 and c0. Any argument may be null (zero gradient).
         *
         * @param dHead   (B, T, O)
         * @param dOutput (B, T, D*Hh), added to what flows back from the head
         * @param dHn     (L*D, B, Hh)
         * @param dCn     (L*D, B, H)
         */
        public InputGrads backward(double[] dHead, double[] dOutput, double[] dHn, double[] dCn) {
            return backward(dHead, dOutput, dHn, dCn, ReferenceBackward::stepBackward);
        }

        /** As {@link #backward(double[], double[], double[], double[])}, with {@code step} for each step's backward (for tests). */
        public InputGrads backward(double[] dHead, double[] dOutput, double[] dHn, double[] dCn, ReferenceBackward.StepBackward step) {
            double[] dOut = outputGradient(dHead, dOutput);
            if (fast != null) {
                InputGrads g = new InputGrads(new double[fast.fb.inputLength()], new double[hN.length], new double[cN.length]);
                fast.fb.backward(dOut, dHn, dCn, cellGrads, g.dInput(), g.dH0(), g.dC0());
                return g;
            }
            return ReferenceBackward.backward(tape, dOut, dHn, dCn, cellGrads, step);
        }

        /** The training loop's backward: from the head's gradient into the parameters' only, allocating nothing on the fast path. */
        void backwardParameters(double[] dHead) {
            if (fast == null) {
                backward(dHead, null, null, null);
                return;
            }
            fast.fb.backward(outputGradient(dHead, null), null, null, cellGrads, null, null, null);
        }

        /** dOutput plus what flows back from the head (a new array, or the fast path's own). */
        private double[] outputGradient(double[] dHead, double[] dOutput) {
            if (fast != null && fast.fb.forwards() != forwardNumber) {
                throw new IllegalStateException("this pass's tape was overwritten by a later forward; run backward before the next forward");
            }
            double[] dOut;
            if (fast != null) {
                dOut = fast.dOut;
                if (dOutput == null) {
                    java.util.Arrays.fill(dOut, 0);
                } else {
                    System.arraycopy(dOutput, 0, dOut, 0, dOut.length);
                }
            } else {
                dOut = dOutput == null ? new double[output.length] : dOutput.clone();
            }
            if (dHead != null) {
                Validate.input(headOut > 0, "backward: a head gradient for a model without a head");
                ReferenceBackward.linearBackward(headWeight.value(), headOut, config.outputSize(), output, dHead,
                        headWeight.grad(), headBias.grad(), dOut);
            }
            return dOut;
        }
    }
}
