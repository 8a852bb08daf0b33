package dev.lstm4j.trace;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.reference.StepValues;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON, CSV and text forms of a trace hold exactly the recorded numbers. */
class TraceOutputTest {
    private static Trace trace(String set, String name, TraceFilter filter) throws Exception {
        FixtureCase fc = FixtureCase.load(set, name);
        return Trace.record(fc.model(), fc.input(), ForwardOptions.defaults().withLayout(fc.layout()).withInitial(fc.initial()).withLengths(fc.lengths()), filter);
    }

    @Test
    void jsonReadsBackExactly() throws Exception {
        Trace t = trace("packed-fixtures", "packed_layers2_bidir_proj_state", TraceFilter.ALL);
        Map<?, ?> root = (Map<?, ?>) Json.parse(TraceJson.toJson(t));
        assertEquals("lstm4j-trace", root.get("format"));
        assertEquals(1L, root.get("version"));
        Map<?, ?> model = (Map<?, ?>) root.get("model");
        assertEquals(3L, model.get("proj_size"));
        assertEquals(true, model.get("bidirectional"));
        assertEquals("float32", model.get("dtype"));
        Map<?, ?> input = (Map<?, ?>) root.get("input");
        assertEquals(List.of(7L, 3L, 5L, 1L, 6L), input.get("lengths"));
        List<?> records = (List<?>) root.get("records");
        assertEquals(t.records().size(), records.size());
        for (int r = 0; r < records.size(); r++) {
            Map<?, ?> j = (Map<?, ?>) records.get(r);
            TraceStep s = t.records().get(r);
            assertEquals(List.of((long) s.layer(), (long) s.direction(), (long) s.batch(), (long) s.step()),
                    List.of(j.get("layer"), j.get("direction"), j.get("batch"), j.get("step")));
            StepValues v = s.values();
            Map<?, ?> gates = (Map<?, ?>) j.get("gates");
            same(v.x(), j.get("x"));
            same(v.hPrev(), j.get("h_prev"));
            same(v.cPrev(), j.get("c_prev"));
            same(v.i().preActivation(), ((Map<?, ?>) gates.get("i")).get("pre"));
            same(v.i().activation(), ((Map<?, ?>) gates.get("i")).get("act"));
            same(v.f().preActivation(), ((Map<?, ?>) gates.get("f")).get("pre"));
            same(v.f().activation(), ((Map<?, ?>) gates.get("f")).get("act"));
            same(v.g().preActivation(), ((Map<?, ?>) gates.get("g")).get("pre"));
            same(v.g().activation(), ((Map<?, ?>) gates.get("g")).get("act"));
            same(v.o().preActivation(), ((Map<?, ?>) gates.get("o")).get("pre"));
            same(v.o().activation(), ((Map<?, ?>) gates.get("o")).get("act"));
            same(v.kept(), j.get("f_c_prev"));
            same(v.written(), j.get("i_g"));
            same(v.c(), j.get("c"));
            same(v.tanhC(), j.get("tanh_c"));
            same(v.hidden(), j.get("h"));
            same(v.h(), j.get("h_proj"));
        }
        Map<?, ?> result = (Map<?, ?>) root.get("result");
        Map<?, ?> out = (Map<?, ?>) result.get("output");
        assertEquals(List.of(5L, 7L, 6L), out.get("shape"));
        same(t.output().output().toDoubleArray(), out.get("data"));
        same(t.head().toDoubleArray(), ((Map<?, ?>) result.get("head")).get("data"));
    }

    @Test
    void jsonWritesNanAsString() throws Exception {
        Trace t = trace("fixtures", "nan_input", new TraceFilter(Set.of(2), null, null, Set.of(1)));
        Map<?, ?> root = (Map<?, ?>) Json.parse(TraceJson.toJson(t));
        Map<?, ?> rec = (Map<?, ?>) ((List<?>) root.get("records")).get(0);
        assertEquals("NaN", ((List<?>) rec.get("x")).get(3));
        assertEquals("NaN", ((List<?>) rec.get("c")).get(0));
        assertNull(((Map<?, ?>) root.get("result")).get("head"));
        assertEquals(List.of(2L), ((Map<?, ?>) root.get("filter")).get("steps"));
        assertNull(((Map<?, ?>) root.get("filter")).get("layers"));
    }

    private static void same(double[] expected, Object json) {
        List<?> list = (List<?>) json;
        assertEquals(expected.length, list.size());
        for (int k = 0; k < expected.length; k++) {
            Object o = list.get(k);
            double got = o instanceof String s ? Double.parseDouble(s) : ((Number) o).doubleValue();
            assertEquals(Double.doubleToLongBits(expected[k]), Double.doubleToLongBits(got), "element " + k + ": " + expected[k] + " vs " + o);
        }
    }

