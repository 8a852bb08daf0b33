package dev.lstm4j.trace;

import dev.lstm4j.DType;
import dev.lstm4j.ForwardOptions;
import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmState;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.reference.ReferenceBackward;
import dev.lstm4j.reference.TestSteps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every step's gradients of the card's backward view against {@code torch.autograd} in float64
 * ({@code tools/pytorch/make_card_backward_fixtures.py}: the cell built by hand in torch ops, checked against nn.LSTM,
 * with {@code retain_grad()} on every gate and state): dh and its two parts, dc and its part from t+1, the gates, the
 * pre-activations, dc_{t-1}, dh_{t-1} and dx_t, through the readouts all, last, last-valid, mean and hn and the head
 * layers Linear, tanh, sigmoid and relu, with and without a target. And the same comparison fails with a broken σ′.
 */
class GradTraceVsPytorchTest {
    /** float64 against float64: the order of the sums differs, nothing else. */
    private static final double TOLERANCE = 1e-10;
    private static final Map<String, Function<GradTrace.Step, double[]>> GRADS = new LinkedHashMap<>();

    static {
        GRADS.put("dh", s -> s.grads().dh());
        GRADS.put("dh_out", GradTrace.Step::dhFromOutput);
        GRADS.put("dh_next", GradTrace.Step::dhFromNext);
        GRADS.put("d_hidden", s -> s.grads().dHidden());
        GRADS.put("dc", s -> s.grads().dc());
        GRADS.put("dc_next", s -> s.grads().dcFromNext());
        GRADS.put("d_i", s -> s.grads().dI());
        GRADS.put("d_f", s -> s.grads().dF());
        GRADS.put("d_g", s -> s.grads().dG());
        GRADS.put("d_o", s -> s.grads().dO());
        GRADS.put("dz", s -> s.grads().dZ());
        GRADS.put("dc_prev", s -> s.grads().dCPrev());
        GRADS.put("dh_prev", s -> s.grads().dHPrev());
    }

    record Case(String name, Path dir, Map<?, ?> info, LstmModel model, Tensor input, ForwardOptions options, Tensor target) {
        @Override
        public String toString() {
            return name;
        }

        GradTrace record(ReferenceBackward.StepBackward step) {
            return GradTrace.record(model, input, options, TraceFilter.ALL, target, step);
        }
    }

