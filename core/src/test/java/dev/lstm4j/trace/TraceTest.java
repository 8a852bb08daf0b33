package dev.lstm4j.trace;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.InputException;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.reference.ReferenceLstm;
import dev.lstm4j.reference.StepValues;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceTest {
    /**
     * The trace is the run: each record's h is the untraced output at its place, the last record of each
     * layer/direction/row holds h_n and c_n, each record's h_prev/c_prev is the previous record's h/c (or h0/c0),
     * a layer's x is the layer below's output, and every stage follows from the ones before it, bit for bit.
     */
    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({"fixtures,basic_f32", "fixtures,f64", "fixtures,layers3", "fixtures,bidir_layers2_proj",
            "fixtures,seq_first_bidir_proj_state", "fixtures,unbatched_bidir_proj", "fixtures,no_bias", "fixtures,nan_input",
            "packed-fixtures,packed_layers2_bidir_proj_state", "packed-fixtures,packed_seq_first_state", "packed-fixtures,packed_f64"})
    void tracedValuesEqualTheUntracedRunExactly(String set, String name) throws Exception {
        FixtureCase fc = FixtureCase.load(set, name);
        LstmModel m = fc.model();
        Trace trace = Trace.record(m, fc.input(), ForwardOptions.defaults().withLayout(fc.layout()).withInitial(fc.initial()).withLengths(fc.lengths()), TraceFilter.ALL);
        LstmModel.Result plain = fc.lengths() == null ? m.forward(fc.input(), ForwardOptions.defaults().withLayout(fc.layout()).withInitial(fc.initial()))
                : m.forward(fc.input(), ForwardOptions.defaults().withLayout(fc.layout()).withInitial(fc.initial()).withLengths(fc.lengths()));
        assertArrayEquals(plain.lstm().output().toDoubleArray(), trace.output().output().toDoubleArray(), name + " output");
        assertArrayEquals(plain.lstm().hN().toDoubleArray(), trace.output().hN().toDoubleArray(), name + " h_n");
        assertArrayEquals(plain.lstm().cN().toDoubleArray(), trace.output().cN().toDoubleArray(), name + " c_n");
        if (plain.head() != null) {
            assertArrayEquals(plain.head().toDoubleArray(), trace.head().toDoubleArray(), name + " head");
        }
        // and the run is PyTorch's
        Tolerance tol = Tolerance.of(m.lstm().precision());
        Tolerance.Report rep = tol.check(name + " output vs PyTorch", fc.output(), trace.output().output());
        assertTrue(rep.ok(), rep.toString());

        LstmConfig c = m.lstm().config();
        int d = c.directions(), hh = c.outputHiddenSize(), hs = c.hiddenSize(), b = trace.batch(), t = trace.steps();
        Canon out = Canon.output(plain.lstm().output(), trace.layout());
        Canon hN = Canon.state(plain.lstm().hN(), trace.layout());
        Canon cN = Canon.state(plain.lstm().cN(), trace.layout());
        Canon h0 = fc.initial() == null ? null : Canon.state(fc.initial().h().to(m.lstm().precision().dtype()), trace.layout());
        Canon c0 = fc.initial() == null ? null : Canon.state(fc.initial().c().to(m.lstm().precision().dtype()), trace.layout());
        int expectedRecords = 0;
        for (int row = 0; row < b; row++) {
            int len = trace.lengths()[row];
            expectedRecords += len * c.numLayers() * d;
            for (int layer = 0; layer < c.numLayers(); layer++) {
                for (int dir = 0; dir < d; dir++) {
                    int ld = layer * d + dir;
                    String where = name + " layer " + layer + " dir " + dir + " row " + row;
                    double[] hPrev = h0 == null ? new double[hh] : h0.row(ld, row);
                    double[] cPrev = c0 == null ? new double[hs] : c0.row(ld, row);
                    for (int n = 0; n < len; n++) {
                        int step = dir == 0 ? n : len - 1 - n;
                        TraceStep s = trace.at(layer, dir, row, step);
                        assertNotNull(s, where + " step " + step);
                        StepValues v = s.values();
                        assertArrayEquals(hPrev, v.hPrev(), where + " step " + step + " h_prev");
                        assertArrayEquals(cPrev, v.cPrev(), where + " step " + step + " c_prev");
                        coherent(v, m.lstm().precision(), where + " step " + step);
                        if (layer == c.numLayers() - 1) {
                            assertArrayEquals(out.slice(row, step, dir * hh, hh), v.h(), where + " step " + step + " h = output");
                        }
                        if (layer > 0) {
                            double[] below = new double[d * hh];
                            for (int k = 0; k < d; k++) {
                                System.arraycopy(trace.at(layer - 1, k, row, step).values().h(), 0, below, k * hh, hh);
                            }
                            assertArrayEquals(below, v.x(), where + " step " + step + " x = h of the layer below");
                        }
                        hPrev = v.h();
                        cPrev = v.c();
                    }
                    assertArrayEquals(hN.row(ld, row), hPrev, where + " h_n");
                    assertArrayEquals(cN.row(ld, row), cPrev, where + " c_n");
                    for (int step = len; step < t; step++) {
                        assertNull(trace.at(layer, dir, row, step), where + ": padded step " + step + " has no record");
                    }
                }
            }
        }
        assertEquals(expectedRecords, trace.records().size(), name + " record count");
    }

    /** Every stage recomputed from the stages before it with the reference card's functions, exactly. */
    private static void coherent(StepValues v, Precision p, String where) {
        for (var g : new Object[][] {{"i", v.i(), true}, {"f", v.f(), true}, {"g", v.g(), false}, {"o", v.o(), true}}) {
            dev.lstm4j.reference.Gate gate = (dev.lstm4j.reference.Gate) g[1];
            double[] z = gate.preActivation();
            double[] a = new double[z.length];
            for (int k = 0; k < z.length; k++) {
                a[k] = p.round((Boolean) g[2] ? ReferenceLstm.sigmoid(z[k]) : Math.tanh(z[k]));
            }
            assertArrayEquals(a, gate.activation(), where + " " + g[0] + " = act(z)");
        }
        assertArrayEquals(ReferenceLstm.kept(v.f().activation(), v.cPrev(), p), v.kept(), where + " f ⊙ c_prev");
        assertArrayEquals(ReferenceLstm.written(v.i().activation(), v.g().activation(), p), v.written(), where + " i ⊙ g");
        assertArrayEquals(ReferenceLstm.nextCell(v.kept(), v.written(), p), v.c(), where + " c");
        double[] tanhC = new double[v.c().length];
        for (int k = 0; k < tanhC.length; k++) {
            tanhC[k] = p.round(Math.tanh(v.c()[k]));
        }
        assertArrayEquals(tanhC, v.tanhC(), where + " tanh(c)");
        assertArrayEquals(ReferenceLstm.nextHidden(v.o().activation(), v.tanhC(), p), v.hidden(), where + " o ⊙ tanh(c)");
    }

    /** Output or state tensors in canonical (batch-first, batched) form. */
    private record Canon(double[] data, int rows, int cols) {
        static Canon output(Tensor o, String layout) {
            Tensor t = switch (layout) {
                case "unbatched" -> o.reshape(1, o.size(0), o.size(1));
                case "seq_first" -> o.swapFirstTwo();
                default -> o;
            };
            return new Canon(t.toDoubleArray(), t.size(1), t.size(2));
        }

        static Canon state(Tensor s, String layout) {
            Tensor t = s.rank() == 2 ? s.reshape(s.size(0), 1, s.size(1)) : s;
            return new Canon(t.toDoubleArray(), t.size(1), t.size(2));
        }

        double[] slice(int a, int b, int from, int len) {
            double[] r = new double[len];
            System.arraycopy(data, (a * rows + b) * cols + from, r, 0, len);
            return r;
        }

        double[] row(int a, int b) {
            return slice(a, b, 0, cols);
        }
    }

    @Test
    void filterKeepsOnlyMatchingSteps() throws Exception {
        FixtureCase fc = FixtureCase.load("fixtures", "bidir_layers2_proj");
        TraceFilter f = new TraceFilter(Set.of(1, 4), Set.of(1), Set.of(1), Set.of(0, 2));
        Trace trace = Trace.record(fc.model(), fc.input(), ForwardOptions.defaults().withLayout(fc.layout()).withInitial(fc.initial()), f);
        assertEquals(2 * 2, trace.records().size());
        for (TraceStep s : trace.records()) {
            assertTrue(f.accepts(s.layer(), s.direction(), s.batch(), s.step()), s.toString());
        }
        // the filtered trace records the same numbers as the full one
        Trace full = Trace.record(fc.model(), fc.input(), ForwardOptions.defaults().withLayout(fc.layout()).withInitial(fc.initial()), TraceFilter.ALL);
        for (TraceStep s : trace.records()) {
            assertArrayEquals(full.at(s.layer(), s.direction(), s.batch(), s.step()).values().h(), s.values().h());
        }
        // reading order: by batch row, then time step
        assertEquals(java.util.List.of("0/1", "0/4", "2/1", "2/4"),
                trace.records().stream().map(s -> s.batch() + "/" + s.step()).toList());
    }

    @Test
    void filterOutOfRangeIsRefused() throws Exception {
        FixtureCase fc = FixtureCase.load("fixtures", "basic_f32");
        InputException e = assertThrows(InputException.class, () -> Trace.record(fc.model(), fc.input(), ForwardOptions.defaults().withLayout(fc.layout()), new TraceFilter(Set.of(6), null, null, null)));
        assertEquals("trace filter: step 6 does not exist; the input has 6 time steps (0..5)", e.getMessage());
        e = assertThrows(InputException.class, () -> Trace.record(fc.model(), fc.input(), ForwardOptions.defaults().withLayout(fc.layout()), new TraceFilter(null, null, Set.of(1), null)));
        assertEquals("trace filter: direction 1 does not exist; the model is unidirectional (0 is forward) (0..0)", e.getMessage());
        e = assertThrows(InputException.class, () -> Trace.record(fc.model(), fc.input(), ForwardOptions.defaults().withLayout(fc.layout()), new TraceFilter(null, Set.of(1), null, null)));
        assertEquals("trace filter: layer 1 does not exist; the model has 1 layer (0..0)", e.getMessage());
        e = assertThrows(InputException.class, () -> Trace.record(fc.model(), fc.input(), ForwardOptions.defaults().withLayout(fc.layout()), new TraceFilter(null, null, null, Set.of(3))));
        assertEquals("trace filter: batch row 3 does not exist; the batch has 3 rows (0..2)", e.getMessage());
    }
}