    @Test
    void csvHoldsOneRowPerValue() throws Exception {
        Trace t = trace("fixtures", "bidir_layers2_proj", new TraceFilter(Set.of(0, 3), null, null, Set.of(1)));
        StringWriter w = new StringWriter();
        TraceCsv.write(w, t);
        String[] lines = w.toString().split("\n");
        assertEquals(TraceCsv.HEADER, lines[0]);
        Map<String, Double> values = new HashMap<>();
        for (int n = 1; n < lines.length; n++) {
            String[] cells = lines[n].split(",");
            assertEquals(7, cells.length, lines[n]);
            values.put(String.join(",", List.of(cells).subList(0, 6)), (double) Float.parseFloat(cells[6]));
        }
        int expected = 0;
        for (TraceStep s : t.records()) {
            StepValues v = s.values();
            String where = s.layer() + "," + s.direction() + "," + s.batch() + "," + s.step() + ",";
            Map<String, double[]> named = new HashMap<>();
            named.put("x", v.x());
            named.put("i_pre", v.i().preActivation());
            named.put("f", v.f().activation());
            named.put("g_pre", v.g().preActivation());
            named.put("o", v.o().activation());
            named.put("f_c_prev", v.kept());
            named.put("c", v.c());
            named.put("h", v.hidden());
            named.put("h_proj", v.h());
            for (Map.Entry<String, double[]> e : named.entrySet()) {
                for (int k = 0; k < e.getValue().length; k++) {
                    Double got = values.get(where + e.getKey() + "," + k);
                    assertEquals(e.getValue()[k], got, where + e.getKey() + "," + k);
                }
            }
            // x, h_prev, c_prev; 8 gate arrays and 5 cell arrays of H; h_proj
            expected += v.x().length + v.hPrev().length + v.cPrev().length + 13 * v.c().length + v.h().length;
        }
        // then the head's rows: each layer's output at each kept (batch row, step), checked against the tensor
        int headRows = 0;
        for (Trace.LayerOutput l : t.layers()) {
            for (int step : List.of(0, 3)) {
                double[] y = t.vectorAt(l.output(), 1, step);
                for (int k = 0; k < y.length; k++) {
                    assertEquals((double) (float) y[k], values.get("head,,1," + step + "," + l.name() + "," + k), l.name() + " " + step + " " + k);
                    headRows++;
                }
            }
        }
        assertTrue(headRows > 0, "the fixture has a head");
        assertEquals(expected + headRows, lines.length - 1);
    }

    @Test
    void reportShowsEveryStageAligned() throws Exception {
        Trace t = trace("fixtures", "proj", new TraceFilter(Set.of(2), null, null, Set.of(0)));
        StringWriter w = new StringWriter();
        TraceReport.write(t, new PrintWriter(w));
        String text = w.toString();
        List<String> stages = new ArrayList<>(List.of("x_t", "h_{t-1}", "c_{t-1}", "z_f = W_if·x + b_if + W_hf·h + b_hf", "f = σ(z_f)",
                "z_i = W_ii·x + b_ii + W_hi·h + b_hi", "i = σ(z_i)", "g = tanh(z_g)", "o = σ(z_o)", "f ⊙ c_{t-1}", "i ⊙ g",
                "c_t = f ⊙ c_{t-1} + i ⊙ g", "tanh(c_t)", "o ⊙ tanh(c_t)", "h_t = W_hr·(o ⊙ tanh(c_t))"));
        int column = -1;
        for (String line : text.split("\n")) {
            for (String stage : stages) {
                if (line.contains(" " + stage + " ")) {
                    // values start in the same column on every line
                    int col = line.indexOf('(', line.indexOf(stage) + stage.length());
                    assertTrue(column < 0 || column == col, "misaligned: " + line);
                    column = col;
                }
            }
        }
        for (String stage : stages) {
            assertTrue(text.contains(" " + stage + " "), "report lacks " + stage + ":\n" + text);
        }
        assertTrue(text.contains("── batch 0 · step t=2 · layer 0 "), text);
        assertTrue(text.contains("(7,) "), "hidden shape shown");
        assertTrue(text.contains("(3,) "), "projected shape shown");
        StepValues v = t.records().get(0).values();
        assertTrue(text.contains(TraceReport.number(v.f().activation()[0])), "f value shown");
        assertEquals("    0.123457", TraceReport.number(0.1234567));
        assertEquals(" -1.2346e+04", TraceReport.number(-12345.6));
        assertEquals("         nan", TraceReport.number(Double.NaN));
    }
}
