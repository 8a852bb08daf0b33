package dev.lstm4j.trace;

import dev.lstm4j.Precision;
import dev.lstm4j.internal.io.Csv;
import dev.lstm4j.reference.StepValues;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A trace as a long CSV table, one value per row: {@code layer,direction,batch,step,name,index,value}.
 * Names are those of the JSON schema ({@code x, h_prev, c_prev, i_pre, i, f_pre, f, g_pre, g, o_pre, o,
 * f_c_prev, i_g, c, tanh_c, h, h_proj}); {@code pandas.read_csv(...).pivot(...)} brings back any table.
 * Values read back exactly: float32 as float32 text, float64 as float64 text; nan, inf, -inf as NumPy writes them.
 *
 * <p>After the cell's rows come the model's: the readout (name {@code readout:KEYWORD}) and each head layer's output
 * (name as in the spec, e.g. {@code fc1}, {@code relu}), with {@code layer} {@code head}, {@code direction} empty, and
 * {@code step} empty when the readout gives one vector per sequence (for the readout {@code all} the readout is the
 * LSTM's output itself and is not repeated). They follow the trace's batch and step filter; padded steps have none.
 */
public final class TraceCsv {
    /** The header row. */
    public static final String HEADER = "layer,direction,batch,step,name,index,value";

    private TraceCsv() {
    }

    public static void write(Path file, Trace trace) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            write(w, trace);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    public static void write(Writer w, Trace trace) throws IOException {
        boolean f32 = trace.precision() == Precision.F32;
        w.write(HEADER);
        w.write('\n');
        StringBuilder b = new StringBuilder();
        for (TraceStep s : trace.records()) {
            StepValues v = s.values();
            String where = s.layer() + "," + s.direction() + "," + s.batch() + "," + s.step() + ",";
            b.setLength(0);
            for (Stage stage : Stage.values()) {
                if (stage.inUnprojected() || trace.projected()) {
                    rows(b, where, stage.key(), stage.of(v), f32);
                }
            }
            w.write(b.toString());
        }
        modelRows(w, trace, f32);
    }

    private static void modelRows(Writer w, Trace trace, boolean f32) throws IOException {
        TraceFilter f = trace.filter();
        boolean perStep = trace.readout().perStep();
        StringBuilder b = new StringBuilder();
        for (int batch = 0; batch < trace.batch(); batch++) {
            if (f.batches() != null && !f.batches().contains(batch)) {
                continue;
            }
            b.setLength(0);
            if (perStep) {
                for (int t = 0; t < trace.lengths()[batch]; t++) {
                    if (f.steps() != null && !f.steps().contains(t)) {
                        continue;
                    }
                    for (Trace.LayerOutput l : trace.layers()) {
                        rows(b, "head,," + batch + "," + t + ",", l.name(), trace.vectorAt(l.output(), batch, t), f32);
                    }
                }
            } else {
                String where = "head,," + batch + ",,";
                rows(b, where, "readout:" + trace.readout().keyword(), trace.vectorAt(trace.readoutValues(), batch, -1), f32);
                for (Trace.LayerOutput l : trace.layers()) {
                    rows(b, where, l.name(), trace.vectorAt(l.output(), batch, -1), f32);
                }
            }
            w.write(b.toString());
        }
    }

    private static void rows(StringBuilder b, String where, String name, double[] v, boolean f32) {
        for (int k = 0; k < v.length; k++) {
            b.append(where).append(name).append(',').append(k).append(',').append(Csv.text(v[k], f32)).append('\n');
        }
    }
}
