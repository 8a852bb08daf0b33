package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Fixture;
import dev.lstm4j.LstmModel;
import dev.lstm4j.ModelException;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Names;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelLoaderTest {
    @TempDir
    Path tmp;

    /** The tensors of a fixture, changed by {@code edit}, written to a new file. */
    private Path edited(String fixture, Consumer<Map<String, Tensor>> edit) {
        Map<String, Tensor> t = new LinkedHashMap<>(Safetensors.read(Fixture.named(fixture).model()).tensors());
        edit.accept(t);
        Path p = tmp.resolve(fixture + "-edited.safetensors");
        Safetensors.write(p, t, Map.of());
        return p;
    }

    private static String fails(Path p) {
        return assertThrows(ModelException.class, () -> ModelLoader.load(p, ModelLoader.Options.DEFAULT)).getMessage();
    }

    @Test
    void missingKey() {
        String m = fails(edited("bidir_layers2_proj", t -> t.remove("lstm.bias_hh_l1_reverse")));
        assertTrue(m.contains("lstm.bias_hh_l1_reverse"), m);
    }

    @Test
    void strayKeyUnderThePrefix() {
        String m = fails(edited("basic_f32", t -> t.put("lstm.weight_ih_l1", t.get("lstm.weight_ih_l0"))));
        assertTrue(m.contains("lstm.weight_ih_l1") || m.contains("missing"), m);
        m = fails(edited("basic_f32", t -> t.put("lstm.running_mean", t.get("lstm.bias_ih_l0"))));
        assertTrue(m.contains("lstm.running_mean: unexpected tensor"), m);
    }

    @Test
    void wrongShapeNamesTheTensorBothShapesAndTheMeaning() {
        String m = fails(edited("basic_f32", t -> t.put("lstm.weight_hh_l0", Tensor.zeros(DType.F32, 28, 6))));
        assertTrue(m.contains("lstm.weight_hh_l0: expected shape (4*hidden=28, hidden=7) = (28, 7), file has (28, 6)"), m);
        assertTrue(m.startsWith(Fixture.named("basic_f32").dir().toString()) || m.contains("edited.safetensors"), m);
    }

    @Test
    void gruShapedWeightsAreNotAnLstm() {
        String m = fails(edited("basic_f32", t -> t.put("lstm.weight_ih_l0", Tensor.zeros(DType.F32, 21, 5))));
        assertTrue(m.contains("GRU"), m);
    }

    /** nn.GRU / nn.RNN state dicts use nn.LSTM's key names; 12 GRU rows for hidden 4 would also pass as an LSTM of hidden 3. */
    @Test
    void gruAndRnnStateDictsAreNamedAsSuch() {
        Map<String, Tensor> gru = new LinkedHashMap<>();
        gru.put("gru.weight_ih_l0", Tensor.zeros(DType.F32, 12, 5));
        gru.put("gru.weight_hh_l0", Tensor.zeros(DType.F32, 12, 4));
        gru.put("gru.bias_ih_l0", Tensor.zeros(DType.F32, 12));
        gru.put("gru.bias_hh_l0", Tensor.zeros(DType.F32, 12));
        String m = assertThrows(ModelException.class, () -> ModelLoader.fromStateDict(dev.lstm4j.StateDict.of(gru), ModelLoader.Options.DEFAULT)).getMessage();
        assertTrue(m.contains("this is an nn.GRU, not an nn.LSTM"), m);

        Map<String, Tensor> rnn = new LinkedHashMap<>();
        rnn.put("rnn.weight_ih_l0", Tensor.zeros(DType.F32, 8, 3));
        rnn.put("rnn.weight_hh_l0", Tensor.zeros(DType.F32, 8, 8));
        m = assertThrows(ModelException.class, () -> ModelLoader.fromStateDict(dev.lstm4j.StateDict.of(rnn), ModelLoader.Options.DEFAULT)).getMessage();
        assertTrue(m.contains("this is an nn.RNN, not an nn.LSTM"), m);

        Map<String, Tensor> cell = new LinkedHashMap<>();
        cell.put("cell.weight_ih", Tensor.zeros(DType.F32, 12, 2));
        cell.put("cell.weight_hh", Tensor.zeros(DType.F32, 12, 4));
        m = assertThrows(ModelException.class, () -> ModelLoader.fromStateDict(dev.lstm4j.StateDict.of(cell), ModelLoader.Options.DEFAULT)).getMessage();
        assertTrue(m.contains("this is an nn.GRUCell, not an nn.LSTMCell"), m);
    }

    @Test
    void ambiguousPrefixAsksForOne() {
        Path p = edited("basic_f32", t -> {
            for (String k : new java.util.ArrayList<>(t.keySet())) {
                if (k.startsWith("lstm.")) {
                    t.put("decoder." + k, t.get(k));
                }
            }
        });
        String m = fails(p);
        assertTrue(m.contains("'decoder.lstm.', 'lstm.'") && m.contains("LoadOptions.withPrefix"), m);
        LstmModel chosen = ModelLoader.load(p, new ModelLoader.Options("decoder.lstm", null, false));
        assertEquals("decoder.lstm.", chosen.prefix());
    }

    @Test
    void noLstmAtAll() {
        String m = fails(edited("basic_f32", t -> t.keySet().removeIf(k -> k.startsWith("lstm."))));
        assertTrue(m.contains("no LSTM weights found") && m.contains("fc.weight"), m);
    }

    @Test
    void mixedFloat64IsRefused() {
        String m = fails(edited("basic_f32", t -> t.put("lstm.bias_ih_l0", t.get("lstm.bias_ih_l0").to(DType.F64))));
        assertTrue(m.contains("float64") && m.contains("one dtype"), m);
    }

    @Test
    void ambiguousHeadAsksForOne() {
        Path p = edited("basic_f32", t -> {
            t.put("out.weight", t.get("fc.weight"));
            t.put("out.bias", t.get("fc.bias"));
        });
        String m = fails(p);
        assertTrue(m.contains("'fc.', 'out.'") && m.contains("LoadOptions.withHead"), m);
        assertEquals("out.", ModelLoader.load(p, new ModelLoader.Options(null, "out", false)).headPrefix());
        assertNull(ModelLoader.load(p, new ModelLoader.Options(null, null, true)).head());
    }

    @Test
    void headMustFitTheOutput() {
        Path p = edited("basic_f32", t -> t.put("fc.weight", Tensor.zeros(DType.F32, t.get("fc.weight").size(0), 6)));
        String m = assertThrows(ModelException.class, () -> ModelLoader.load(p, new ModelLoader.Options(null, "fc.", false))).getMessage();
        assertTrue(m.contains("in_features = D*hidden = 7") && m.contains("file has 6"), m);
    }

    @Test
    void unrelatedTensorsAreReportedAsIgnored() {
        LstmModel m = ModelLoader.load(edited("basic_f32", t -> t.put("embedding.weight", Tensor.zeros(DType.F32, 10, 3))),
                ModelLoader.Options.DEFAULT);
        assertEquals(java.util.List.of("embedding.weight"), m.ignoredKeys());
    }

    @Test
    void cellMissingBias() {
        String m = fails(edited("lstmcell", t -> t.remove("cell.bias_hh")));
        assertTrue(m.contains("cell.bias_hh"), m);
    }

    @Test
    void aFileThatIsNotWeights() throws IOException {
        Path p = tmp.resolve("notes.txt");
        Files.writeString(p, "just some text, not tensors");
        String m = assertThrows(FileFormatException.class, () -> ModelLoader.load(p, ModelLoader.Options.DEFAULT)).getMessage();
        assertTrue(m.contains("notes.txt") && m.contains("not a weights file"), m);
    }

    /** A 1 KB file must not name a layer the loader sizes anything from: refused by name, quickly. */
    @Test
    void hugeLayerIndicesAreRefusedQuickly() {
        for (String key : new String[] {"lstm.weight_ih_l99999999999", "lstm.weight_ih_l1000000", "lstm.weight_ih_l65537",
                "lstm.weight_ih_l3", "lstm.weight_ih_l99999999999999999999999999_reverse"}) {
            Path p = edited("basic_f32", t -> t.put(key, t.get("lstm.weight_ih_l0")));
            String m = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> fails(p), key);
            assertTrue(m.contains("layer index") || m.contains("weight_ih for only 2 layers (no layer 1, 2"), key + ": " + m);
        }
        String m = fails(edited("basic_f32", t -> t.put("lstm.weight_ih_l1000000", t.get("lstm.weight_ih_l0"))));
        assertTrue(m.contains("lstm.weight_ih_l1000000: layer index 1000000 is not a plausible layer number"), m);
    }

    @Test
    void integerWeightsAreRefused() {
        String m = fails(edited("basic_f32", t -> t.put("lstm.weight_hh_l0", as(DType.I64, t.get("lstm.weight_hh_l0")))));
        assertTrue(m.contains("lstm.weight_hh_l0: LSTM weights must be float16, bfloat16, float32 or float64, the file has int64"), m);
        String h = fails(edited("basic_f32", t -> t.put("fc.weight", as(DType.I64, t.get("fc.weight")))));
        assertTrue(h.contains("fc.weight: a Linear head's tensors must be float") && h.contains("int64"), h);
        String b = fails(edited("basic_f32", t -> t.put("fc.bias", as(DType.I32, t.get("fc.bias")))));
        assertTrue(b.contains("fc.bias: a Linear head's tensors must be float") && b.contains("int32"), b);
    }

    private static Tensor as(DType d, Tensor t) {
        return Tensor.of(d, t.shape(), new double[t.elementCount()]);
    }

    @Test
    void theByteLimitIsAnOption() {
        Path p = Fixture.named("basic_f32").model();
        ModelLoader.Options tight = ModelLoader.Options.DEFAULT.withMaxBytes(64);
        assertEquals(64, tight.maxBytes());
        assertEquals(WeightsFiles.defaultMaxBytes(), new ModelLoader.Options(null, null, false).maxBytes());
        assertTrue(WeightsFiles.defaultMaxBytes() <= 4L << 30);
        String m = assertThrows(FileFormatException.class, () -> ModelLoader.load(p, tight)).getMessage();
        assertTrue(m.contains("over the limit of 64 bytes (maxBytes)"), m);
        assertThrows(IllegalArgumentException.class, () -> ModelLoader.Options.DEFAULT.withMaxBytes(0));
    }

    @Test
    void keysAreEscapedInMessages() {
        String m = fails(edited("basic_f32", t -> t.put("lstm.\u001b[31mbad\nkey", t.get("lstm.weight_ih_l0"))));
        assertTrue(m.contains("lstm.\\x1b[31mbad\\nkey: unexpected tensor") && Names.isPrintable(m), m);
    }
}
