package dev.lstm4j.cli;

import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Safetensors;
import dev.lstm4j.StateDict;
import dev.lstm4j.internal.io.WeightsFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lstm4j convert}, and {@code run}/{@code inspect} on .pt and .npz files. */
class ConvertCommandTest {
    static final Path PT = Paths.get("..", "core", "src", "test", "resources", "pt-fixtures");

    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {
    }

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    private static void assertSame(StateDict expected, StateDict actual) {
        assertEquals(List.copyOf(expected.tensors().keySet()), List.copyOf(actual.tensors().keySet()));
        for (Map.Entry<String, Tensor> e : expected.tensors().entrySet()) {
            Tensor a = actual.tensors().get(e.getKey());
            assertEquals(e.getValue().dtype(), a.dtype(), e.getKey());
            assertArrayEquals(e.getValue().shape(), a.shape(), e.getKey());
            assertTrue(Arrays.equals(e.getValue().toDoubleArray(), a.toDoubleArray()), e.getKey());
        }
    }

    @Test
    void convertsEveryFormatToTheSameTensors() {
        String[][] inputs = {{"plain/state_dict.pt", null}, {"plain/checkpoint.pt", null}, {"plain/two_models.pt", "ema"},
                {"plain/model_compressed.npz", null}, {"views/state_dict.pt", null}, {"bf16/state_dict.pt", null},
                {"f64/state_dict.pt", null}, {"dtypes/dtypes.pt", null}};
        for (String[] in : inputs) {
            Path src = PT.resolve(in[0]);
            Path out = tmp.resolve(in[0].replace('/', '_') + ".safetensors");
            Run r = in[1] == null ? cli("convert", "--weights", src.toString(), "--out", out.toString())
                    : cli("convert", "--weights", src.toString(), "--key", in[1], "--out", out.toString());
            assertEquals(0, r.exit(), in[0] + ": " + r.err());
            assertTrue(r.out().contains("read back identical"), r.out());
            StateDict written = Safetensors.read(out);
            assertSame(WeightsFiles.read(src, in[1]), written);
            assertEquals("pt", written.metadata().get("format"));
        }
        // the reference copy PyTorch wrote and the converted file hold the same tensors
        Path conv = tmp.resolve("plain_checkpoint.pt.safetensors");
        assertSame(Safetensors.read(PT.resolve("plain/model.safetensors")), Safetensors.read(conv));
        assertEquals("state/model", Safetensors.read(conv).metadata().get("source_key"));
    }

    @Test
    void refusesWithOneLine() {
        Run r = cli("convert", "--weights", PT.resolve("refused/malicious_os_system.pt").toString(), "--out", tmp.resolve("x.safetensors").toString());
        assertEquals(Main.EXIT_ERROR, r.exit());
        assertTrue(r.err().startsWith("lstm4j: error: ") && r.err().contains("can run code") && r.err().strip().lines().count() == 1, r.err());
        r = cli("convert", "--weights", PT.resolve("plain/two_models.pt").toString(), "--out", tmp.resolve("y.safetensors").toString());
        assertEquals(Main.EXIT_ERROR, r.exit());
        assertTrue(r.err().contains("--key"), r.err());
        assertTrue(Files.notExists(tmp.resolve("y.safetensors")));
    }

    @Test
    void refusesToOverwriteItsInput() throws IOException {
        Path copy = Files.copy(PT.resolve("plain/state_dict.pt"), tmp.resolve("m.pt"));
        Run r = cli("convert", "--weights", copy.toString(), "--out", copy.toString());
        assertEquals(Main.EXIT_ERROR, r.exit());
        assertTrue(r.err().contains("is the input file"), r.err());
    }

    /** run on the .pt, the .npz and the safetensors copy writes identical results. */
    @Test
    void runReadsEveryFormat() throws IOException {
        Path input = PT.resolve("plain/input.npy");
        String[] weights = {"plain/model.safetensors", "plain/state_dict.pt", "plain/model.npz", "plain/checkpoint.pt"};
        byte[] first = null;
        for (String w : weights) {
            Path out = tmp.resolve(w.replace('/', '_'));
            Run r = cli("run", "--weights", PT.resolve(w).toString(), "--input", input.toString(), "--out", out.toString());
            assertEquals(0, r.exit(), w + ": " + r.err());
            byte[] head = Files.readAllBytes(out.resolve("head.npy"));
            if (first == null) {
                first = head;
            } else {
                assertArrayEquals(first, head, w);
            }
        }
        Run r = cli("inspect", "--weights", PT.resolve("plain/two_models.pt").toString(), "--key", "ema");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("metadata: key = ema") && r.out().contains("valid:    yes"), r.out());
    }
}
