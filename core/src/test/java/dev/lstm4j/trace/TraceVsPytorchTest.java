package dev.lstm4j.trace;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.DType;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmState;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.reference.StepValues;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every traced stage against the same stage computed by PyTorch ({@code tools/pytorch/make_trace_fixtures.py}):
 * gate pre-activations and activations, both products, c, tanh(c), h and the projection.
 */
class TraceVsPytorchTest {
    private static final Map<String, Function<StepValues, double[]>> STAGES = new LinkedHashMap<>();

    static {
        STAGES.put("h_prev", StepValues::hPrev);
        STAGES.put("c_prev", StepValues::cPrev);
        STAGES.put("i_pre", v -> v.i().preActivation());
        STAGES.put("i", v -> v.i().activation());
        STAGES.put("f_pre", v -> v.f().preActivation());
        STAGES.put("f", v -> v.f().activation());
        STAGES.put("g_pre", v -> v.g().preActivation());
        STAGES.put("g", v -> v.g().activation());
        STAGES.put("o_pre", v -> v.o().preActivation());
        STAGES.put("o", v -> v.o().activation());
        STAGES.put("f_c_prev", StepValues::kept);
        STAGES.put("i_g", StepValues::written);
        STAGES.put("c", StepValues::c);
        STAGES.put("tanh_c", StepValues::tanhC);
        STAGES.put("h", StepValues::hidden);
        STAGES.put("h_proj", StepValues::h);
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "bidir_layers2_proj_packed"})
    void everyStageMatchesPytorch(String name) throws Exception {
        URL url = getClass().getResource("/trace-fixtures/" + name + "/case.json");
        assertNotNull(url, "trace-fixtures/" + name + " missing; run /usr/bin/python3 tools/pytorch/make_trace_fixtures.py");
        Path dir = Path.of(url.toURI()).getParent();
        Map<?, ?> info = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("case.json")));
        assertEquals(1L, info.get("format_version"));
        LstmModel m = ModelLoader.load(dir.resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
        LstmState initial = Files.exists(dir.resolve("h0.npy")) ? new LstmState(Npy.read(dir.resolve("h0.npy")), Npy.read(dir.resolve("c0.npy"))) : null;
        int[] lengths = null;
        if (Files.exists(dir.resolve("lengths.npy"))) {
            Tensor l = Npy.read(dir.resolve("lengths.npy"));
            assertEquals(DType.I64, l.dtype());
            lengths = new int[l.elementCount()];
            for (int b = 0; b < lengths.length; b++) {
                lengths[b] = (int) l.at(b);
            }
        }
        Trace trace = Trace.record(m, Npy.read(dir.resolve("input.npy")), ForwardOptions.defaults().withInitial(initial).withLengths(lengths), TraceFilter.ALL);
        List<?> stages = (List<?>) info.get("stages");
        assertEquals(trace.projected() ? 16 : 15, stages.size(), "stages listed in case.json");
        Tolerance tol = Tolerance.F32;
        int d = m.lstm().config().directions();
        int checked = 0;
        for (Object st : stages) {
            String stage = (String) st;
            Tensor expected = Npy.read(dir.resolve(stage + ".npy")); // (L*D, B, T, size), NaN where not computed
            Function<StepValues, double[]> get = STAGES.get(stage);
            assertNotNull(get, "unknown stage " + stage);
            for (int ld = 0; ld < expected.size(0); ld++) {
                for (int b = 0; b < expected.size(1); b++) {
                    for (int t = 0; t < expected.size(2); t++) {
                        TraceStep s = trace.at(ld / d, ld % d, b, t);
                        if (Double.isNaN(expected.get(ld, b, t, 0))) {
                            assertNull(s, name + ": PyTorch computed no " + stage + " at layer/dir " + ld + " row " + b + " step " + t);
                            continue;
                        }
                        assertNotNull(s, name + ": no record at layer/dir " + ld + " row " + b + " step " + t);
                        double[] got = get.apply(s.values());
                        assertEquals(expected.size(3), got.length, stage + " size");
                        for (int k = 0; k < got.length; k++) {
                            double e = expected.get(ld, b, t, k);
                            assertTrue(tol.accepts(e, got[k]), name + " " + stage + " layer/dir " + ld + " row " + b + " step " + t
                                    + " unit " + k + ": PyTorch " + e + ", lstm4j " + got[k]);
                            checked++;
                        }
                    }
                }
            }
        }
        assertTrue(checked > 0, "nothing compared");
    }
}
