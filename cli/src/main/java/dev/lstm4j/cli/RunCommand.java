package dev.lstm4j.cli;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.EngineChoice;
import dev.lstm4j.InputException;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Readout;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.PipelineLoader;
import dev.lstm4j.internal.io.Csv;
import dev.lstm4j.internal.io.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lstm4j run}: the forward pass on a file of data, results written as .npy (and CSV). */
@Command(name = "run", header = "Runs the model on a CSV or .npy input; writes output, h_n, c_n (and head) as .npy.", mixinStandardHelpOptions = true,
        description = {"Runs the model on the input and writes y.npy (what PyTorch's model(x) returns), the LSTM's",
                "output.npy, h_n.npy, c_n.npy, and head.npy (when there is a head, the same as y) to --out, in PyTorch's shapes.",
                "The model is --model, else the spec stored in the file (lstm4j convert --model), else the LSTM",
                "with the Linear found beside it on every step; tensors the model leaves unused are an error.",
                "A CSV input also gets CSV copies of each result."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j run --weights model.safetensors --input series.csv --out results/",
                "  lstm4j run --weights model.pt --model \"lstm > last > fc1 > relu > dropout > fc2\" --input batch.npy --out results/",
                "  lstm4j run --weights tagger.pt --model \"emb > lstm > all > fc\" --input ids.npy --out results/",
                "  lstm4j run --weights model.safetensors --input batch.npy --out results/",
                "  lstm4j run --weights model.safetensors --input prices.csv --columns value --out results/ --force",
                "  lstm4j run --weights model.safetensors --input padded.npy --lengths 5,2,4 --out results/",
                "  lstm4j run --weights model.safetensors --input batch.npy --reference --out results/",
                "  lstm4j run --weights model.safetensors --input tbi.npy --seq-first --h0 h0.npy --c0 c0.npy --out results/"})
final class RunCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    InputOptions inputs;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for the results (created if needed). "
            + "One that already holds results (output.npy, h_n.npy, ...) is refused without --force.")
    Path out;

    @Option(names = "--force", description = "Replace the results already in --out; result files this run does not write are deleted.")
    boolean force;

    /** Every file run can write to --out. */
    static final List<String> RESULT_FILES = List.of("output.npy", "h_n.npy", "c_n.npy", "head.npy", "y.npy", "output.csv", "h_n.csv", "c_n.csv",
            "head.csv", "y.csv");

    @Option(names = "--reference", description = "Compute on the readable reference path (one method per equation)"
            + " instead of the fast kernels.")
    boolean reference;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        List<String> stale = staleResults();
        PipelineLoader.Loaded loaded = model.resolve(model.read());
        LstmModel m = loaded.model();
        if (reference) {
            m = m.withEngine(EngineChoice.REFERENCE);
        }
        InputOptions.Loaded in = m.embedding() != null ? TokenInput.load(inputs) : inputs.load();
        // the reference path reports each step; the fast path reports none (an observer would move the run off it)
        long steps = totalSteps(m.lstm().config(), m.embedding() != null ? in.input().reshape(in.input().elementCount(), 1) : in.input());
        boolean stepwise = !m.lstm().usesFastPath();
        Progress progress = stepwise ? Progress.forTerminal(err, steps) : Progress.elapsedOnTerminal(err, steps);
        LstmModel.Result r = m.forward(in.input(), ForwardOptions.defaults().withLayout(in.layout()).withInitial(in.initial()).withLengths(in.lengths()).withObserver(stepwise ? progress : null));
        if (progress != null) {
            progress.finish();
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create --out " + out + ": " + e.getMessage(), e);
        }
        List<String> written = new ArrayList<>();
        List<String> files = new ArrayList<>();
        write("output", r.lstm().output(), in.csv(), written, files);
        write("h_n", r.lstm().hN(), in.csv(), written, files);
        write("c_n", r.lstm().cN(), in.csv(), written, files);
        if (r.head() != null) {
            write("head", r.head(), in.csv(), written, files);
        }
        write("y", r.y(), in.csv(), written, files);
        for (String f : stale) {
            if (!files.contains(f)) {
                try {
                    Files.deleteIfExists(out.resolve(f)); // an earlier run's result that this one does not replace
                } catch (IOException e) {
                    throw new UncheckedIOException("--force: cannot delete the stale " + out.resolve(f) + ": " + e.getMessage(), e);
                }
            }
        }
        spec.commandLine().getOut().println("wrote " + String.join(", ", written) + " to " + out + "  [" + Describe.model(m) + "]");
        if (loaded.source() == PipelineLoader.SpecSource.INFERRED && !m.layers().isEmpty()) {
            err.println(Text.oneLine("lstm4j: note: no --model given and none stored in the file, so the head runs on every step ('" + m.spec()
                    + "'); if your forward() reads out[:, -1], h_n or a pooling, say so, e.g. --model \"" + m.spec().withReadout(Readout.LAST)
                    + "\" (docs/models.md)"));
        }
        return 0;
    }

    private void write(String name, Tensor t, boolean csv, List<String> written, List<String> files) {
        Npy.write(out.resolve(name + ".npy"), t);
        written.add(name + ".npy " + Describe.shape(t));
        files.add(name + ".npy");
        if (csv) {
            Csv.write(out.resolve(name + ".csv"), t, null);
            written.add(name + ".csv");
            files.add(name + ".csv");
        }
    }

    /** The result files an earlier run left in --out; refused unless --force. */
    private List<String> staleResults() {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new InputException("--out " + out + " is a file; give a directory for the results");
        }
        List<String> stale = new ArrayList<>();
        for (String f : RESULT_FILES) {
            if (Files.exists(out.resolve(f))) {
                stale.add(f);
            }
        }
        if (!stale.isEmpty() && !force) {
            throw new InputException("--out " + out + " already holds results of an earlier run (" + String.join(", ", stale)
                    + "); pass --force to replace them, or choose another directory");
        }
        return stale;
    }

    private static long totalSteps(LstmConfig c, Tensor x) {
        long rows = x.rank() == 3 ? (long) x.size(0) * x.size(1) : x.size(0);
        return rows * c.numLayers() * c.directions();
    }
}
