package dev.lstm4j.cli;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.LstmModel;
import dev.lstm4j.trace.Trace;
import dev.lstm4j.trace.TraceCsv;
import dev.lstm4j.trace.TraceJson;
import dev.lstm4j.trace.TraceReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lstm4j trace}: every stage of every cell at every step, for a person (text) and a program (JSON, CSV). */
@Command(name = "trace", header = "Shows every stage of the cell at every step, as text, JSON or CSV.", mixinStandardHelpOptions = true,
        description = {"Runs the model on the input, as run does, and shows what flows through the cell at each step: "
                + "x, h_{t-1}, c_{t-1}, each gate's pre-activation and activation, f ⊙ c_{t-1}, i ⊙ g, c_t, tanh(c_t), h_t "
                + "(and the projected h_t). Filter with --step, --layer, --direction, --batch. "
                + "--json and --csv write the same records for programs; the JSON schema is in docs/trace.md."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j trace --weights model.safetensors --input series.csv",
                "  lstm4j trace --weights model.safetensors --input batch.npy --batch 0 --step 0..2 --layer 1",
                "  lstm4j trace --weights model.safetensors --input padded.npy --lengths 5,2,4 --json trace.json --quiet"})
final class TraceCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    InputOptions inputs;

    @Mixin
    TraceFilterOptions filter;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the trace as JSON (schema lstm4j-trace, docs/trace.md).")
    Path json;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the trace as CSV: layer,direction,batch,step,name,index,value.")
    Path csv;

    @Option(names = {"-q", "--quiet"}, description = "Do not print the text report (use with --json or --csv).")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        LstmModel m = model.load();
        InputOptions.Loaded in = m.embedding() != null ? TokenInput.load(inputs) : inputs.load();
        Trace trace = Trace.record(m, in.input(), ForwardOptions.defaults().withLayout(in.layout()).withInitial(in.initial()).withLengths(in.lengths()),
                filter.filter(TraceFilterOptions.steps(in.input(), in.layout(), m.embedding() != null), m.lstm().config().numLayers(),
                        TraceFilterOptions.batches(in.input(), in.layout(), m.embedding() != null)));
        List<String> wrote = new ArrayList<>();
        if (json != null) {
            TraceJson.write(json, trace);
            wrote.add(json.toString());
        }
        if (csv != null) {
            TraceCsv.write(csv, trace);
            wrote.add(csv.toString());
        }
        if (!quiet) {
            out.println("lstm4j trace: " + Describe.model(m));
            TraceReport.write(trace, out);
        }
        if (!wrote.isEmpty()) {
            (quiet ? out : spec.commandLine().getErr()).println("wrote " + trace.records().size() + " step record"
                    + (trace.records().size() == 1 ? "" : "s") + " to " + String.join(", ", wrote));
        }
        out.flush();
        return 0;
    }
}
