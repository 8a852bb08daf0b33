package dev.lstm4j.trace;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Tensor;
import dev.lstm4j.reference.Gate;
import dev.lstm4j.reference.StepValues;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;

/**
 * A trace as text a person reads: for each kept step, every stage of the reference card on its own line,
 * with its name, its equation, its shape and its values in aligned columns.
 *
 * <p>Legend: I_l layer input, H hidden, Hh size of h, P projection.
 */
public final class TraceReport {
    private static final int PER_LINE = 8;
    private static final int NUMBER_WIDTH = 11;

    private TraceReport() {
    }

    /** Writes the header and every record of {@code trace}. */
    public static void write(Trace trace, PrintWriter out) {
        LstmConfig c = trace.config();
        out.println("legend: B batch, T steps, I input, H hidden" + (trace.projected() ? ", P projection" : "")
                + "; σ sigmoid, ⊙ element-wise product; gates in PyTorch's order i, f, g, o");
        out.printf(Locale.ROOT, "input:  B=%d, T=%d, I=%d (%s)%s%n", trace.batch(), trace.steps(), c.inputSize(),
                trace.layout().replace('_', '-'), lengthsNote(trace));
        if (trace.records().isEmpty()) {
            out.println("no steps match the filter");
        }
        String d = c.bidirectional() ? "" : null;
        int lastBatch = -1, lastStep = -1;
        for (TraceStep s : trace.records()) {
            if (s.batch() != lastBatch || s.step() != lastStep) {
                headAfter(trace, lastBatch, lastStep, out);
                lastBatch = s.batch();
                lastStep = s.step();
            }
            String title = "batch " + s.batch() + " · step t=" + s.step() + " · layer " + s.layer()
                    + (d == null ? "" : s.direction() == 0 ? " · forward" : " · reverse");
            out.println();
            out.println("── " + title + " " + "─".repeat(Math.max(3, 76 - title.length())));
            step(c, s, out);
        }
        headAfter(trace, lastBatch, lastStep, out);
        pooled(trace, out);
    }

    /** For a readout that gives one vector per sequence: per batch row, the readout and each head layer's output. */
    private static void pooled(Trace trace, PrintWriter out) {
        if (trace.readout().perStep()) {
            return;
        }
        for (int b = 0; b < trace.batch(); b++) {
            if (trace.filter().batches() != null && !trace.filter().batches().contains(b)) {
                continue;
            }
            String title = "batch " + b + " · model '" + trace.spec() + "'";
            out.println();
            out.println("── " + title + " " + "─".repeat(Math.max(3, 76 - title.length())));
            row(out, "readout " + trace.readout().keyword(), trace.readout().torch(), trace.vectorAt(trace.readoutValues(), b, -1));
            for (Trace.LayerOutput l : trace.layers()) {
                row(out, l.name(), l.layer(), trace.vectorAt(l.output(), b, -1));
            }
        }
    }

    private static String lengthsNote(Trace trace) {
        int[] len = trace.lengths();
        boolean all = Arrays.stream(len).allMatch(n -> n == trace.steps());
        return all ? "" : "; lengths " + Arrays.toString(len) + " (steps past a row's length are padding, not computed)";
    }

    /** After the last layer's records of a (batch, step): the head's output y_t when the model has one. */
    private static void headAfter(Trace trace, int batch, int step, PrintWriter out) {
        Tensor y = trace.head();
        int last = trace.config().numLayers() - 1;
        if (y == null || !trace.readout().perStep() || batch < 0 || (trace.filter().layers() != null && !trace.filter().layers().contains(last))) {
            return;
        }
        if (step >= trace.lengths()[batch]) {
            return;
        }
        out.println();
        if (trace.layers().size() == 1 && trace.layers().get(0).layer().startsWith("Linear")) {
            row(out, "head (Linear)", "y_t = W·h_t + b", trace.vectorAt(y, batch, step));
            return;
        }
        for (Trace.LayerOutput l : trace.layers()) {
            row(out, l.name(), l.layer(), trace.vectorAt(l.output(), batch, step));
        }
    }

    private static void step(LstmConfig c, TraceStep s, PrintWriter out) {
        StepValues v = s.values();
        String b = c.bias() ? " + b_i%1$s" : "";
        String bh = c.bias() ? " + b_h%1$s" : "";
        String gateEq = "W_i%1$s·x" + b + " + W_h%1$s·h" + bh;
        if (s.layer() == 0) {
            row(out, "input", "x_t", v.x());
        } else {
            row(out, "input from below", "x_t = h_t of layer " + (s.layer() - 1) + (c.bidirectional() ? ", [fwd | rev]" : ""), v.x());
        }
        row(out, "previous hidden", "h_{t-1}", v.hPrev());
        row(out, "previous cell", "c_{t-1}", v.cPrev());
        gate(out, "forget gate", "f", "σ", gateEq, v.f());
        gate(out, "input gate (ignore)", "i", "σ", gateEq, v.i());
        gate(out, "candidate (learn)", "g", "tanh", gateEq, v.g());
        gate(out, "output gate", "o", "σ", gateEq, v.o());
        row(out, "memory kept", "f ⊙ c_{t-1}", v.kept());
        row(out, "memory written", "i ⊙ g", v.written());
        row(out, "cell state", "c_t = f ⊙ c_{t-1} + i ⊙ g", v.c());
        row(out, "", "tanh(c_t)", v.tanhC());
        if (c.projSize() > 0) {
            row(out, "hidden, unprojected", "o ⊙ tanh(c_t)", v.hidden());
            row(out, "hidden state", "h_t = W_hr·(o ⊙ tanh(c_t))", v.h());
        } else {
            row(out, "hidden state", "h_t = o ⊙ tanh(c_t)", v.h());
        }
    }

    private static void gate(PrintWriter out, String name, String g, String act, String eq, Gate gate) {
        row(out, name, "z_" + g + " = " + String.format(Locale.ROOT, eq, g), gate.preActivation());
        row(out, "", g + " = " + act + "(z_" + g + ")", gate.activation());
    }

    private static void row(PrintWriter out, String label, String symbol, double[] v) {
        String lead = String.format(Locale.ROOT, "  %-20s %-36s %-6s ", label, symbol, "(" + v.length + ",)");
        StringBuilder b = new StringBuilder(lead);
        for (int k = 0; k < v.length; k++) {
            if (k > 0 && k % PER_LINE == 0) {
                b.append('\n').append(" ".repeat(lead.length()));
            }
            b.append(number(v[k]));
        }
        out.println(b);
    }

    /** Fixed width: six decimals when that is readable, scientific for large and tiny magnitudes. */
    static String number(double v) {
        String s;
        if (Double.isNaN(v)) {
            s = "nan";
        } else if (Double.isInfinite(v)) {
            s = v > 0 ? "inf" : "-inf";
        } else if (v == 0 || (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e4)) {
            s = String.format(Locale.ROOT, "%.6f", v);
        } else {
            s = String.format(Locale.ROOT, "%.4e", v);
        }
        return " ".repeat(Math.max(1, NUMBER_WIDTH + 1 - s.length())) + s;
    }
}
