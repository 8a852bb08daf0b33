package dev.lstm4j.internal.io;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.StateDict;
import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every .pt and .npz file PyTorch wrote for a case reads as exactly the tensors of its safetensors copy,
 * and the model built from it gives exactly the safetensors model's outputs, within tolerance of PyTorch's.
 */
class PtFixturesTest {
    static List<PtFixtures.Weights> weights() {
        return PtFixtures.weights();
    }

    static void assertSameTensors(StateDict expected, StateDict actual, String label) {
        assertEquals(List.copyOf(expected.tensors().keySet()), List.copyOf(actual.tensors().keySet()), label + ": names or order differ");
        for (Map.Entry<String, Tensor> e : expected.tensors().entrySet()) {
            Tensor a = actual.tensors().get(e.getKey());
            String what = label + " " + e.getKey();
            assertEquals(e.getValue().dtype(), a.dtype(), what);
            assertArrayEquals(e.getValue().shape(), a.shape(), what);
            assertTrue(Arrays.equals(e.getValue().toDoubleArray(), a.toDoubleArray()), what + ": values differ");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("weights")
    void readsTheSameTensorsAsSafetensors(PtFixtures.Weights w) {
        StateDict ref = Safetensors.read(w.c().dir().resolve("model.safetensors"));
        StateDict got = WeightsFiles.read(w.path(), w.key());
        assertEquals(w.file().endsWith(".npz") ? "npz" : "torch.save", got.format());
        assertSameTensors(ref, got, w.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("weights")
    void givesTheSafetensorsOutputsAndPyTorchs(PtFixtures.Weights w) {
        PtFixtures.Case c = w.c();
        LstmModel ref = ModelLoader.fromStateDict(Safetensors.read(c.dir().resolve("model.safetensors")), c.options());
        LstmModel got = ModelLoader.fromStateDict(WeightsFiles.read(w.path(), w.key()), c.options());
        LstmModel.Result r = ref.forward(c.npy("input"), ForwardOptions.defaults().withLayout(c.layout()).withInitial(c.initialState()));
        LstmModel.Result g = got.forward(c.npy("input"), ForwardOptions.defaults().withLayout(c.layout()).withInitial(c.initialState()));
        assertArrayEquals(r.lstm().output().toDoubleArray(), g.lstm().output().toDoubleArray(), w + ": output differs from safetensors");
        assertArrayEquals(r.lstm().hN().toDoubleArray(), g.lstm().hN().toDoubleArray(), w + ": h_n differs from safetensors");
        assertArrayEquals(r.lstm().cN().toDoubleArray(), g.lstm().cN().toDoubleArray(), w + ": c_n differs from safetensors");
        Tolerance tol = c.tolerance();
        check(tol, w + " output", c.npy("output"), g.lstm().output());
        check(tol, w + " h_n", c.npy("h_n"), g.lstm().hN());
        check(tol, w + " c_n", c.npy("c_n"), g.lstm().cN());
        if (c.has("head")) {
            assertNotNull(g.head(), w + ": the case has a head");
            assertArrayEquals(r.head().toDoubleArray(), g.head().toDoubleArray(), w + ": head differs from safetensors");
            check(tol, w + " head", c.npy("head"), g.head());
        } else {
            assertNull(g.head());
        }
    }

    private static void check(Tolerance tol, String label, Tensor expected, Tensor actual) {
        Tolerance.Report r = tol.check(label, expected, actual);
        assertTrue(r.ok(), r::toString);
    }

    /** Without hints, the LSTM and head found in each file are those PyTorch built. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("weights")
    void infersTheArchitecture(PtFixtures.Weights w) {
        Map<?, ?> info = w.c().info();
        LstmModel m = ModelLoader.fromStateDict(WeightsFiles.read(w.path(), w.key()), ModelLoader.Options.DEFAULT);
        assertEquals(info.get("prefix"), m.prefix());
        assertEquals(info.get("head_prefix"), m.headPrefix());
        assertEquals(((Long) info.get("hidden_size")).intValue(), m.lstm().config().hiddenSize());
        assertEquals(((Long) info.get("num_layers")).intValue(), m.lstm().config().numLayers());
        assertEquals(info.get("bidirectional"), m.lstm().config().bidirectional());
        assertEquals(((Long) info.get("proj_size")).intValue(), m.lstm().config().projSize());
    }

    @Test
    void everyFileVariantIsCovered() {
        List<String> files = weights().stream().map(PtFixtures.Weights::toString).toList();
        for (String f : List.of("plain/state_dict.pt", "plain/params.pt", "plain/archive_v2.pt", "plain/big_endian.pt",
                "plain/model.npz", "plain/model_compressed.npz", "plain/two_models.pt --key ema", "plain/checkpoint.pt",
                "plain/checkpoint.pt --key state/model", "views/state_dict.pt", "f16/state_dict.pt", "bf16/state_dict.pt",
                "f64/state_dict.pt", "lstmcell/state_dict.pt", "lstmcell/checkpoint.pt", "bidir_proj/state_dict.pt",
                "bidir_proj/checkpoint.pt")) {
            assertTrue(files.contains(f), "fixture " + f + " is missing" + PtFixtures.REGENERATE);
        }
    }

    @Test
    void checkpointKeepsItsScalarsAsMetadata() {
        StateDict sd = TorchFiles.read(PtFixtures.named("plain").dir().resolve("checkpoint.pt"));
        assertEquals("state/model", sd.metadata().get("key"));
        assertEquals("7", sd.metadata().get("epoch"));
        assertEquals("0.25", sd.metadata().get("loss"));
        assertEquals("3", sd.metadata().get("format_version"));
    }

    @Test
    void severalCandidatesNeedAKey() {
        Path p = PtFixtures.named("plain").dir().resolve("two_models.pt");
        String m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(p)).getMessage();
        assertTrue(m.contains("several") && m.contains("'ema'") && m.contains("'model'") && m.contains("LoadOptions.withCheckpointKey"), m);
        assertEquals("model", WeightsFiles.read(p, "model").metadata().get("key"));
    }

    @Test
    void keyErrorsNameWhatIsThere() {
        Path p = PtFixtures.named("plain").dir().resolve("checkpoint.pt");
        String m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(p, "nope")).getMessage();
        assertTrue(m.contains("no entry 'nope'") && m.contains("'state/model'"), m);
        m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(p, "epoch")).getMessage();
        assertTrue(m.contains("checkpoint key (LoadOptions.withCheckpointKey) 'epoch' holds a int, not a state dict"), m);
        m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(p, "state/nope")).getMessage();
        assertTrue(m.contains("no entry 'nope'"), m);
        Path st = PtFixtures.named("plain").dir().resolve("model.safetensors");
        m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(st, "model")).getMessage();
        assertTrue(m.contains("drop the checkpoint key"), m);
        Path npz = PtFixtures.named("plain").dir().resolve("model.npz");
        m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(npz, "model")).getMessage();
        assertTrue(m.contains("drop the checkpoint key"), m);
    }

    /** The content decides, not the name: a .pt renamed .safetensors still reads as torch.save. */
    @Test
    void detectsByContent(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path plain = PtFixtures.named("plain").dir();
        Path pt = Files.copy(plain.resolve("state_dict.pt"), tmp.resolve("weights.safetensors"));
        Path npz = Files.copy(plain.resolve("model_compressed.npz"), tmp.resolve("weights.pt"));
        Path st = Files.copy(plain.resolve("model.safetensors"), tmp.resolve("weights.npz"));
        assertEquals("torch.save", WeightsFiles.read(pt).format());
        assertEquals("npz", WeightsFiles.read(npz).format());
        assertEquals("safetensors", WeightsFiles.read(st).format());
    }

    /** One tensor per storage type, some non-contiguous, as torch.load reads them. */
    @Test
    void everyStorageType() {
        Path dir = PtFixtures.ROOT.resolve("dtypes");
        Map<?, ?> info = PtFixtures.json(dir.resolve("case.json"));
        PtFixtures.checkVersion(info, "dtypes/case.json");
        StateDict sd = TorchFiles.read(dir.resolve("dtypes.pt"));
        Map<?, ?> expected = (Map<?, ?>) info.get("tensors");
        assertEquals(expected.keySet().stream().map(Object::toString).toList(), List.copyOf(sd.tensors().keySet()));
        for (Map.Entry<?, ?> e : expected.entrySet()) {
            Map<?, ?> x = (Map<?, ?>) e.getValue();
            Tensor t = sd.tensors().get((String) e.getKey());
            assertEquals(x.get("dtype"), t.dtype().torchName(), e.getKey().toString());
            assertArrayEquals(((List<?>) x.get("shape")).stream().mapToInt(v -> ((Long) v).intValue()).toArray(), t.shape());
            double[] values = ((List<?>) x.get("values")).stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
            assertArrayEquals(values, t.toDoubleArray(), e.getKey().toString());
        }
        assertEquals(DType.BOOL, sd.tensors().get("bool").dtype());
    }

    /** Files lstm4j must refuse, each with the fix; no malicious payload runs. */
    @Test
    void refusesWithTheFix() {
        Path dir = PtFixtures.ROOT.resolve("refused");
        Map<?, ?> info = PtFixtures.json(dir.resolve("refused.json"));
        PtFixtures.checkVersion(info, "refused/refused.json");
        Path marker = Paths.get((String) info.get("payload_marker"));
        assertFalse(Files.exists(marker), marker.toAbsolutePath() + " exists before the test; delete it");
        List<?> files = (List<?>) info.get("files");
        assertTrue(files.size() >= 9, "refused fixtures: " + files.size());
        for (Object o : files) {
            Map<?, ?> f = (Map<?, ?>) o;
            String name = (String) f.get("file");
            String m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(dir.resolve(name)), name).getMessage();
            switch ((String) f.get("kind")) {
                case "whole_model" -> assertTrue(m.contains("whole pickled model") && m.contains(".state_dict()")
                        && m.contains("torch.load(\"" + name + "\", weights_only=False)"), m);
                case "torchscript" -> assertTrue(m.contains("TorchScript") && m.contains("torch.jit.load(\"" + name + "\").state_dict()"), m);
                case "legacy" -> assertTrue(m.contains("legacy") && m.contains("holds a state dict")
                        && m.contains("torch.save(torch.load(\"" + name + "\"), "), m);
                case "legacy_model" -> assertTrue(m.contains("legacy") && m.contains("whole pickled model")
                        && m.contains(".state_dict()"), m);
                case "other_global" -> assertTrue(m.contains("numpy") && m.contains("does not load"), m);
                case "malicious" -> assertTrue(m.contains("can run code") && m.contains("refused")
                        && (m.contains("system") || m.contains("eval") || m.contains("subprocess")), m);
                default -> throw new AssertionError("unknown kind " + f.get("kind"));
            }
        }
        assertFalse(Files.exists(marker), "a pickle payload ran: " + marker.toAbsolutePath() + " was created");
    }
}
