package dev.lstm4j.trace;

import dev.lstm4j.DType;
import dev.lstm4j.EngineChoice;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmState;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** A PyTorch fixture case (from {@code fixtures/} or {@code packed-fixtures/}), loaded for the trace and stream tests. */
record FixtureCase(String name, LstmModel model, Tensor input, Layout layout, int[] lengths, LstmState initial, Tensor output,
                   Tensor hN, Tensor cN, Tensor head) {

    /** {@code set} is {@code fixtures} or {@code packed-fixtures}. */
    static FixtureCase load(String set, String name) throws Exception {
        URL url = FixtureCase.class.getResource("/" + set + "/" + name + "/case.json");
        if (url == null) {
            throw new AssertionError(set + "/" + name + " is missing from the test resources; regenerate with tools/pytorch/");
        }
        Path dir = Path.of(url.toURI()).getParent();
        Map<?, ?> info = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("case.json")));
        int[] lengths = null;
        if (Files.exists(dir.resolve("lengths.npy"))) {
            Tensor len = Npy.read(dir.resolve("lengths.npy"));
            if (len.dtype() != DType.I64) {
                throw new AssertionError(name + ": lengths.npy should be int64, is " + len.dtype());
            }
            lengths = new int[len.elementCount()];
            for (int b = 0; b < lengths.length; b++) {
                lengths[b] = (int) len.at(b);
            }
        }
        LstmState initial = Files.exists(dir.resolve("h0.npy"))
                ? new LstmState(Npy.read(dir.resolve("h0.npy")), Npy.read(dir.resolve("c0.npy"))) : null;
        // the trace runs on the reference path, so runs are compared on it
        return new FixtureCase(name, ModelLoader.load(dir.resolve("model.safetensors"), ModelLoader.Options.DEFAULT)
                        .withEngine(EngineChoice.REFERENCE),
                Npy.read(dir.resolve("input.npy")), "seq_first".equals(info.get("layout")) ? Layout.SEQ_FIRST : Layout.BATCH_FIRST,
                lengths, initial, Npy.read(dir.resolve("output.npy")), Npy.read(dir.resolve("h_n.npy")), Npy.read(dir.resolve("c_n.npy")),
                Files.exists(dir.resolve("head.npy")) ? Npy.read(dir.resolve("head.npy")) : null);
    }
}
