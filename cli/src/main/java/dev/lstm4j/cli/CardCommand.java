package dev.lstm4j.cli;

import dev.lstm4j.Tensor;
import dev.lstm4j.ForwardOptions;
import dev.lstm4j.InputException;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmModel;
import dev.lstm4j.ModelException;
import dev.lstm4j.card.Card;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.trace.GradTrace;
import dev.lstm4j.trace.Trace;
import dev.lstm4j.trace.TraceFilter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lstm4j card}: the reference card as one self-contained HTML page, drawn with a run's values. */
@Command(name = "card", header = "Writes the LSTM reference card, with live values, as one offline HTML page.", mixinStandardHelpOptions = true,
        description = {"Writes the LSTM reference card as one HTML page (no network needed): the cell diagram, colour-coded "
                + "by gate, with every operation and variable at a chosen step, a step slider, layer/direction/batch "
                + "pickers and small plots of h, c and the gates over time. Open it in any browser. "
                + "Give --demo for the article's example, or --weights and --input as for run.",
                "",
                "The Backward button (or #view=backward) shows the backward pass at the same step: the gradient of a loss L "
                + "with respect to every gate (through σ′ and tanh′) and state, the gradient flowing back along c and along h, "
                + "and a plot of ‖∂L/∂c_t‖ and ‖∂L/∂h_t‖ over t, which shows how far back the cell state carries a gradient. "
                + "L is MSELoss(reduction='mean') against --target, else the sum of the model's output (∂L/∂y = 1); the "
                + "page says which. The backward goes through the readouts all, last, last-valid, hn and mean and the head "
                + "layers Linear, relu, tanh, sigmoid and dropout; for other models the card has the forward view only."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j card --demo --out card.html",
                "  lstm4j card --weights model.safetensors --input series.csv --out card.html",
                "  lstm4j card --weights model.safetensors --input padded.npy --lengths 5,2,4 --batch 1 --out card.html",
                "  lstm4j card --weights model.safetensors --input x.npy --target y.npy --out card.html",
                "  (open card.html#step=2&layer=0&dir=0&batch=0 to start at a given view, card.html#view=backward&step=0 for",
                "  the backward view)"})
final class CardCommand implements Callable<Integer> {
    /** More values than this make a page browsers struggle with. */
    static final long MAX_VALUES = 5_000_000;

    @Option(names = "--demo", description = "Use the article's example: LSTM(2, 3) on [[1,1],[2,2],[3,3]] (seed 5).")
    boolean demo;

    @ArgGroup(exclusive = false, heading = "%nModel (instead of --demo):%n")
    ModelOptions model;

    @ArgGroup(exclusive = false, heading = "%nInput (instead of --demo):%n")
    InputOptions inputs;

    @Option(names = "--target", paramLabel = "FILE.npy", description = "For the backward view: L = MSELoss(reduction='mean') "
            + "against this .npy, shaped as the model's output y (default: L = y.sum()).")
    Path target;

    @Option(names = "--batch", split = ",", paramLabel = "B", description = "Batch rows to draw, e.g. 0,2 (default all).")
    List<String> batches;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "lstm4j-card.html", description = "The page to write (default ${DEFAULT-VALUE}).")
    Path out;

    @Spec
    CommandSpec spec;

    /** --batch, its ranges clamped to the input's rows. */
    private TraceFilter batchFilter(int rows) {
        return new TraceFilter(null, null, null, TraceFilterOptions.indices("--batch", batches, rows - 1));
    }

    @Override
    public Integer call() throws IOException {
        if (demo && (model != null || inputs != null)) {
            throw new InputException("--demo draws the article's example; give either --demo or --weights with --input, not both");
        }
        if (!demo && (model == null || inputs == null)) {
            throw new InputException("card needs --weights and --input (as run takes them), or --demo for the article's example");
        }
        Tensor y = target == null ? null : Npy.read(target);
        LstmModel m;
        Tensor x;
        ForwardOptions options;
        TraceFilter filter;
        String title;
        String description;
        if (demo) {
            try (DemoFiles files = new DemoFiles()) {
                m = ModelLoader.load(files.resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
                x = Npy.read(files.resolve("input.npy"));
            }
            options = ForwardOptions.defaults();
            filter = batchFilter(TraceFilterOptions.batches(x, Layout.BATCH_FIRST, false));
            title = "the article's example";
            description = Describe.model(m) + "; input x = [[1, 1], [2, 2], [3, 3]]; weights of PyTorch after torch.manual_seed(5)";
        } else {
            m = model.load();
            InputOptions.Loaded in = m.embedding() != null ? TokenInput.load(inputs) : inputs.load();
            checkSize(m, in);
            x = in.input();
            options = ForwardOptions.defaults().withLayout(in.layout()).withInitial(in.initial()).withLengths(in.lengths());
            filter = batchFilter(TraceFilterOptions.batches(in.input(), in.layout(), m.embedding() != null));
            title = String.valueOf(model.weights.getFileName());
            description = Describe.model(m) + "; input " + inputs.input.getFileName() + " " + Describe.shape(in.input());
        }
        Trace trace = Trace.record(m, x, options, filter);
        GradTrace grads = null;
        String why = null;
        try {
            grads = y == null ? GradTrace.sum(m, x, options, filter) : GradTrace.mse(m, x, options, filter, y);
        } catch (ModelException e) {
            if (y != null) {
                // --target asks for the backward view: no page without it
                throw new ModelException("card --target: " + e.getMessage());
            }
            why = e.getMessage();
        }
        if (grads != null) {
            Card.write(out, trace, grads, title, description);
        } else {
            Card.write(out, trace, title, description);
        }
        spec.commandLine().getOut().printf("wrote %s (%d KB, %d steps drawn); open it in a browser, e.g. %s#step=0%n", out,
                Files.size(out) / 1024, trace.records().size(), out.toAbsolutePath().toUri());
        if (grads != null) {
            spec.commandLine().getOut().printf("backward view: the gradients of L = %s (%s#view=backward)%n", grads.loss(),
                    out.toAbsolutePath().toUri());
        } else {
            spec.commandLine().getErr().printf("note: the page has no backward view: %s%n", Text.oneLine(why));
        }
        return 0;
    }

    private void checkSize(LstmModel m, InputOptions.Loaded in) {
        var c = m.lstm().config();
        long rows = in.input().rank() == 3 ? (long) in.input().size(0) * in.input().size(1) : in.input().size(0);
        if (batches != null && in.input().rank() == 3) {
            rows = rows / in.input().size(in.layout() == Layout.SEQ_FIRST ? 1 : 0) * TraceFilterOptions.indices("--batch", batches, TraceFilterOptions.batches(in.input(), in.layout(), m.embedding() != null) - 1).size();
        }
        // the forward stages, then the backward view's gradients (12 of size H, 4 of Hh, dx)
        long perStep = 13L * c.hiddenSize() + Math.max(c.inputSize(), c.outputSize()) + 2L * c.outputHiddenSize() + c.hiddenSize()
                + 12L * c.hiddenSize() + 4L * c.outputHiddenSize() + Math.max(c.inputSize(), c.outputSize());
        long values = rows * c.numLayers() * c.directions() * perStep;
        if (values > MAX_VALUES) {
            throw new InputException("card: the trace would hold " + values + " values, too many for one page (limit " + MAX_VALUES
                    + "); draw fewer rows with --batch, or a shorter input");
        }
    }
}
