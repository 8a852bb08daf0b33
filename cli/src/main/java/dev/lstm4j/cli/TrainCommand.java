package dev.lstm4j.cli;

import dev.lstm4j.DType;
import dev.lstm4j.InputException;
import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Csv;
import dev.lstm4j.train.Adam;
import dev.lstm4j.train.Dataset;
import dev.lstm4j.train.Loss;
import dev.lstm4j.train.Optimizer;
import dev.lstm4j.train.Parameter;
import dev.lstm4j.train.Reduction;
import dev.lstm4j.train.RmsProp;
import dev.lstm4j.train.Sgd;
import dev.lstm4j.train.TrainableLstm;
import dev.lstm4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code lstm4j train}: trains an {@code nn.LSTM} with an {@code nn.Linear} head in pure Java, on windows over a CSV time
 * series or on a .npy dataset, and writes a safetensors file with PyTorch's key names that {@code lstm4j run} runs and
 * PyTorch loads with {@code load_state_dict(strict=True)}.
 */
@Command(name = "train", header = "Trains an LSTM with a Linear head on a CSV time series or a .npy dataset; writes safetensors.",
        mixinStandardHelpOptions = true,
        description = {"CSV: each window of --window rows (all columns, or --features) predicts the next --horizon rows of the",
                "--target columns; the last --val fraction of windows (in time order) is the validation set. Inputs and",
                "targets are standardised for training and the scaling is folded into the saved weights, so the saved",
                "model takes raw values and predicts raw values (head output at the last step: horizon x targets).",
                ".npy: --data X (N, T, I) and --labels Y (N, O) for the last step, or (N, T, O) for every step.",
                "The model is PyTorch's  lstm = nn.LSTM(I, hidden, layers, batch_first=True, ...); fc = nn.Linear(D*H, O)",
                "with keys lstm.weight_ih_l0 ... fc.weight, fc.bias. Same --seed, same model, bit for bit.",
                "Progress (loss, validation loss, ETA) goes to stderr; a summary to stdout (--json for a program)."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j train --data series.csv --target load --window 48 --horizon 1 --out model.safetensors",
                "  lstm4j train --data series.csv --target 0 --window 24 --hidden 32 --epochs 30 --optimizer adam --lr 0.005 \\",
                "      --clip 1 --patience 5 --plot loss.html --out model.safetensors",
                "  lstm4j train --data x.npy --labels y.npy --hidden 64 --layers 2 --dropout 0.2 --tbptt 20 --out model.safetensors",
                "  lstm4j run --weights model.safetensors --input last_window.csv --out results/"})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "FILE", description = "A CSV time series (one row per step) or an X .npy (N, T, I).")
    Path data;

    @Option(names = "--labels", paramLabel = "Y.npy", description = "Targets for a .npy --data: (N, O) for the last step or (N, T, O) for every step.")
    Path labels;

    @Option(names = "--target", split = ",", paramLabel = "COL", description = "CSV columns to predict, by header name or 0-based index (default: the last column).")
    List<String> target;

    @Option(names = "--features", split = ",", paramLabel = "COL", description = "CSV columns the model reads (default: all).")
    List<String> features;

    @Option(names = "--window", defaultValue = "24", description = "CSV: steps per input window (default ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--horizon", defaultValue = "1", description = "CSV: steps to predict after each window (default ${DEFAULT-VALUE}).")
    int horizon;

    @Option(names = "--hidden", defaultValue = "32", description = "hidden_size (default ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--layers", defaultValue = "1", description = "num_layers (default ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--bidirectional", description = "bidirectional=True.")
    boolean bidirectional;

    @Option(names = "--proj", defaultValue = "0", description = "proj_size (default 0, none).")
    int proj;

    @Option(names = "--dropout", defaultValue = "0", description = "Inter-layer dropout p (default 0).")
    double dropout;

    @Option(names = "--epochs", defaultValue = "20", description = "Epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "32", description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "0.005", description = "Learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--optimizer", defaultValue = "adam", description = "adam, adamw, sgd or rmsprop (default ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--momentum", defaultValue = "0", description = "Momentum for sgd and rmsprop (default 0).")
    double momentum;

    @Option(names = "--weight-decay", paramLabel = "WD", description = "Weight decay (default: 0, or 0.01 for adamw).")
    Double weightDecay;

    @Option(names = "--loss", defaultValue = "mse", description = "mse, l1, huber or smooth-l1 (default ${DEFAULT-VALUE}).")
    String loss;

    @Option(names = "--clip", defaultValue = "0", description = "clip_grad_norm_ max norm (default 0, none).")
    double clip;

    @Option(names = "--tbptt", defaultValue = "0", description = "Truncated BPTT chunk length k (default 0, full BPTT).")
    int tbptt;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds initial weights, shuffling and dropout (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--val", defaultValue = "0.2", description = "Fraction of windows held out for validation (default ${DEFAULT-VALUE}).")
    double val;

    @Option(names = "--patience", defaultValue = "0", description = "Early stopping after this many epochs without a better validation loss (default 0, off).")
    int patience;

    @Option(names = "--no-normalize", description = "Train on raw values (default: standardise, then fold the scaling into the weights).")
    boolean noNormalize;

    @Option(names = "--float64", description = "Train and save in float64 (default float32).")
    boolean float64;

    @Option(names = "--reference", description = "Train on the readable reference path (one method per equation) instead of the batched float32 path.")
    boolean reference;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The trained model, .safetensors.")
    Path out;

    @Option(names = "--plot", paramLabel = "FILE", description = "Write the loss curve as a self-contained HTML page.")
    Path plot;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "Save a checkpoint (weights, optimizer state, step, generator) after every epoch.")
    Path checkpoint;

    @Option(names = "--resume", paramLabel = "FILE", description = "Resume from a checkpoint; give the same options as the run that wrote it.")
    Path resume;

    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    /** What the command prepared from its input: datasets in training units and the scaling. */
    record Prepared(Dataset train, Dataset validation, double[] xMean, double[] xStd, double[] yMean, double[] yStd,
                    double persistenceMse, String description) {
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outWriter = spec.commandLine().getOut();
        validate();
        Precision precision = float64 ? Precision.F64 : Precision.F32;
        Prepared p = prepare();
        LstmConfig config = new LstmConfig(p.train().features(), hidden, layers, bidirectional, proj, true);
        TrainableLstm model = TrainableLstm.create(config, p.train().targets(), dropout, precision, seed);
        model.setFastPath(precision == Precision.F32 && !reference);
        Optimizer opt = optimizer(model);
        Trainer.Options options = Trainer.Options.defaults().withEpochs(epochs).withBatchSize(batch).withTbptt(tbptt).withClipNorm(clip)
                .withPatience(patience).withSeed(seed);
        Trainer trainer = new Trainer(model, opt, lossFunction(), options);
        if (resume != null) {
            trainer.restore(resume);
            err.printf(Locale.ROOT, "resumed from %s at epoch %d%n", resume, trainer.epoch());
        }
        err.printf(Locale.ROOT, "%s%ntraining %s + Linear(%d, %d) with %s, %s on the %s path; %d training and %d validation sequences%n",
                p.description(), config, config.outputSize(), p.train().targets(), opt, lossFunction().name(),
                model.fastPath() ? "batched float32" : "reference", p.train().size(), p.validation() == null ? 0 : p.validation().size());
        long start = System.nanoTime();
        int startEpoch = trainer.epoch();
        trainer.fit(p.train(), p.validation(), new Trainer.Listener() {
            @Override
            public void onEpoch(Trainer.Epoch e) {
                double elapsed = (System.nanoTime() - start) / 1e9;
                int done = e.epoch() - startEpoch;
                double eta = elapsed / done * (epochs - e.epoch());
                err.printf(Locale.ROOT, "epoch %3d/%d  loss %.6f  val %s  %.1fs  eta %.0fs%n", e.epoch(), epochs, e.trainLoss(),
                        Double.isNaN(e.valLoss()) ? "-" : String.format(Locale.ROOT, "%.6f", e.valLoss()), elapsed, eta);
                err.flush();
                if (checkpoint != null) {
                    trainer.save(checkpoint);
                }
            }
        });
        if (trainer.stoppedEarly()) {
            err.printf(Locale.ROOT, "early stopping after epoch %d (no better validation loss for %d epochs)%n", trainer.epoch(), patience);
        }
        boolean best = p.validation() != null && trainer.useBestWeights();
        Map<String, Tensor> sd = fold(model, p);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("lstm4j", "trained by lstm4j train " + Lstm4j.version());
        meta.put("model", config + " + fc=Linear(" + config.outputSize() + ", " + p.train().targets() + "), batch_first=True");
        meta.put("seed", Long.toString(seed));
        meta.put("input", p.description());
        try {
            if (out.toAbsolutePath().getParent() != null) {
                Files.createDirectories(out.toAbsolutePath().getParent());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the directory of --out " + out + ": " + e.getMessage(), e);
        }
        Lstm4j.writeSafetensors(out, sd, meta);
        // validation loss in the data's own units, on the saved (folded) model
        double rawVal = Double.NaN;
        if (p.validation() != null) {
            rawVal = rawValidationMse(sd, config, p, precision);
        }
        if (plot != null) {
            LossPlot.write(plot, trainer.history(), p.persistenceMse() / meanVariance(p), "lstm4j train: " + config);
        }
        List<Trainer.Epoch> h = trainer.history();
        Trainer.Epoch last = h.isEmpty() ? null : h.get(h.size() - 1);
        if (json) {
            outWriter.printf(Locale.ROOT, "{\"out\": \"%s\", \"epochs\": %d, \"stopped_early\": %b, \"train_loss\": %s, \"val_loss\": %s,"
                            + " \"best_val_loss\": %s, \"val_mse\": %s, \"persistence_mse\": %s}%n", out.toString().replace("\\", "\\\\"), trainer.epoch(),
                    trainer.stoppedEarly(), last == null ? "null" : num(last.trainLoss()), last == null ? "null" : num(last.valLoss()),
                    num(trainer.bestValidationLoss()), num(rawVal), num(p.persistenceMse()));
        } else {
            outWriter.printf(Locale.ROOT, "wrote %s (%d tensors, %s)%n", out, sd.size(), precision.dtype().torchName());
            if (p.validation() != null) {
                outWriter.printf(Locale.ROOT, "validation MSE %.6g in the data's units (%s weights)%n", rawVal, best ? "best epoch's" : "last epoch's");
                if (!Double.isNaN(p.persistenceMse())) {
                    outWriter.printf(Locale.ROOT, "persistence baseline (next value = last value) MSE %.6g: %s%n", p.persistenceMse(),
                            rawVal < p.persistenceMse() ? "beaten" : "NOT beaten");
                }
            }
            if (plot != null) {
                outWriter.printf(Locale.ROOT, "loss curve: %s%n", plot);
            }
        }
        outWriter.flush();
        return 0;
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    private void validate() {
        check(window > 0, "--window must be positive, got " + window);
        check(horizon > 0, "--horizon must be positive, got " + horizon);
        check(hidden > 0, "--hidden must be positive, got " + hidden);
        check(layers > 0, "--layers must be positive, got " + layers);
        check(proj >= 0 && (proj == 0 || proj < hidden), "--proj must be 0 or smaller than --hidden, got " + proj);
        check(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1), got " + dropout);
        check(epochs > 0, "--epochs must be positive, got " + epochs);
        check(batch > 0, "--batch must be positive, got " + batch);
        check(lr > 0, "--lr must be positive, got " + lr);
        check(val >= 0 && val < 1, "--val must be in [0, 1), got " + val);
        check(clip >= 0, "--clip must be >= 0, got " + clip);
        check(tbptt >= 0, "--tbptt must be >= 0, got " + tbptt);
        check(List.of("adam", "adamw", "sgd", "rmsprop").contains(optimizer), "--optimizer must be adam, adamw, sgd or rmsprop, got '" + optimizer + "'");
        check(List.of("mse", "l1", "huber", "smooth-l1").contains(loss), "--loss must be mse, l1, huber or smooth-l1, got '" + loss + "'");
        check(patience == 0 || val > 0, "--patience needs a validation set; give --val > 0");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new InputException(message);
        }
    }

    private Loss lossFunction() {
        return switch (loss) {
            case "l1" -> Loss.l1(Reduction.MEAN);
            case "huber" -> Loss.huber(1.0, Reduction.MEAN);
            case "smooth-l1" -> Loss.smoothL1(1.0, Reduction.MEAN);
            default -> Loss.mse(Reduction.MEAN);
        };
    }

    private Optimizer optimizer(TrainableLstm m) {
        List<Parameter> ps = m.parameters();
        double wd = weightDecay == null ? 0 : weightDecay;
        return switch (optimizer) {
            case "sgd" -> new Sgd(ps, m.precision(), Sgd.Options.lr(lr).withMomentum(momentum).withWeightDecay(wd));
            case "rmsprop" -> new RmsProp(ps, m.precision(), RmsProp.Options.lr(lr).withMomentum(momentum).withWeightDecay(wd));
            case "adamw" -> new Adam(ps, m.precision(), Adam.Options.adamW(lr).withWeightDecay(weightDecay == null ? 0.01 : wd));
            default -> new Adam(ps, m.precision(), Adam.Options.adam(lr).withWeightDecay(wd));
        };
    }

    // ---- data ----

    private boolean isNpy(Path f) {
        return f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy");
    }

    private Prepared prepare() {
        return isNpy(data) ? prepareNpy() : prepareCsv();
    }

    private static int column(String spec, List<String> header, int columns, String option) {
        if (header != null) {
            int k = header.indexOf(spec);
            if (k >= 0) {
                return k;
            }
        }
        try {
            int k = Integer.parseInt(spec.strip());
            check(k >= 0 && k < columns, option + " " + spec + ": column index outside 0.." + (columns - 1));
            return k;
        } catch (NumberFormatException e) {
            throw new InputException(option + " '" + spec + "': no such column" + (header == null ? " (the CSV has no header; give a 0-based index)"
                    : "; the header has " + header));
        }
    }

    private Prepared prepareCsv() {
        check(labels == null, "--labels is for a .npy --data; a CSV predicts its own --target columns");
        Csv.Table table = Csv.read(data, DType.F64);
        Tensor v = table.values();
        int rows = v.size(0), cols = v.size(1);
        double[] all = v.toDoubleArray();
        int[] feat;
        if (features == null) {
            feat = new int[cols];
            for (int k = 0; k < cols; k++) {
                feat[k] = k;
            }
        } else {
            feat = features.stream().mapToInt(s -> column(s, table.header(), cols, "--features")).toArray();
        }
        int[] targ = target == null ? new int[] {cols - 1} : target.stream().mapToInt(s -> column(s, table.header(), cols, "--target")).toArray();
        int n = rows - window - horizon + 1;
        check(n >= 2, data + ": " + rows + " rows make " + Math.max(0, n) + " windows of " + window + " + " + horizon
                + " steps; give a longer series or a smaller --window/--horizon");
        int nVal = (int) Math.floor(n * val);
        // training windows end (targets included) before the first validation window starts
        int nTrain = nVal == 0 ? n : n - nVal - (window + horizon - 1);
        check(nTrain >= 1, data + ": too few rows for a training set before the " + nVal + " validation windows; lower --val or --window");
        int f = feat.length, o = targ.length * horizon;
        // statistics from the training rows only
        int trainRows = nTrain + window + horizon - 1;
        double[] xMean = new double[f], xStd = new double[f], yMean = new double[o], yStd = new double[o];
        for (int k = 0; k < f; k++) {
            double[] st = stats(all, cols, feat[k], trainRows);
            xMean[k] = noNormalize ? 0 : st[0];
            xStd[k] = noNormalize ? 1 : st[1];
        }
        for (int j = 0; j < targ.length; j++) {
            double[] st = stats(all, cols, targ[j], trainRows);
            for (int hz = 0; hz < horizon; hz++) {
                yMean[hz * targ.length + j] = noNormalize ? 0 : st[0];
                yStd[hz * targ.length + j] = noNormalize ? 1 : st[1];
            }
        }
        double[] x = new double[n * window * f], y = new double[n * o];
        for (int s = 0; s < n; s++) {
            for (int t = 0; t < window; t++) {
                for (int k = 0; k < f; k++) {
                    x[(s * window + t) * f + k] = (all[(s + t) * cols + feat[k]] - xMean[k]) / xStd[k];
                }
            }
            for (int hz = 0; hz < horizon; hz++) {
                for (int j = 0; j < targ.length; j++) {
                    int q = hz * targ.length + j;
                    y[s * o + q] = (all[(s + window + hz) * cols + targ[j]] - yMean[q]) / yStd[q];
                }
            }
        }
        Dataset whole = Dataset.lastStep(x, y, n, window, f, o);
        Dataset train = whole.slice(0, nTrain);
        Dataset validation = nVal == 0 ? null : whole.slice(n - nVal, n);
        // persistence: every future value of a target = its last value in the window (needs the target among the features)
        double persistence = Double.NaN;
        boolean targetsAreFeatures = true;
        for (int tc : targ) {
            targetsAreFeatures &= java.util.Arrays.stream(feat).anyMatch(fc -> fc == tc);
        }
        if (nVal > 0 && targetsAreFeatures) {
            double sum = 0;
            for (int s = n - nVal; s < n; s++) {
                for (int hz = 0; hz < horizon; hz++) {
                    for (int tc : targ) {
                        double d = all[(s + window + hz) * cols + tc] - all[(s + window - 1) * cols + tc];
                        sum += d * d;
                    }
                }
            }
            persistence = sum / ((double) nVal * o);
        }
        String desc = String.format(Locale.ROOT, "%s: %d rows x %d columns; windows of %d steps, %d features -> %d target(s) x %d step(s); "
                + "%d train / %d validation windows", data, rows, cols, window, f, targ.length, horizon, nTrain, nVal);
        return new Prepared(train, validation, xMean, xStd, yMean, yStd, persistence, desc);
    }

    private static double[] stats(double[] all, int cols, int c, int rows) {
        double mean = 0;
        for (int r = 0; r < rows; r++) {
            mean += all[r * cols + c];
        }
        mean /= rows;
        double var = 0;
        for (int r = 0; r < rows; r++) {
            double d = all[r * cols + c] - mean;
            var += d * d;
        }
        double std = Math.sqrt(var / rows);
        return new double[] {mean, std > 1e-12 ? std : 1};
    }

    private Prepared prepareNpy() {
        check(labels != null, "a .npy --data needs --labels Y.npy with the targets");
        Tensor xt = Lstm4j.readNpy(data), yt = Lstm4j.readNpy(labels);
        check(xt.rank() == 3, data + ": expected X of shape (N, T, I), got " + Tensor.shapeString(xt.shape()));
        int n = xt.size(0), t = xt.size(1), f = xt.size(2);
        boolean every = yt.rank() == 3;
        check((yt.rank() == 2 || every) && yt.size(0) == n && (!every || yt.size(1) == t), labels + ": expected Y of shape (N=" + n
                + ", O) or (N=" + n + ", T=" + t + ", O), got " + Tensor.shapeString(yt.shape()));
        int o = yt.size(-1);
        double[] x = xt.toDoubleArray(), y = yt.toDoubleArray();
        int nVal = (int) Math.floor(n * val);
        int nTrain = n - nVal;
        check(nTrain >= 1, "--val " + val + " leaves no training sequences of " + n);
        double[] xMean = new double[f], xStd = new double[f], yMean = new double[o], yStd = new double[o];
        int yRows = every ? nTrain * t : nTrain;
        for (int k = 0; k < f; k++) {
            double[] st = stats(x, f, k, nTrain * t);
            xMean[k] = noNormalize ? 0 : st[0];
            xStd[k] = noNormalize ? 1 : st[1];
        }
        for (int k = 0; k < o; k++) {
            double[] st = stats(y, o, k, yRows);
            yMean[k] = noNormalize ? 0 : st[0];
            yStd[k] = noNormalize ? 1 : st[1];
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (x[i] - xMean[i % f]) / xStd[i % f];
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = (y[i] - yMean[i % o]) / yStd[i % o];
        }
        Dataset whole = new Dataset(x, y, n, t, f, o, every);
        String desc = String.format(Locale.ROOT, "%s, %s: %d sequences of %d steps x %d features -> %d target(s)%s; %d train / %d validation",
                data, labels, n, t, f, o, every ? " per step" : "", nTrain, nVal);
        return new Prepared(whole.slice(0, nTrain), nVal == 0 ? null : whole.slice(nTrain, n), xMean, xStd, yMean, yStd, Double.NaN, desc);
    }

    /**
     * The state dict with the standardisation folded in: x' = (x − μx)/σx enters through W_ih, so W_ih' = W_ih / σx and
     * b_ih' = b_ih − W_ih' μx; y = σy y' + μy leaves through the head, so fc.weight' = σy fc.weight and
     * fc.bias' = σy fc.bias + μy.
     */
    static Map<String, Tensor> fold(TrainableLstm model, Prepared p) {
        Map<String, Tensor> sd = model.stateDict();
        Map<String, Tensor> out = new LinkedHashMap<>();
        DType dt = model.precision().dtype();
        int f = model.config().inputSize(), o = model.headOut();
        int dirs = model.config().directions();
        Map<String, double[]> v = new LinkedHashMap<>();
        for (Parameter q : model.parameters()) {
            v.put(q.name(), q.value().clone());
        }
        for (int dir = 0; dir < dirs; dir++) {
            String s = LstmConfig.suffix(0, dir);
            double[] w = v.get("lstm.weight_ih_" + s), b = v.get("lstm.bias_ih_" + s);
            for (int r = 0; r < w.length / f; r++) {
                double shift = 0;
                for (int k = 0; k < f; k++) {
                    w[r * f + k] /= p.xStd()[k];
                    shift += w[r * f + k] * p.xMean()[k];
                }
                b[r] -= shift;
            }
        }
        double[] fw = v.get("fc.weight"), fb = v.get("fc.bias");
        int in = fw.length / o;
        for (int j = 0; j < o; j++) {
            for (int k = 0; k < in; k++) {
                fw[j * in + k] *= p.yStd()[j];
            }
            fb[j] = fb[j] * p.yStd()[j] + p.yMean()[j];
        }
        for (Map.Entry<String, Tensor> e : sd.entrySet()) {
            out.put(e.getKey(), Tensor.of(dt, e.getValue().shape(), v.get(e.getKey())));
        }
        return out;
    }

    /** MSE of the saved model on the validation windows, in the data's units. */
    private static double rawValidationMse(Map<String, Tensor> sd, LstmConfig config, Prepared p, Precision precision) {
        Dataset v = p.validation();
        TrainableLstm raw = TrainableLstm.fromStateDict(config, v.targets(), 0, precision, sd);
        int f = v.features(), o = v.targets(), t = v.steps();
        double[] x = v.x().clone(), y = v.y().clone();
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] * p.xStd()[i % f] + p.xMean()[i % f];
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = y[i] * p.yStd()[i % o] + p.yMean()[i % o];
        }
        Trainer evaluator = new Trainer(raw, new Sgd(raw.parameters(), precision, Sgd.Options.lr(0)), Loss.mse(Reduction.MEAN),
                Trainer.Options.defaults().withBatchSize(64));
        return evaluator.evaluate(new Dataset(x, y, v.size(), t, f, o, v.everyStep()));
    }

    /** Mean of σy², to draw the persistence baseline in the training loss's (standardised) units. */
    private static double meanVariance(Prepared p) {
        double s = 0;
        for (double sd : p.yStd()) {
            s += sd * sd;
        }
        return s / p.yStd().length;
    }
}
