package dev.lstm4j.cli;

import dev.lstm4j.Lstm4jException;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.ModelSpec;
import dev.lstm4j.internal.io.PipelineLoader;
import dev.lstm4j.StateDict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code lstm4j inspect}: what a weights file holds and whether it is a valid LSTM. */
@Command(name = "inspect", header = "Lists a weights file's tensors and the LSTM inferred from them.", mixinStandardHelpOptions = true,
        description = {"Lists every tensor of a weights file (name, dtype, shape), the LSTM inferred from it, "
                + "and whether it is valid. Exits 0 when it is a valid LSTM, 1 when not."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j inspect --weights model.safetensors",
                "  lstm4j inspect --weights checkpoint.safetensors --prefix encoder.lstm.",
                "  lstm4j inspect --weights checkpoint.pt --key model",
                "  lstm4j inspect --weights model.safetensors --json"})
final class InspectCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--json", description = "Print the same facts as one JSON object.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        StateDict sd = model.read();
        if (json) {
            return json(sd, out);
        }
        out.println("file:     " + model.weights + " (" + sd.format() + ", " + sd.tensors().size() + " tensors)");
        for (Map.Entry<String, String> e : sd.metadata().entrySet()) {
            out.println("metadata: " + Text.oneLine(e.getKey()) + " = " + Text.oneLine(e.getValue()));
        }
        int nameWidth = "name".length();
        for (String k : sd.tensors().keySet()) {
            nameWidth = Math.max(nameWidth, Text.oneLine(k).length());
        }
        out.println();
        out.printf("  %-" + nameWidth + "s  %-8s  %s%n", "name", "dtype", "shape");
        for (Map.Entry<String, Tensor> e : sd.tensors().entrySet()) {
            out.printf("  %-" + nameWidth + "s  %-8s  %s%n", Text.oneLine(e.getKey()), e.getValue().dtype().torchName(), Describe.shape(e.getValue()));
        }
        out.println();
        try {
            PipelineLoader.Loaded l = model.resolve(sd);
            LstmModel m = l.model();
            out.println("model:    " + Describe.model(m));
            out.println("spec:     " + Text.oneLine(m.spec().toString()) + "  (" + switch (l.source()) {
                case GIVEN -> "from --model";
                case FILE_METADATA -> "stored in the file, " + ModelSpec.METADATA_KEY;
                case INFERRED -> "inferred: the head on every step; give --model for another readout";
            } + ")");
            for (String line : Describe.pipeline(m)) {
                out.println("          " + Text.oneLine(line));
            }
            if (!m.ignoredKeys().isEmpty()) {
                out.println("ignored:  " + Text.oneLine(String.join(", ", m.ignoredKeys())) + " (not part of the LSTM or its head)");
            }
            out.println("valid:    yes");
            return 0;
        } catch (Lstm4jException e) {
            out.println("valid:    no: " + Text.oneLine(e.getMessage()));
            return Main.EXIT_ERROR;
        }
    }

    private int json(StateDict sd, PrintWriter out) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("file", model.weights.toString());
        o.put("format", sd.format());
        o.put("metadata", sd.metadata());
        List<Object> tensors = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : sd.tensors().entrySet()) {
            List<Object> shape = new ArrayList<>();
            for (int d : e.getValue().shape()) {
                shape.add(d);
            }
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", e.getKey());
            t.put("dtype", e.getValue().dtype().torchName());
            t.put("shape", shape);
            tensors.add(t);
        }
        o.put("tensors", tensors);
        int code;
        try {
            PipelineLoader.Loaded l = model.resolve(sd);
            LstmModel m = l.model();
            LstmConfig c = m.lstm().config();
            o.put("spec", m.spec().toString());
            o.put("spec_source", l.source().toString().toLowerCase(java.util.Locale.ROOT));
            o.put("pipeline", Describe.pipeline(m));
            Map<String, Object> lstm = new LinkedHashMap<>();
            lstm.put("kind", m.cell() ? "LSTMCell" : "LSTM");
            lstm.put("prefix", m.prefix());
            lstm.put("input_size", c.inputSize());
            lstm.put("hidden_size", c.hiddenSize());
            lstm.put("num_layers", c.numLayers());
            lstm.put("bidirectional", c.bidirectional());
            lstm.put("proj_size", c.projSize());
            lstm.put("bias", c.bias());
            lstm.put("compute_dtype", m.lstm().precision().dtype().torchName());
            o.put("lstm", lstm);
            if (m.head() != null) {
                Map<String, Object> head = new LinkedHashMap<>();
                head.put("prefix", m.headPrefix());
                head.put("in_features", m.head().inFeatures());
                head.put("out_features", m.head().outFeatures());
                head.put("bias", m.head().bias() != null);
                o.put("head", head);
            } else {
                o.put("head", null);
            }
            o.put("ignored", m.ignoredKeys());
            o.put("valid", true);
            code = 0;
        } catch (Lstm4jException e) {
            o.put("valid", false);
            o.put("error", e.getMessage());
            code = Main.EXIT_ERROR;
        }
        out.println(Json.write(o));
        return code;
    }
}
