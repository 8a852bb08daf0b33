package dev.lstm4j.train;

import dev.lstm4j.DType;
import dev.lstm4j.Lstm4j;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.internal.train.Rng;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loop, as a PyTorch user writes it:
 * <pre>
 * for epoch in range(epochs):
 *     for xb, yb in batches(train, shuffle=True):          # seeded
 *         state = None
 *         for chunk in split(xb, tbptt):                    # one chunk when tbptt = 0
 *             opt.zero_grad()
 *             y, (h, c) = model(chunk, state)               # dropout masks drawn from the seeded generator
 *             loss = loss_fn(y[:, -1] or y, yb)             # sequence to one: only the last chunk has a loss
 *             loss.backward(); clip_grad_norm_(...); opt.step()
 *             state = (h.detach(), c.detach())
 *     val = evaluate(val_set); early stopping keeps the best weights
 * </pre>
 * Every random choice (shuffle, dropout) comes from one seeded generator whose state a checkpoint saves, so the same
 * seed gives the same model bit for bit and a run resumed from a checkpoint ends bit-identical to one that was not
 * interrupted (proven by {@code TrainerTest}). Mutable and not thread-safe.
 */
public final class Trainer {
    /**
     * The loop's options; immutable, with withers.
     *
     * @param epochs    total epochs (a resumed run continues up to this number)
     * @param batchSize sequences per optimizer step
     * @param tbptt     truncated BPTT chunk length k (state carried and detached every k steps), 0 for full BPTT
     * @param clipNorm  {@code clip_grad_norm_} max norm (2-norm), 0 for none
     * @param clipValue {@code clip_grad_value_} bound, 0 for none
     * @param patience  early stopping: epochs without a better validation loss before stopping, 0 for none
     * @param seed      seeds shuffling and dropout
     * @param shuffle   shuffle the training set every epoch
     */
    public record Options(int epochs, int batchSize, int tbptt, double clipNorm, double clipValue, int patience, long seed, boolean shuffle) {
        public Options {
            Validate.input(epochs > 0, "epochs must be positive, got " + epochs);
            Validate.input(batchSize > 0, "batch size must be positive, got " + batchSize);
            Validate.input(tbptt >= 0, "tbptt must be 0 (full BPTT) or a chunk length, got " + tbptt);
            Validate.input(clipNorm >= 0 && clipValue >= 0, "clip bounds must be >= 0 (0 for none)");
            Validate.input(patience >= 0, "patience must be >= 0 (0 for no early stopping), got " + patience);
        }

        /** 10 epochs, batch 32, full BPTT, no clipping, no early stopping, seed 0, shuffled. */
        public static Options defaults() {
            return new Options(10, 32, 0, 0, 0, 0, 0, true);
        }

        public Options withEpochs(int v) {
            return new Options(v, batchSize, tbptt, clipNorm, clipValue, patience, seed, shuffle);
        }

        public Options withBatchSize(int v) {
            return new Options(epochs, v, tbptt, clipNorm, clipValue, patience, seed, shuffle);
        }

        public Options withTbptt(int v) {
            return new Options(epochs, batchSize, v, clipNorm, clipValue, patience, seed, shuffle);
        }

        public Options withClipNorm(double v) {
            return new Options(epochs, batchSize, tbptt, v, clipValue, patience, seed, shuffle);
        }

        public Options withClipValue(double v) {
            return new Options(epochs, batchSize, tbptt, clipNorm, v, patience, seed, shuffle);
        }

        public Options withPatience(int v) {
            return new Options(epochs, batchSize, tbptt, clipNorm, clipValue, v, seed, shuffle);
        }

        public Options withSeed(long v) {
            return new Options(epochs, batchSize, tbptt, clipNorm, clipValue, patience, v, shuffle);
        }

        public Options withShuffle(boolean v) {
            return new Options(epochs, batchSize, tbptt, clipNorm, clipValue, patience, seed, v);
        }
    }

    /** One finished epoch: its mean training loss and validation loss (NaN without a validation set). */
    public record Epoch(int epoch, double trainLoss, double valLoss) {
    }

    /** Progress callbacks; both have empty defaults. */
    public interface Listener {
        default void onBatch(int epoch, int batch, int batches, double loss) {
        }

        default void onEpoch(Epoch epoch) {
        }
    }

    private static final String CHECKPOINT_FORMAT = "lstm4j-train-checkpoint-1";

