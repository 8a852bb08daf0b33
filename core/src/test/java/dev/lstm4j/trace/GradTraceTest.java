package dev.lstm4j.trace;

import dev.lstm4j.DType;
import dev.lstm4j.ForwardOptions;
import dev.lstm4j.InputException;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmState;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.card.Card;
import dev.lstm4j.reference.ReferenceBackward.InputGrads;
import dev.lstm4j.train.Parameter;
import dev.lstm4j.train.TrainableLstm;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gradient trace is the training backward seen step by step: on seeded random models its dx, dh_0 and dc_0 are the
 * ones {@link TrainableLstm}'s backward returns for the same loss, dh splits exactly into its two parts, and a filter
 * keeps rows without changing their values. PyTorch's side is {@link GradTraceVsPytorchTest}.
 */
class GradTraceTest {
    private static final int CONFIGS = 60;

    @Test
    void agreesWithTheTrainingBackwardOnRandomModels() {
        long base = 0x5eed_0c4dL;
        System.out.println("gradient trace vs training backward: base seed " + base + ", " + CONFIGS + " configurations");
        for (int n = 0; n < CONFIGS; n++) {
            long seed = base + n;
            SplittableRandom r = new SplittableRandom(seed);
            int in = 1 + r.nextInt(3), hidden = 1 + r.nextInt(4), layers = 1 + r.nextInt(2);
            boolean bidir = r.nextBoolean();
            int proj = hidden > 1 && r.nextInt(3) == 0 ? 1 + r.nextInt(hidden - 1) : 0;
            LstmConfig config = new LstmConfig(in, hidden, layers, bidir, proj, r.nextInt(4) != 0);
            int headOut = r.nextInt(3);
            TrainableLstm tl = TrainableLstm.create(config, headOut, 0, Precision.F64, r.nextLong());
            for (Parameter p : tl.parameters()) {
                for (int k = 0; k < p.size(); k++) {
                    p.value()[k] = r.nextDouble(-1, 1);
                }
            }
            int batch = 1 + r.nextInt(3), steps = 1 + r.nextInt(5);
            double[] x = rand(r, batch * steps * in);
            int ld = layers * config.directions(), hh = config.outputHiddenSize();
            double[] h0 = rand(r, ld * batch * hh), c0 = rand(r, ld * batch * hidden);
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                lengths[b] = 1 + r.nextInt(steps);
            }
            String where = "seed " + seed + " (" + config + ", head " + headOut + ", B=" + batch + ", T=" + steps + ", lengths "
                    + Arrays.toString(lengths) + ")";

            LstmModel model = tl.toModel();
            GradTrace g = GradTrace.sum(model, Tensor.of(DType.F64, new int[] {batch, steps, in}, x), ForwardOptions.defaults()
                    .withInitial(new LstmState(Tensor.of(DType.F64, new int[] {ld, batch, hh}, h0),
                            Tensor.of(DType.F64, new int[] {ld, batch, hidden}, c0))).withLengths(lengths), TraceFilter.ALL);
            assertEquals("y.sum()", g.loss());
            // the same loss through the training code: ∂L/∂y = 1 on the head's output, or on the LSTM's when there is none
            TrainableLstm.Pass pass = tl.forward(x, batch, steps, h0, c0, lengths, null);
            double[] ones = new double[headOut > 0 ? pass.head().length : pass.output().length];
            Arrays.fill(ones, 1);
            InputGrads expected = headOut > 0 ? pass.backward(ones, null, null, null) : pass.backward(null, ones, null, null);

            double[] dInput = new double[batch * steps * in];
            for (GradTrace.Step s : g.records()) {
                double[] dh = s.grads().dh();
                for (int k = 0; k < dh.length; k++) {
                    assertEquals(dh[k], s.dhFromNext()[k] + s.dhFromOutput()[k], 0.0, where + ": dh = dh_next + dh_out at " + s);
                }
                if (s.layer() == 0) {
                    for (int k = 0; k < in; k++) {
                        dInput[(s.batch() * steps + s.step()) * in + k] += s.grads().dX()[k];
                    }
                }
                int len = lengths[s.batch()];
                boolean firstStep = s.direction() == 0 ? s.step() == 0 : s.step() == len - 1;
                if (firstStep) {
                    int row = (s.layer() * config.directions() + s.direction()) * batch + s.batch();
                    assertArrayEquals(Arrays.copyOfRange(expected.dH0(), row * hh, (row + 1) * hh), s.grads().dHPrev(), 1e-12, where + ": dh0");
                    assertArrayEquals(Arrays.copyOfRange(expected.dC0(), row * hidden, (row + 1) * hidden), s.grads().dCPrev(), 1e-12,
                            where + ": dc0");
                }
            }
            assertArrayEquals(expected.dInput(), dInput, 1e-12, where + ": dx");
            int computed = 0;
            for (int len : lengths) {
                computed += len * ld;
            }
            assertEquals(computed, g.records().size(), where + ": one record per computed step");
        }
    }

    @Test
    void aFilterKeepsRowsAndTheirValues() throws Exception {
        GradTraceVsPytorchTest.Case c = GradTraceVsPytorchTest.cases().stream().filter(k -> k.name().contains("packed_mean")).findFirst()
                .orElseThrow();
        GradTrace all = GradTrace.sum(c.model(), c.input(), c.options(), TraceFilter.ALL);
        GradTrace one = GradTrace.sum(c.model(), c.input(), c.options(), new TraceFilter(null, null, null, Set.of(1)));
        assertTrue(one.records().size() > 0);
        for (GradTrace.Step s : one.records()) {
            assertEquals(1, s.batch());
            assertArrayEquals(all.at(s.layer(), s.direction(), 1, s.step()).grads().dc(), s.grads().dc(), 0.0);
        }
        assertNull(one.at(0, 0, 0, 0), "row 0 was filtered out");
        assertNotNull(all.at(0, 0, 0, 0));
        assertEquals(all.lossValue(), one.lossValue(), 0.0, "the loss covers the whole batch");
    }

    @Test
    void aTargetOfTheWrongShapeIsRefused() throws Exception {
        GradTraceVsPytorchTest.Case c = GradTraceVsPytorchTest.cases().stream().filter(k -> k.target() != null).findFirst().orElseThrow();
        Tensor wrong = Tensor.zeros(DType.F64, c.target().elementCount() + 1);
        InputException e = assertThrows(InputException.class, () -> GradTrace.mse(c.model(), c.input(), c.options(), TraceFilter.ALL, wrong));
        assertTrue(e.getMessage().startsWith("target: expected the shape of the model's output y, " + Tensor.shapeString(c.target().shape())),
                e.getMessage());
    }

    @Test
    void theCardCarriesTheBackwardViewOfTheSameRunOnly() throws Exception {
        GradTraceVsPytorchTest.Case c = GradTraceVsPytorchTest.cases().get(0);
        Trace trace = Trace.record(c.model(), c.input(), c.options(), TraceFilter.ALL);
        GradTrace g = GradTrace.sum(c.model(), c.input(), c.options(), TraceFilter.ALL);
        String page = Card.html(trace, g, "t", "d");
        assertTrue(page.contains("\"backward\":{\"loss\":\"y.sum()\""), "backward data in the page");
        assertTrue(page.contains("\"dc_norm\":["), "the norms in the page");
        assertTrue(Card.html(trace, "t", "d").contains("\"backward\":null"), "a forward-only page says it has no backward");
        GradTraceVsPytorchTest.Case other = GradTraceVsPytorchTest.cases().get(1);
        GradTrace og = GradTrace.sum(other.model(), other.input(), other.options(), TraceFilter.ALL);
        InputException e = assertThrows(InputException.class, () -> Card.html(trace, og, "t", "d"));
        assertTrue(e.getMessage().startsWith("the gradient trace is of another run"), e.getMessage());
    }

    /** What the Javadoc says: once built, one gradient trace can be read from several threads at once. */
    @Test
    void oneTraceIsReadFromManyThreads() throws Exception {
        GradTraceVsPytorchTest.Case c = GradTraceVsPytorchTest.cases().get(3);
        GradTrace g = GradTrace.sum(c.model(), c.input(), c.options(), TraceFilter.ALL);
        java.util.concurrent.Callable<Double> read = () -> {
            double s = 0;
            for (int rep = 0; rep < 50; rep++) {
                for (GradTrace.Step st : g.records()) {
                    s += g.at(st.layer(), st.direction(), st.batch(), st.step()).grads().dc()[0];
                }
            }
            return s;
        };
        double expected = read.call();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            for (java.util.concurrent.Future<Double> f : pool.invokeAll(java.util.Collections.nCopies(8, read))) {
                assertEquals(expected, f.get(), 0.0);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static double[] rand(SplittableRandom r, int n) {
        double[] v = new double[n];
        for (int k = 0; k < n; k++) {
            v[k] = r.nextDouble(-1, 1);
        }
        return v;
    }
}
