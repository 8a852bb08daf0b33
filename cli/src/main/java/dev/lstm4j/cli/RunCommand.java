package dev.lstm4j.cli;

import dev.lstm4j.EngineChoice;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Csv;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.reference.ReferenceLstm;
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
        description = {"Runs the LSTM (and its Linear head) on the input and writes output.npy, h_n.npy, c_n.npy "
                + "and head.npy (when there is a head) to --out, in PyTorch's shapes for that input. "
                + "A CSV input also gets CSV copies of each result."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j run --weights model.safetensors --input series.csv --out results/",
                "  lstm4j run --weights model.safetensors --input batch.npy --out results/",
                "  lstm4j run --weights model.safetensors --input padded.npy --lengths 5,2,4 --out results/",
                "  lstm4j run --weights model.safetensors --input batch.npy --reference --out results/",
                "  lstm4j run --weights model.safetensors --input tbi.npy --seq-first --h0 h0.npy --c0 c0.npy --out results/"})
final class RunCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    InputOptions inputs;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for the results (created if needed).")
    Path out;

    @Option(names = "--reference", description = "Compute on the readable reference path (one method per equation)"
            + " instead of the fast kernels.")
    boolean reference;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        LstmModel m = model.load();
        if (reference) {
            m = m.withEngine(EngineChoice.REFERENCE);
        }
        InputOptions.Loaded in = inputs.load();
        // the reference path reports each step; the fast path reports none (an observer would move the run off it)
        long steps = totalSteps(m.lstm().config(), in.input());
        boolean stepwise = m.lstm().engine() instanceof ReferenceLstm;
        Progress progress = stepwise ? Progress.forTerminal(err, steps) : Progress.elapsedOnTerminal(err, steps);
        LstmModel.Result r = m.forward(in.input(), in.layout(), in.initial(), in.lengths(), stepwise ? progress : null);
        if (progress != null) {
            progress.finish();
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create --out " + out + ": " + e.getMessage(), e);
        }
        List<String> written = new ArrayList<>();
        write("output", r.lstm().output(), in.csv(), written);
        write("h_n", r.lstm().hN(), in.csv(), written);
        write("c_n", r.lstm().cN(), in.csv(), written);
        if (r.head() != null) {
            write("head", r.head(), in.csv(), written);
        }
        spec.commandLine().getOut().println("wrote " + String.join(", ", written) + " to " + out + "  [" + Describe.model(m) + "]");
        return 0;
    }

    private void write(String name, Tensor t, boolean csv, List<String> written) {
        Npy.write(out.resolve(name + ".npy"), t);
        written.add(name + ".npy " + Describe.shape(t));
        if (csv) {
            Csv.write(out.resolve(name + ".csv"), t, null);
            written.add(name + ".csv");
        }
    }

    private static long totalSteps(LstmConfig c, Tensor x) {
        long rows = x.rank() == 3 ? (long) x.size(0) * x.size(1) : x.size(0);
        return rows * c.numLayers() * c.directions();
    }
}
