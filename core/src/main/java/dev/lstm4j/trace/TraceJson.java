package dev.lstm4j.trace;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.reference.Gate;
import dev.lstm4j.reference.StepValues;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * A trace as JSON, schema {@code lstm4j-trace} version {@value #VERSION}, documented in {@code docs/trace.md}.
 * Numbers are written so they read back as the exact double computed (float32 values are exact doubles);
 * NaN and infinities, which JSON lacks, are the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
 */
public final class TraceJson {
    /** Schema version; bump when a field changes meaning or goes away. */
    public static final int VERSION = 1;

    private TraceJson() {
    }

    /** Writes {@code trace} to {@code file}. */
    public static void write(Path file, Trace trace) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            write(w, trace);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** The JSON text of {@code trace}. */
    public static String toJson(Trace trace) {
        java.io.StringWriter w = new java.io.StringWriter();
        try {
            write(w, trace);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    /** Writes {@code trace} as one JSON object, records one per line. */
    public static void write(Writer w, Trace trace) throws IOException {
        LstmConfig c = trace.config();
        StringBuilder b = new StringBuilder();
        b.append("{\"format\":\"lstm4j-trace\",\"version\":").append(VERSION);
        b.append(",\n\"model\":{\"input_size\":").append(c.inputSize()).append(",\"hidden_size\":").append(c.hiddenSize())
                .append(",\"num_layers\":").append(c.numLayers()).append(",\"bidirectional\":").append(c.bidirectional())
                .append(",\"proj_size\":").append(c.projSize()).append(",\"bias\":").append(c.bias())
                .append(",\"dtype\":\"").append(trace.precision() == Precision.F64 ? "float64" : "float32").append("\"}");
        b.append(",\n\"input\":{\"layout\":\"").append(trace.layout()).append("\",\"batch\":").append(trace.batch())
                .append(",\"steps\":").append(trace.steps()).append(",\"lengths\":");
        ints(b, trace.lengths());
        b.append("}");
        TraceFilter f = trace.filter();
        b.append(",\n\"filter\":{\"steps\":");
        set(b, f.steps());
        b.append(",\"layers\":");
        set(b, f.layers());
        b.append(",\"directions\":");
        set(b, f.directions());
        b.append(",\"batches\":");
        set(b, f.batches());
        b.append("}");
        b.append(",\n\"records\":[");
        w.write(b.toString());
        boolean first = true;
        for (TraceStep s : trace.records()) {
            b.setLength(0);
            b.append(first ? "\n" : ",\n");
            first = false;
            record(b, s, trace.projected());
            w.write(b.toString());
        }
        b.setLength(0);
        b.append("],\n\"result\":{\"output\":");
        tensor(b, trace.output().output());
        b.append(",\n\"h_n\":");
        tensor(b, trace.output().hN());
        b.append(",\n\"c_n\":");
        tensor(b, trace.output().cN());
        b.append(",\n\"head\":");
        if (trace.head() == null) {
            b.append("null");
        } else {
            tensor(b, trace.head());
        }
        // the whole model: its spec, the readout and every head layer's output
        b.append(",\n\"spec\":").append(Json.write(trace.spec()));
        b.append(",\n\"readout\":{\"kind\":\"").append(trace.readout().keyword()).append("\",\"values\":");
        tensor(b, trace.readoutValues());
        b.append("},\n\"layers\":[");
        for (int k = 0; k < trace.layers().size(); k++) {
            Trace.LayerOutput l = trace.layers().get(k);
            b.append(k > 0 ? ",\n" : "\n").append("{\"name\":").append(Json.write(l.name())).append(",\"layer\":")
                    .append(Json.write(l.layer())).append(",\"output\":");
            tensor(b, l.output());
            b.append('}');
        }
        b.append("]}}\n");
        w.write(b.toString());
    }

    private static void record(StringBuilder b, TraceStep s, boolean projected) {
        StepValues v = s.values();
        b.append("{\"layer\":").append(s.layer()).append(",\"direction\":").append(s.direction()).append(",\"batch\":").append(s.batch())
                .append(",\"step\":").append(s.step());
        for (Stage stage : Stage.values()) {
            if (stage == Stage.I_PRE) {
                b.append(",\"gates\":{");
                gate(b, "i", v.i());
                b.append(',');
                gate(b, "f", v.f());
                b.append(',');
                gate(b, "g", v.g());
                b.append(',');
                gate(b, "o", v.o());
                b.append('}');
            } else if (!stage.isGate() && (stage.inUnprojected() || projected)) {
                field(b, stage.key(), stage.of(v));
            }
        }
        b.append('}');
    }

    private static void gate(StringBuilder b, String name, Gate g) {
        b.append('"').append(name).append("\":{\"pre\":");
        numbers(b, g.preActivation());
        b.append(",\"act\":");
        numbers(b, g.activation());
        b.append('}');
    }

    private static void field(StringBuilder b, String name, double[] v) {
        b.append(",\"").append(name).append("\":");
        numbers(b, v);
    }

    private static void tensor(StringBuilder b, Tensor t) {
        b.append("{\"shape\":");
        ints(b, t.shape());
        b.append(",\"data\":");
        numbers(b, t.toDoubleArray());
        b.append('}');
    }

    /** Appends a JSON array of numbers as {@link TraceJson} writes them. */
    public static void numbers(StringBuilder b, double[] v) {
        b.append('[');
        for (int k = 0; k < v.length; k++) {
            if (k > 0) {
                b.append(',');
            }
            number(b, v[k]);
        }
        b.append(']');
    }

    /** Text that reads back as the same double; non-finite values as the strings "NaN", "Infinity", "-Infinity". */
    public static void number(StringBuilder b, double x) {
        if (Double.isNaN(x)) {
            b.append("\"NaN\"");
        } else if (Double.isInfinite(x)) {
            b.append(x > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        } else {
            b.append(Double.toString(x));
        }
    }

    private static void ints(StringBuilder b, int[] v) {
        b.append('[');
        for (int k = 0; k < v.length; k++) {
            b.append(k > 0 ? "," : "").append(v[k]);
        }
        b.append(']');
    }

    private static void set(StringBuilder b, Set<Integer> s) {
        if (s == null) {
            b.append("null");
        } else {
            b.append(Json.write(new java.util.ArrayList<>(s)));
        }
    }
}
