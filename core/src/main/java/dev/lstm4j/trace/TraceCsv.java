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
    }

    private static void rows(StringBuilder b, String where, String name, double[] v, boolean f32) {
        for (int k = 0; k < v.length; k++) {
            b.append(where).append(name).append(',').append(k).append(',').append(Csv.text(v[k], f32)).append('\n');
        }
    }
}