    static List<Case> cases() throws Exception {
        URL url = GradTraceVsPytorchTest.class.getResource("/card-backward-fixtures/manifest.json");
        assertNotNull(url, "card-backward-fixtures missing; run /usr/bin/python3 tools/pytorch/make_card_backward_fixtures.py");
        Path root = Path.of(url.toURI()).getParent();
        Map<?, ?> manifest = (Map<?, ?>) Json.parse(Files.readString(root.resolve("manifest.json")));
        assertEquals(1L, manifest.get("format_version"), "fixture format changed; regenerate with tools/pytorch/make_card_backward_fixtures.py");
        List<Case> cases = new ArrayList<>();
        for (Object n : (List<?>) manifest.get("cases")) {
            Path dir = root.resolve((String) n);
            Map<?, ?> info = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("case.json")));
            LstmModel m = Lstm4j.load(dir.resolve("model.safetensors"));
            assertEquals(info.get("spec"), m.spec().toString(), n + ": the spec in the file's metadata");
            LstmState initial = Files.exists(dir.resolve("h0.npy"))
                    ? new LstmState(Npy.read(dir.resolve("h0.npy")), Npy.read(dir.resolve("c0.npy"))) : null;
            int[] lengths = null;
            if (Files.exists(dir.resolve("lengths.npy"))) {
                Tensor l = Npy.read(dir.resolve("lengths.npy"));
                assertEquals(DType.I64, l.dtype());
                lengths = new int[l.elementCount()];
                for (int b = 0; b < lengths.length; b++) {
                    lengths[b] = (int) l.at(b);
                }
            }
            Tensor target = Files.exists(dir.resolve("target.npy")) ? Npy.read(dir.resolve("target.npy")) : null;
            cases.add(new Case((String) n, dir, info, m, Npy.read(dir.resolve("input.npy")),
                    ForwardOptions.defaults().withInitial(initial).withLengths(lengths), target));
        }
        assertTrue(cases.size() >= 6, "fixture cases: " + cases);
        return cases;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyStepsGradientsMatchAutograd(Case c) throws Exception {
        GradTrace g = GradTrace.record(c.model(), c.input(), c.options(), TraceFilter.ALL, c.target(), ReferenceBackward::stepBackward);
        assertEquals(c.info().get("loss"), g.loss(), c + ": loss");
        double value = ((Number) c.info().get("loss_value")).doubleValue();
        assertEquals(value, g.lossValue(), TOLERANCE * Math.max(1, Math.abs(value)), c + ": loss value");
        double[] worst = {0};
        String failure = firstFailure(c, g, worst);
        System.out.printf("%-36s worst |Δ| / max(1, |e|) over every step's gradients: %.2e%n", c, worst[0]);
        assertNull(failure, failure);
    }

    /** The proof that the comparison can fail: the forget gate's σ′ without (1 − f) breaks every case. */
    @ParameterizedTest
    @MethodSource("cases")
    void aBrokenSigmoidDerivativeFails(Case c) throws Exception {
        String failure = firstFailure(c, c.record(TestSteps.BROKEN_FORGET_SIGMOID), new double[1]);
        System.out.println(c + " with the broken σ′: " + failure);
        assertNotNull(failure, c + ": the broken forget-gate σ′ went unnoticed");
    }

    /**
     * The first value that differs from PyTorch by more than the tolerance, described; null when all match. {@code worst[0]}
     * gets the largest {@code |Δ| / max(1, |e|)} compared.
     */
    static String firstFailure(Case c, GradTrace g, double[] worst) throws Exception {
        LstmConfig cfg = c.model().lstm().config();
        int d = cfg.directions(), layers = cfg.numLayers();
        Map<String, Tensor> expected = new LinkedHashMap<>();
        for (String name : GRADS.keySet()) {
            expected.put(name, Npy.read(c.dir().resolve(name + ".npy")));
        }
        int checked = 0;
        for (int layer = 0; layer < layers; layer++) {
            Tensor dx = Npy.read(c.dir().resolve("dx_l" + layer + ".npy"));
            for (int dir = 0; dir < d; dir++) {
                int ld = layer * d + dir;
                for (int b = 0; b < g.batch(); b++) {
                    for (int t = 0; t < g.steps(); t++) {
                        GradTrace.Step s = g.at(layer, dir, b, t);
                        boolean padded = Double.isNaN(expected.get("dh").get(ld, b, t, 0));
                        if (padded) {
                            assertNull(s, c + ": a record at the padded step " + where(layer, dir, b, t));
                            continue;
                        }
                        assertNotNull(s, c + ": no record at " + where(layer, dir, b, t));
                        for (Map.Entry<String, Function<GradTrace.Step, double[]>> e : GRADS.entrySet()) {
                            String f = compare(c + " " + e.getKey() + " at " + where(layer, dir, b, t), expected.get(e.getKey()),
                                    new int[] {ld, b, t}, e.getValue().apply(s), worst);
                            if (f != null) {
                                return f;
                            }
                        }
                        String f = compare(c + " dx at " + where(layer, dir, b, t), dx, new int[] {dir, b, t}, s.grads().dX(), worst);
                        if (f != null) {
                            return f;
                        }
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 0, c + ": nothing compared");
        assertEquals(checked, g.records().size(), c + ": records beyond the fixture's steps");
        return null;
    }

    private static String compare(String label, Tensor expected, int[] at, double[] actual, double[] worst) {
        int size = expected.size(-1);
        if (size != actual.length) {
            return label + ": " + actual.length + " values, PyTorch has " + size;
        }
        int base = ((at[0] * expected.size(1) + at[1]) * expected.size(2) + at[2]) * size;
        for (int k = 0; k < size; k++) {
            double e = expected.at(base + k);
            worst[0] = Math.max(worst[0], Math.abs(actual[k] - e) / Math.max(1, Math.abs(e)));
            if (!(Math.abs(actual[k] - e) <= TOLERANCE * Math.max(1, Math.abs(e)))) {
                return label + "[" + k + "]: PyTorch " + e + ", lstm4j " + actual[k] + " (|Δ| = " + Math.abs(actual[k] - e) + ")";
            }
        }
        return null;
    }

    private static String where(int layer, int dir, int b, int t) {
        return "layer " + layer + " dir " + dir + " row " + b + " t " + t;
    }

    @Test
    void anUnsupportedHeadIsRefusedWithTheReason() throws Exception {
        Case c = cases().get(0);
        LstmModel max = new LstmModel(dev.lstm4j.ModelSpec.parse("lstm > max"), null, c.model().lstm(), List.of(), "lstm.", false, List.of());
        try {
            GradTrace.sum(max, c.input(), c.options(), TraceFilter.ALL);
            fail("the readout max has no backward here and must be refused");
        } catch (dev.lstm4j.ModelException e) {
            assertTrue(e.getMessage().contains("the readout 'max'"), e.getMessage());
        }
    }
}