    private final TrainableLstm model;
    private final Optimizer optimizer;
    private final Loss loss;
    private final Options options;
    private final Rng rng;
    private final java.util.function.DoubleSupplier uniform;
    private int epoch;
    private final List<Epoch> history = new ArrayList<>();
    private double bestVal = Double.POSITIVE_INFINITY;
    private int badEpochs;
    private Map<String, double[]> best;
    private boolean stopped;
    // the steps' buffers, kept so that warm steps on the fast path allocate nothing
    private int[] order;
    private double[] xBuf, yBuf, xChunk, pred, target, grad, dHead, hCarry, cCarry;

    public Trainer(TrainableLstm model, Optimizer optimizer, Loss loss, Options options) {
        Validate.input(model != null && optimizer != null && loss != null && options != null, "Trainer needs a model, an optimizer, a loss and options");
        Validate.input(model.headOut() > 0, "Trainer: the model needs a head (headOut > 0); the loss is computed on its output");
        this.model = model;
        this.optimizer = optimizer;
        this.loss = loss;
        this.options = options;
        this.rng = new Rng(options.seed());
        this.uniform = rng::nextDouble;
    }

    public TrainableLstm model() {
        return model;
    }

    /** Epochs finished. */
    public int epoch() {
        return epoch;
    }

    /** Every finished epoch, in order. */
    public List<Epoch> history() {
        return Collections.unmodifiableList(history);
    }

    /** Whether early stopping ended the run. */
    public boolean stoppedEarly() {
        return stopped;
    }

    /** The best validation loss so far (infinity before the first validated epoch). */
    public double bestValidationLoss() {
        return bestVal;
    }

    private void checkShapes(Dataset d, String what) {
        Validate.input(d.features() == model.config().inputSize(), what + ": " + d.features() + " features per step, the model takes "
                + model.config().inputSize());
        Validate.input(d.targets() == model.headOut(), what + ": " + d.targets() + " targets, the model's head gives " + model.headOut());
    }

    /**
     * Runs epochs up to {@link Options#epochs()} (from where a restored checkpoint left off), validating after each when
     * {@code val} is given; with patience, stops after that many epochs without improvement (then call
     * {@link #useBestWeights()}).
     *
     * @param val      validation set or null
     * @param listener progress, or null
     */
    public List<Epoch> fit(Dataset train, Dataset val, Listener listener) {
        checkShapes(train, "training set");
        if (val != null) {
            checkShapes(val, "validation set");
        }
        Listener l = listener == null ? new Listener() { } : listener;
        while (epoch < options.epochs() && !stopped) {
            double trainLoss = trainEpoch(train, l);
            double valLoss = val == null ? Double.NaN : evaluate(val);
            epoch++;
            Epoch e = new Epoch(epoch, trainLoss, valLoss);
            history.add(e);
            if (val != null) {
                if (valLoss < bestVal) {
                    bestVal = valLoss;
                    badEpochs = 0;
                    best = snapshot();
                } else if (++badEpochs >= options.patience() && options.patience() > 0 && epoch < options.epochs()) {
                    stopped = true;
                }
            }
            l.onEpoch(e);
        }
        return history();
    }

    /**
     * Puts the weights of the epoch with the best validation loss back into the model (early stopping's result); does
     * nothing before a validated epoch. Not done by {@link #fit} itself, so that a run saved after {@link #fit} resumes
     * from where it was, not from its best epoch.
     *
     * @return whether weights were restored
     */
    public boolean useBestWeights() {
        if (best == null) {
            return false;
        }
        for (Parameter p : model.parameters()) {
            System.arraycopy(best.get(p.name()), 0, p.value(), 0, p.size());
        }
        return true;
    }

