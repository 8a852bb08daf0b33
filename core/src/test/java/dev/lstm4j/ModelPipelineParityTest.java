package dev.lstm4j;

import dev.lstm4j.internal.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole models against PyTorch: every architecture of tools/pytorch/make_model_fixtures.py (real nn.Module classes),
 * in float32 and float64, on both engines, loaded from the .pt, from the safetensors file with the spec given, and
 * from a converted safetensors file holding the spec in its metadata, with no options.
 */
class ModelPipelineParityTest {
    static final Path ROOT = Paths.get("src", "test", "resources", "model-fixtures");

    @TempDir
    static Path tmp;

    record Case(String name, Path dir, String spec, String dtype) {
        Tensor input() {
            return Lstm4j.readNpy(dir.resolve("input.npy"));
        }

        int[] lengths() {
            Path p = dir.resolve("lengths.npy");
            if (!Files.exists(p)) {
                return null;
            }
            double[] d = Lstm4j.readNpy(p).toDoubleArray();
            int[] l = new int[d.length];
            for (int k = 0; k < d.length; k++) {
                l[k] = (int) d[k];
            }
            return l;
        }

        Tensor expected(String n) {
            return Lstm4j.readNpy(dir.resolve(n + ".npy"));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() throws IOException {
        Map<?, ?> manifest = (Map<?, ?>) Json.parse(Files.readString(ROOT.resolve("manifest.json"), StandardCharsets.UTF_8));
        assertEquals(1L, manifest.get("format_version"), "model fixtures: regenerate with /usr/bin/python3 tools/pytorch/make_model_fixtures.py");
        List<Case> out = new ArrayList<>();
        for (Object n : (List<?>) manifest.get("cases")) {
            Path dir = ROOT.resolve((String) n);
            Map<?, ?> info = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("case.json"), StandardCharsets.UTF_8));
            assertTrue(info.get("torch_version") instanceof String, n + ": no torch_version");
            out.add(new Case((String) n, dir, (String) info.get("spec"), (String) info.get("dtype")));
        }
        assertEquals(20, out.size(), "10 architectures x float32/float64");
        return out;
    }

    static Stream<Arguments> matrix() throws IOException {
        List<Arguments> a = new ArrayList<>();
        for (Case c : cases()) {
            for (EngineChoice e : EngineChoice.values()) {
                for (String source : List.of("pt", "safetensors", "converted")) {
                    a.add(Arguments.of(c, e, source));
                }
            }
        }
        return a.stream();
    }

    /** The safetensors file with the spec in its metadata, as lstm4j convert writes it. */
    static Path converted(Case c) {
        Path p = tmp.resolve(c.name + "-converted.safetensors");
        if (!Files.exists(p)) {
            StateDict sd = Lstm4j.readWeights(c.dir.resolve("model.pt"));
            Lstm4j.writeSafetensors(p, sd.tensors(), Map.of(ModelSpec.METADATA_KEY, c.spec));
        }
        return p;
    }

    static LstmModel load(Case c, EngineChoice e, String source) {
        return switch (source) {
            case "pt" -> Lstm4j.load(c.dir.resolve("model.pt"), LoadOptions.defaults().withSpec(c.spec).withEngine(e));
            case "safetensors" -> Lstm4j.load(c.dir.resolve("model.safetensors"), LoadOptions.defaults().withSpec(ModelSpec.parse(c.spec))
                    .withEngine(e));
            default -> Lstm4j.load(converted(c), LoadOptions.defaults().withEngine(e));
        };
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("matrix")
    void matchesPyTorch(Case c, EngineChoice engine, String source) {
        LstmModel m = load(c, engine, source);
        assertEquals(ModelSpec.parse(c.spec), m.spec(), "the model's spec");
        assertEquals(c.dtype.equals("float64") ? Precision.F64 : Precision.F32, m.lstm().precision());
        if (engine == EngineChoice.FAST && c.dtype.equals("float32")) {
            assertTrue(m.lstm().usesFastPath(), "float32 with FAST runs on the fast path");
        }
        int[] lengths = c.lengths();
        LstmModel.Result r = m.forward(c.input(), ForwardOptions.defaults().withLengths(lengths));
        Tolerance tol = Tolerance.of(m.lstm().precision());
        String label = c.name + " " + engine + " " + source;
        Check.close(label + " y", c.expected("y"), r.y(), tol);
        Check.close(label + " output", c.expected("output"), r.lstm().output(), tol);
        Check.close(label + " h_n", c.expected("h_n"), r.lstm().hN(), tol);
        Check.close(label + " c_n", c.expected("c_n"), r.lstm().cN(), tol);
        assertEquals(m.layers().size(), r.layerOutputs().size());
        assertTrue(m.ignoredKeys().isEmpty(), "every tensor used");
    }

    /** Without the spec every multi-layer architecture is refused, never run with weights left out. */
    @Test
    void withoutTheSpecNoArchitectureRunsWithTensorsLeftOut() throws IOException {
        for (Case c : cases()) {
            LstmModel m;
            try {
                m = Lstm4j.load(c.dir.resolve("model.safetensors"));
            } catch (ModelException e) {
                assertTrue(e.getMessage().contains("--model") || e.getMessage().contains("several"), c.name + ": " + e.getMessage());
                continue;
            }
            // only an LSTM with one Linear loads by itself: lstm > all > fc, every tensor used
            assertEquals("lstm > all > fc", m.spec().toString(), c.name);
            assertTrue(m.ignoredKeys().isEmpty(), c.name);
        }
    }
}
