package dev.lstm4j.cli;

import dev.lstm4j.Lstm4jException;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.io.ModelLoader;
import dev.lstm4j.io.StateDict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code lstm4j inspect}: what a weights file holds and whether it is a valid LSTM. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Lists every tensor of a weights file (name, dtype, shape), the LSTM inferred from it,",
                "and whether it is valid. Exits 0 when it is a valid LSTM, 1 when not."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j inspect --weights model.safetensors",
                "  lstm4j inspect --weights checkpoint.safetensors --prefix encoder.lstm.",
                "  lstm4j inspect --weights checkpoint.pt --key model"})
final class InspectCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        StateDict sd = model.read();
        out.println("file:     " + model.weights + " (" + sd.format() + ", " + sd.tensors().size() + " tensors)");
        for (Map.Entry<String, String> e : sd.metadata().entrySet()) {
            out.println("metadata: " + e.getKey() + " = " + e.getValue());
        }
        int nameWidth = "name".length();
        for (String k : sd.tensors().keySet()) {
            nameWidth = Math.max(nameWidth, k.length());
        }
        out.println();
        out.printf("  %-" + nameWidth + "s  %-8s  %s%n", "name", "dtype", "shape");
        for (Map.Entry<String, Tensor> e : sd.tensors().entrySet()) {
            out.printf("  %-" + nameWidth + "s  %-8s  %s%n", e.getKey(), e.getValue().dtype().torchName(), Describe.shape(e.getValue()));
        }
        out.println();
        try {
            LstmModel m = ModelLoader.fromStateDict(sd, model.loaderOptions());
            out.println("model:    " + Describe.model(m));
            if (!m.ignoredKeys().isEmpty()) {
                out.println("ignored:  " + String.join(", ", m.ignoredKeys()) + " (not part of the LSTM or its head)");
            }
            out.println("valid:    yes");
            return 0;
        } catch (Lstm4jException e) {
            out.println("valid:    no: " + e.getMessage());
            return Main.EXIT_ERROR;
        }
    }
}