    private Map<String, double[]> snapshot() {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            m.put(p.name(), p.value().clone());
        }
        return m;
    }

    /** One epoch over {@code train}; returns the mean of the batches' losses (of the last chunk's, with TBPTT to one). */
    public double trainEpoch(Dataset train, Listener listener) {
        int n = train.size();
        if (order == null || order.length != n) {
            order = new int[n];
        }
        for (int k = 0; k < n; k++) {
            order[k] = k;
        }
        if (options.shuffle()) {
            rng.shuffle(order);
        }
        int batches = (n + options.batchSize() - 1) / options.batchSize();
        double sum = 0;
        for (int bi = 0; bi < batches; bi++) {
            int from = bi * options.batchSize(), to = Math.min(n, from + options.batchSize());
            double l = trainBatch(train, order, from, to);
            sum += l;
            if (listener != null) {
                listener.onBatch(epoch + 1, bi + 1, batches, l);
            }
        }
        return sum / batches;
    }

    /** An array of length n: {@code a} itself when it has that length, else a new one. */
    private static double[] sized(double[] a, int n) {
        return a != null && a.length == n ? a : new double[n];
    }

    /** One batch: forward, loss, backward, clip, step, per TBPTT chunk. Returns the last loss computed. */
    private double trainBatch(Dataset d, int[] order, int from, int to) {
        int b = to - from, t = d.steps(), in = d.features(), o = d.targets();
        double[] x = xBuf = sized(xBuf, b * t * in);
        double[] y = yBuf = sized(yBuf, b * d.targetsPerSequence());
        for (int r = 0; r < b; r++) {
            int s = order[from + r];
            System.arraycopy(d.x(), s * t * in, x, r * t * in, t * in);
            System.arraycopy(d.y(), s * d.targetsPerSequence(), y, r * d.targetsPerSequence(), d.targetsPerSequence());
        }
        int k = options.tbptt() == 0 ? t : Math.min(options.tbptt(), t);
        double[] h = null, c = null;
        double last = Double.NaN;
        for (int s0 = 0; s0 < t; s0 += k) {
            int len = Math.min(k, t - s0);
            double[] xc = x;
            if (len < t) {
                xc = xChunk = sized(xChunk, b * len * in);
                for (int r = 0; r < b; r++) {
                    System.arraycopy(x, (r * t + s0) * in, xc, r * len * in, len * in);
                }
            }
            boolean lastChunk = s0 + len >= t;
            double[][] masks = model.dropoutMasks(uniform, b, len);
            optimizer.zeroGrad();
            TrainableLstm.Pass pass = model.forwardReusing(xc, b, len, h, c, null, masks);
            if (d.everyStep() || lastChunk) {
                double[] p, g, dh;
                if (d.everyStep()) {
                    p = pass.head();
                    target = sized(target, b * len * o);
                    for (int r = 0; r < b; r++) {
                        System.arraycopy(y, (r * t + s0) * o, target, r * len * o, len * o);
                    }
                    g = dh = grad = sized(grad, b * len * o);
                    last = LossFunctions.computeInto(loss, p, target, g);
                } else {
                    p = pred = sized(pred, b * o);
                    for (int r = 0; r < b; r++) {
                        System.arraycopy(pass.head(), (r * len + len - 1) * o, p, r * o, o);
                    }
                    g = grad = sized(grad, b * o);
                    last = LossFunctions.computeInto(loss, p, y, g);
                    dh = dHead = sized(dHead, b * len * o);
                    java.util.Arrays.fill(dh, 0);
                    for (int r = 0; r < b; r++) {
                        System.arraycopy(g, r * o, dh, (r * len + len - 1) * o, o);
                    }
                }
                pass.backwardParameters(dh);
                if (options.clipNorm() > 0) {
                    GradClip.clipGradNorm(model.parameters(), options.clipNorm(), 2);
                }
                if (options.clipValue() > 0) {
                    GradClip.clipGradValue(model.parameters(), options.clipValue());
                }
                optimizer.step();
            }
            if (!lastChunk) {
                // carry the state, detached: the next chunk's backward stops here
                h = hCarry = sized(hCarry, pass.hN().length);
                c = cCarry = sized(cCarry, pass.cN().length);
                System.arraycopy(pass.hN(), 0, h, 0, h.length);
                System.arraycopy(pass.cN(), 0, c, 0, c.length);
            }
        }
        return last;
    }

    /**
     * The loss over a dataset in evaluation mode (no dropout, no state between sequences): the mean over batches
     * weighted by their size, which for a mean loss is the loss over the whole set.
     */
    public double evaluate(Dataset d) {
        checkShapes(d, "evaluation set");
        int n = d.size(), t = d.steps(), in = d.features(), o = d.targets();
        double sum = 0;
        for (int from = 0; from < n; from += options.batchSize()) {
            int b = Math.min(options.batchSize(), n - from);
            double[] x = java.util.Arrays.copyOfRange(d.x(), from * t * in, (from + b) * t * in);
            double[] target = java.util.Arrays.copyOfRange(d.y(), from * d.targetsPerSequence(), (from + b) * d.targetsPerSequence());
            double[] pred = predict(x, b, t, d.everyStep());
            sum += loss.compute(pred, target).value() * b;
        }
        return sum / n;
    }

    /** The head's output at the last step (B, O), or at every step (B, T, O), in evaluation mode. */
    public double[] predict(double[] x, int batch, int steps, boolean everyStep) {
        int o = model.headOut();
        TrainableLstm.Pass pass = model.forwardReusing(x, batch, steps, null, null, null, null);
        if (everyStep) {
            return pass.head().clone();
        }
        double[] pred = new double[batch * o];
        for (int r = 0; r < batch; r++) {
            System.arraycopy(pass.head(), (r * steps + steps - 1) * o, pred, r * o, o);
        }
        return pred;
    }

    // ---- checkpoints ----

    /**
     * Saves everything a resumed run needs to end bit-identical to an uninterrupted one, as a {@code .safetensors} file:
     * the weights ({@code param/<name>}), the optimizer's buffers ({@code optim/<buffer>/<name>}), the best weights so far
     * ({@code best/<name>}), all as float64, and in the metadata the epoch, optimizer step, generator state, early-stopping
     * state and the loss history.
     */
    public void save(Path file) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            t.put("param/" + p.name(), Tensor.of(DType.F64, p.shape(), p.value()));
        }
        for (Map.Entry<String, double[]> e : optimizer.state().entrySet()) {
            t.put("optim/" + e.getKey(), Tensor.of(DType.F64, new int[] {e.getValue().length}, e.getValue()));
        }
        if (best != null) {
            for (Map.Entry<String, double[]> e : best.entrySet()) {
                t.put("best/" + e.getKey(), Tensor.of(DType.F64, new int[] {e.getValue().length}, e.getValue()));
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", CHECKPOINT_FORMAT);
        meta.put("model", model.config().toString() + " head=" + model.headOut() + " dropout=" + model.dropout() + " " + model.precision());
        meta.put("optimizer", optimizer.toString());
        meta.put("epoch", Integer.toString(epoch));
        meta.put("optimizer_steps", Long.toString(optimizer.steps()));
        meta.put("rng_state", Long.toString(rng.state()));
        meta.put("best_val", Double.toString(bestVal));
        meta.put("bad_epochs", Integer.toString(badEpochs));
        meta.put("stopped", Boolean.toString(stopped));
        StringBuilder h = new StringBuilder();
        for (Epoch e : history) {
            h.append(h.length() == 0 ? "" : ";").append(e.epoch()).append(',').append(e.trainLoss()).append(',').append(e.valLoss());
        }
        meta.put("history", h.toString());
        Lstm4j.writeSafetensors(file, t, meta);
    }

    /**
     * Restores a checkpoint {@link #save} wrote into this trainer, whose model and optimizer must be built as the saved
     * ones were.
     *
     * @throws dev.lstm4j.InputException when the checkpoint belongs to another model or optimizer
     */
    public void restore(Path file) {
        StateDict sd = Lstm4j.readWeights(file);
        Map<String, String> meta = sd.metadata();
        Validate.input(CHECKPOINT_FORMAT.equals(meta.get("format")), file + ": not an lstm4j training checkpoint (format "
                + meta.get("format") + ", expected " + CHECKPOINT_FORMAT + ")");
        String modelDesc = model.config().toString() + " head=" + model.headOut() + " dropout=" + model.dropout() + " " + model.precision();
        Validate.input(modelDesc.equals(meta.get("model")), file + ": checkpoint of " + meta.get("model") + ", but this trainer's model is "
                + modelDesc + "; build the model as it was saved");
        Validate.input(optimizer.toString().equals(meta.get("optimizer")), file + ": checkpoint of optimizer " + meta.get("optimizer")
                + ", but this trainer uses " + optimizer + "; use the same optimizer and options");
        for (Parameter p : model.parameters()) {
            Tensor v = sd.tensors().get("param/" + p.name());
            Validate.input(v != null && v.elementCount() == p.size(), file + ": param/" + p.name() + " is missing or has the wrong size");
            System.arraycopy(v.toDoubleArray(), 0, p.value(), 0, p.size());
        }
        Map<String, double[]> state = new LinkedHashMap<>();
        Map<String, double[]> bestW = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : sd.tensors().entrySet()) {
            if (e.getKey().startsWith("optim/")) {
                state.put(e.getKey().substring("optim/".length()), e.getValue().toDoubleArray());
            } else if (e.getKey().startsWith("best/")) {
                bestW.put(e.getKey().substring("best/".length()), e.getValue().toDoubleArray());
            }
        }
        optimizer.loadState(state, Long.parseLong(meta.get("optimizer_steps")));
        best = bestW.isEmpty() ? null : bestW;
        epoch = Integer.parseInt(meta.get("epoch"));
        rng.setState(Long.parseLong(meta.get("rng_state")));
        bestVal = Double.parseDouble(meta.get("best_val"));
        badEpochs = Integer.parseInt(meta.get("bad_epochs"));
        stopped = Boolean.parseBoolean(meta.get("stopped"));
        history.clear();
        String h = meta.get("history");
        if (h != null && !h.isEmpty()) {
            for (String row : h.split(";")) {
                String[] f = row.split(",");
                history.add(new Epoch(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])));
            }
        }
    }
}
