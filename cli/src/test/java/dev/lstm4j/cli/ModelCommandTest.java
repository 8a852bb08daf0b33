package dev.lstm4j.cli;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.ModelSpec;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole models on the command line: --model, convert storing the spec, inspect showing it, run refusing unused tensors. */
class ModelCommandTest {
    static final Path FIX = Paths.get("..", "core", "src", "test", "resources", "model-fixtures");

    @TempDir
    Path tmp;

    private static void matches(Path expected, Path actual) {
        Tolerance.Report r = Tolerance.F32.check(actual.toString(), Lstm4j.readNpy(expected), Lstm4j.readNpy(actual));
        assertTrue(r.ok(), r.toString());
    }

    @Test
    void convertStoresTheSpecAndRunNeedsNoFlags() {
        Path d = FIX.resolve("stacked_head_f32");
        Path st = tmp.resolve("stacked.safetensors");
        Cli c = Cli.run("convert", "--weights", d.resolve("model.pt").toString(), "--model", "lstm > last > fc1 > relu > drop > fc2",
                "--out", st.toString());
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().contains("model 'lstm > last > fc1 > relu > dropout > fc2' stored"), c.toString());
        assertEquals("lstm > last > fc1 > relu > dropout > fc2", Safetensors.read(st).metadata().get(ModelSpec.METADATA_KEY));

        c = Cli.run("inspect", "--weights", st.toString());
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().contains("spec:     lstm > last > fc1 > relu > dropout > fc2  (stored in the file, lstm4j.model)"), c.out());
        assertTrue(c.out().contains("fc2: Linear(in_features=6, out_features=2, bias=True)"), c.out());

        Path out = tmp.resolve("out");
        c = Cli.run("run", "--weights", st.toString(), "--input", d.resolve("input.npy").toString(), "--out", out.toString());
        assertEquals(0, c.code(), c.toString());
        assertFalse(c.err().contains("note"), c.err());
        matches(d.resolve("y.npy"), out.resolve("y.npy"));
        matches(d.resolve("h_n.npy"), out.resolve("h_n.npy"));
    }

    @Test
    void runRefusesWeightsItWouldSkip() {
        Path d = FIX.resolve("layernorm_gelu_f32");
        Path out = tmp.resolve("out");
        Cli c = Cli.run("run", "--weights", d.resolve("model.pt").toString(), "--head", "fc1", "--input", d.resolve("input.npy").toString(),
                "--out", out.toString());
        assertEquals(1, c.code(), c.toString());
        assertTrue(c.err().contains("ln.weight, ln.bias, fc2.weight, fc2.bias") && c.err().contains("--model \"lstm > last > ln > fc1 > fc2\""),
                c.err());
        assertFalse(Files.exists(out.resolve("y.npy")), "nothing written");

        // --allow-unused runs, and says loudly what it left out
        c = Cli.run("run", "--weights", d.resolve("model.pt").toString(), "--head", "fc1", "--allow-unused", "--input",
                d.resolve("input.npy").toString(), "--out", out.toString(), "--force");
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.err().contains("warning: --allow-unused") && c.err().contains("ln.weight"), c.err());

        // the whole model, declared, matches PyTorch
        c = Cli.run("run", "--weights", d.resolve("model.pt").toString(), "--model", "lstm > last > ln > fc1 > gelu > fc2 > sigmoid",
                "--input", d.resolve("input.npy").toString(), "--out", out.toString(), "--force");
        assertEquals(0, c.code(), c.toString());
        matches(d.resolve("y.npy"), out.resolve("y.npy"));
    }

    @Test
    void tokenIdsWithLengths() {
        Path d = FIX.resolve("emb_bi_mean_packed_f32");
        Path out = tmp.resolve("out");
        Cli c = Cli.run("run", "--weights", d.resolve("model.safetensors").toString(), "--model", "emb > lstm > mean > fc",
                "--input", d.resolve("input.npy").toString(), "--lengths", d.resolve("lengths.npy").toString(), "--out", out.toString());
        assertEquals(0, c.code(), c.toString());
        matches(d.resolve("y.npy"), out.resolve("y.npy"));
        matches(d.resolve("output.npy"), out.resolve("output.npy"));

        // float input to an embedding is refused with the fix
        c = Cli.run("run", "--weights", d.resolve("model.safetensors").toString(), "--model", "emb > lstm > mean > fc",
                "--input", FIX.resolve("forecaster_f32").resolve("input.npy").toString(), "--out", out.toString(), "--force");
        assertEquals(1, c.code(), c.toString());
        assertTrue(c.err().contains("integer token ids"), c.err());
    }

    @Test
    void anInferredHeadOnEveryStepIsSaidOnStderr() throws IOException {
        Path d = FIX.resolve("forecaster_f32");
        Path out = tmp.resolve("out");
        Cli c = Cli.run("run", "--weights", d.resolve("model.safetensors").toString(), "--input", d.resolve("input.npy").toString(),
                "--out", out.toString());
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.err().contains("note: no --model given") && c.err().contains("--model \"lstm > last > fc\""), c.err());
    }

    @Test
    void traceShowsTheHeadOfAnEmbeddingModel() {
        Path d = FIX.resolve("emb_tagger_f32");
        Cli c = Cli.run("trace", "--weights", d.resolve("model.pt").toString(), "--model", "emb > lstm > all > fc > logsoftmax",
                "--input", d.resolve("input.npy").toString(), "--step", "0");
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().contains("LogSoftmax(dim=-1)") && c.out().contains("model 'emb > lstm > all > fc > logsoftmax'"), c.out());
    }

    @Test
    void streamRefusesAWholeModel() {
        Path d = FIX.resolve("bi_classifier_f32");
        Cli c = Cli.run("stream", "--weights", d.resolve("model.pt").toString(), "--model", "lstm > hn > fc > softmax");
        assertEquals(1, c.code(), c.toString());
        assertTrue(c.err().contains("lstm4j run"), c.err());
    }
}
