package dev.lstm4j;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The silent cases of issue 11: weights that a plain LSTM-plus-head reading would skip are refused, with a message
 * that names them and a spec that uses them; and that spec, taken from the message, runs and matches PyTorch.
 */
class UnusedTensorsTest {
    static Path dir(String name) {
        return ModelPipelineParityTest.ROOT.resolve(name);
    }

    static String refused(Path file, LoadOptions o) {
        return assertThrows(ModelException.class, () -> Lstm4j.load(file, o)).getMessage();
    }

    /** The spec in the message, between --model " and the next quote. */
    static String suggested(String message) {
        int a = message.indexOf("--model \"");
        assertTrue(a >= 0, "no spec in: " + message);
        return message.substring(a + 9, message.indexOf('"', a + 9));
    }

    @Test
    void anEmbeddingBeforeTheLstmIsNotSkipped() {
        String m = refused(dir("emb_tagger_f32").resolve("model.safetensors"), LoadOptions.defaults());
        assertTrue(m.contains("emb.weight") && m.contains("unused"), m);
        String s = suggested(m);
        assertEquals("emb > lstm > all > fc", s);
        // the suggestion loads; with the LogSoftmax the tagger applies it matches PyTorch
        LstmModel model = Lstm4j.load(dir("emb_tagger_f32").resolve("model.safetensors"),
                LoadOptions.defaults().withSpec(s + " > logsoftmax"));
        Check.close("tagger", Lstm4j.readNpy(dir("emb_tagger_f32").resolve("y.npy")),
                model.forward(Lstm4j.readNpy(dir("emb_tagger_f32").resolve("input.npy"))).y(), Tolerance.F32);
    }

    @Test
    void aLayerNormIsNotSkipped() {
        String m = refused(dir("layernorm_gelu_f32").resolve("model.pt"), LoadOptions.defaults().withHead("fc1"));
        assertTrue(m.contains("ln.weight, ln.bias") && m.contains("fc2.weight, fc2.bias"), m);
        assertEquals("lstm > last > ln > fc1 > fc2", suggested(m));
    }

    @Test
    void theSecondLinearOfAHeadIsNotSkipped() {
        Path f = dir("stacked_head_f32").resolve("model.safetensors");
        // fc1 (6 -> 6) and fc2 (6 -> 2) both fit the LSTM's output: ambiguous, and the message shows the whole model
        String m = refused(f, LoadOptions.defaults());
        assertTrue(m.contains("'fc1.', 'fc2.'") && m.contains("--model \"lstm > last > fc1 > fc2\""), m);
        // --head fc2. would compute fc2 without fc1: refused, naming fc1
        m = refused(f, LoadOptions.defaults().withHead("fc2."));
        assertTrue(m.contains("fc1.weight, fc1.bias") && m.contains("lstm > all > fc2"), m);
        assertEquals("lstm > last > fc1 > fc2", suggested(m));
        // a spec that leaves out a layer is refused the same way
        m = refused(f, LoadOptions.defaults().withSpec("lstm > last > fc1 > relu"));
        assertTrue(m.contains("fc2.weight, fc2.bias"), m);
    }

    @Test
    void aBatchNormInASequentialIsNotSkipped() {
        String m = refused(dir("batchnorm_head_f32").resolve("model.pt"), LoadOptions.defaults());
        assertTrue(m.contains("head.1.running_mean") && m.contains("head.1.num_batches_tracked"), m);
        assertEquals("lstm > last > head.0 > head.1 > head.3", suggested(m));
    }

    @Test
    void allowingUnusedIsExplicitAndListsThem() {
        Path f = dir("stacked_head_f32").resolve("model.safetensors");
        LstmModel m = Lstm4j.load(f, LoadOptions.defaults().withHead("fc1").allowingUnused());
        assertEquals(java.util.List.of("fc2.weight", "fc2.bias"), m.ignoredKeys());
    }

    @Test
    void theWrongReadoutIsCaughtByTheTolerance() {
        // the bidirectional classifier reads cat(h_n[-2], h_n[-1]); out[:, -1] holds the reverse direction's first step
        Path d = dir("bi_classifier_f32");
        LstmModel wrong = Lstm4j.load(d.resolve("model.pt"), LoadOptions.defaults().withSpec("lstm > last > fc > softmax"));
        Tolerance.Report r = Tolerance.F32.check("y", Lstm4j.readNpy(d.resolve("y.npy")), wrong.forward(Lstm4j.readNpy(d.resolve("input.npy"))).y());
        assertFalse(r.ok(), r.toString());
        assertTrue(r.maxAbsDiff() > 1e-3, r.toString());
    }

    @Test
    void outOfRangeIdsNameTheirPosition() {
        Path d = dir("emb_tagger_f32");
        LstmModel m = Lstm4j.load(d.resolve("model.pt"), LoadOptions.defaults().withSpec("emb > lstm > all > fc > logsoftmax"));
        Tensor ids = Tensor.of(DType.I64, new int[] {2, 3}, new double[] {1, 2, 3, 4, 20, 5});
        String msg = assertThrows(InputException.class, () -> m.forward(ids)).getMessage();
        assertTrue(msg.contains("id 20 at position [1, 1]") && msg.contains("0..19"), msg);
        Tensor neg = Tensor.of(DType.I64, new int[] {3}, new double[] {1, -1, 3});
        msg = assertThrows(InputException.class, () -> m.forward(neg)).getMessage();
        assertTrue(msg.contains("id -1 at position [1]"), msg);
        Tensor floats = Tensor.of(DType.F32, new int[] {1, 2}, new double[] {1, 2});
        msg = assertThrows(InputException.class, () -> m.forward(floats)).getMessage();
        assertTrue(msg.contains("integer token ids"), msg);
    }

    @Test
    void theSpecInTheMetadataIsUsedAndAnOptionReplacesIt() {
        Path d = dir("proj_hn_f64");
        StateDict sd = Lstm4j.readWeights(d.resolve("model.pt"));
        StateDict withSpec = new StateDict(null, "memory", sd.tensors(), Map.of(ModelSpec.METADATA_KEY, "lstm > hn > fc"));
        assertEquals("lstm > hn > fc", Lstm4j.load(withSpec, LoadOptions.defaults()).spec().toString());
        assertEquals(Readout.LAST, Lstm4j.load(withSpec, LoadOptions.defaults().withSpec("lstm > last > fc")).readout());
        StateDict bad = new StateDict(null, "memory", sd.tensors(), Map.of(ModelSpec.METADATA_KEY, "lstm > fc"));
        String m = assertThrows(ModelException.class, () -> Lstm4j.load(bad, LoadOptions.defaults())).getMessage();
        assertTrue(m.contains("metadata") && m.contains("--model"), m);
        String both = assertThrows(ModelException.class, () -> Lstm4j.load(sd, LoadOptions.defaults().withSpec("lstm > hn > fc")
                .withPrefix("lstm"))).getMessage();
        assertTrue(both.contains("not both"), both);
    }

    @Test
    void aBareLstmIsNamedLstm() {
        // an nn.LSTM saved on its own: keys without a prefix
        StateDict sd = Lstm4j.readWeights(dir("forecaster_f32").resolve("model.pt"));
        Map<String, Tensor> bare = new LinkedHashMap<>();
        sd.tensors().forEach((k, v) -> bare.put(k.startsWith("lstm.") ? k.substring(5) : k, v));
        LstmModel m = Lstm4j.load(StateDict.of(bare), LoadOptions.defaults().withSpec("lstm > last > fc"));
        assertEquals("", m.prefix());
        assertEquals("lstm > last > fc", m.spec().toString());
    }
}
