package dev.lstm4j.cli;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.reference.StepValues;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code lstm4j demo}: the reference card's example, gate by gate, then PyTorch's recorded numbers beside ours.
 * The weights are those of the model PyTorch builds after {@code torch.manual_seed(5)}, written by
 * {@code tools/pytorch/make_fixtures.py}.
 */
@Command(name = "demo", header = "The article's example, gate by gate, beside PyTorch's recorded numbers.", mixinStandardHelpOptions = true,
        description = {"The article's example: an LSTM(2, 3) and a Linear(3, 1) on the series [[1,1],[2,2],[3,3]]. "
                + "Prints each gate, c, h and the output at every step, then PyTorch's recorded output beside ours."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j demo"})
final class DemoCommand implements Callable<Integer> {
    private static final String[] FILES = {"model.safetensors", "input.npy", "output.npy", "h_n.npy", "c_n.npy", "head.npy", "case.json"};

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("lstm4j-demo");
        try {
            for (String f : FILES) {
                try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/" + f)) {
                    if (in == null) {
                        throw new IllegalStateException("demo resource /demo/" + f + " missing from the jar; rebuild with mvn package");
                    }
                    Files.copy(in, dir.resolve(f));
                }
            }
            return show(dir, out);
        } finally {
            for (String f : FILES) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Files.deleteIfExists(dir);
        }
    }

    private int show(Path dir, PrintWriter out) throws IOException {
        Map<?, ?> info = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("case.json"), StandardCharsets.UTF_8));
        LstmModel m = ModelLoader.load(dir.resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
        Tensor x = Npy.read(dir.resolve("input.npy"));

        out.println("lstm4j demo: the LSTM Reference Card's example");
        out.println("model:  " + Describe.model(m));
        out.println("        weights of PyTorch " + info.get("torch_version") + " after torch.manual_seed(" + info.get("seed") + ")");
        out.println("input:  x " + Describe.shape(x) + " batch-first = " + rows(x));
        out.println("state:  h and c start at zeros (3,)");

        List<StepValues> steps = new ArrayList<>();
        LstmModel.Result r = m.forward(x, ForwardOptions.defaults().withObserver((layer, dir1, batch, step, v) -> steps.add(v)));
        for (int t = 0; t < steps.size(); t++) {
            StepValues v = steps.get(t);
            out.println();
            out.println("step t=" + t + "   x_t = " + Describe.vector(v.x()));
            line(out, "forget gate", "f = σ(W_if x + b_if + W_hf h + b_hf)", v.f().activation());
            line(out, "input gate (ignore)", "i = σ(W_ii x + b_ii + W_hi h + b_hi)", v.i().activation());
            line(out, "candidate (learn)", "g = tanh(W_ig x + b_ig + W_hg h + b_hg)", v.g().activation());
            line(out, "output gate", "o = σ(W_io x + b_io + W_ho h + b_ho)", v.o().activation());
            line(out, "cell state (long-term)", "c = f ⊙ c_prev + i ⊙ g", v.c());
            line(out, "hidden state (short-term)", "h = o ⊙ tanh(c)", v.h());
            double[] y = new double[m.head().outFeatures()];
            for (int k = 0; k < y.length; k++) {
                y[k] = r.head().get(0, t, k);
            }
            line(out, "model output", "y = W_fc h + b_fc", y);
        }

        out.println();
        out.println("compared with PyTorch " + info.get("torch_version") + "'s recorded results (written by tools/pytorch/make_fixtures.py):");
        Tolerance tol = Tolerance.of(m.lstm().precision());
        boolean ok = true;
        double worst = 0;
        Tensor[] ours = {r.lstm().output(), r.lstm().hN(), r.lstm().cN(), r.head()};
        String[] names = {"output", "h_n", "c_n", "head"};
        for (int k = 0; k < ours.length; k++) {
            Tensor expected = Npy.read(dir.resolve(names[k] + ".npy"));
            Tolerance.Report rep = tol.check(names[k], expected, ours[k]);
            ok &= rep.ok();
            worst = Math.max(worst, rep.maxAbsDiff());
            out.printf(Locale.ROOT, "  %-7s %-10s lstm4j  %s%n", names[k], Describe.shape(ours[k]), Describe.vector(ours[k].toDoubleArray()));
            out.printf(Locale.ROOT, "  %-7s %-10s pytorch %s   max |Δ| %.2e%n", "", "", Describe.vector(expected.toDoubleArray()),
                    rep.maxAbsDiff());
        }
        out.printf(Locale.ROOT, "largest difference %.2e, tolerance |Δ| ≤ %.0e·max(1, |expected|): %s%n", worst, tol.rel(),
                ok ? "same as PyTorch" : "MISMATCH");
        return ok ? 0 : Main.EXIT_ERROR;
    }

    private static void line(PrintWriter out, String name, String eq, double[] v) {
        out.printf(Locale.ROOT, "  %-26s %-40s %s%n", name, eq, Describe.vector(v));
    }

    private static String rows(Tensor x) {
        StringBuilder b = new StringBuilder("[");
        for (int t = 0; t < x.size(1); t++) {
            b.append(t == 0 ? "[" : ", [");
            for (int i = 0; i < x.size(2); i++) {
                b.append(i == 0 ? "" : ", ").append(fmt(x.get(0, t, i)));
            }
            b.append(']');
        }
        return b.append(']').toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
