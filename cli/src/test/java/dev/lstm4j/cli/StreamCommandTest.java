package dev.lstm4j.cli;

import dev.lstm4j.Lstm4jException;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lstm4j stream} fed from a string; the piped, line-by-line behaviour is in StreamPipeIT. */
class StreamCommandTest {
    @TempDir
    Path tmp;

    private static Cli stream(String stdin, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new StreamCommand(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8))));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, c, p) -> {
            if (ex instanceof Lstm4jException) {
                c.getErr().println("lstm4j: error: " + ex.getMessage());
                return Main.EXIT_ERROR;
            }
            throw ex;
        });
        int code = cl.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** The demo's head output, as PyTorch computed it, for the steps [1,1], [2,2], [3,3]. */
    private static double[] pytorchHead(DemoFiles demo) {
        Tensor y = Npy.read(demo.resolve("head.npy"));
        return new double[] {y.get(0, 0, 0), y.get(0, 1, 0), y.get(0, 2, 0)};
    }

    private static void same(double expected, String text) {
        double got = Double.parseDouble(text);
        assertTrue(Tolerance.F32.accepts(expected, got), "PyTorch " + expected + ", stream " + text);
    }

    @Test
    void oneLinePerStepWithHeaderCommentsAndBlanks() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            Cli r = stream("a,b\n# a comment\n1,1\n\n2,2\n3,3\n", "--weights", demo.resolve("model.safetensors").toString());
            assertEquals(0, r.code(), r.toString());
            List<String> lines = r.out().lines().toList();
            assertEquals(List.of("y0"), lines.subList(0, 1));
            double[] y = pytorchHead(demo);
            for (int t = 0; t < 3; t++) {
                same(y[t], lines.get(1 + t));
            }
            assertEquals(4, lines.size());
        }
    }

    @Test
    void keyedStreamsCarryTheirOwnState() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            Cli r = stream("a,1,1\nb,1,1\na,2,2\nc,1,1\nb,2,2\na,3,3\nb,3,3\n", "--weights", demo.resolve("model.safetensors").toString(), "--keyed");
            assertEquals(0, r.code(), r.toString());
            double[] y = pytorchHead(demo);
            List<String> lines = r.out().lines().toList();
            int[] expectedStep = {0, 0, 1, 0, 1, 2, 2};
            String[] keys = {"a", "b", "a", "c", "b", "a", "b"};
            for (int n = 0; n < lines.size(); n++) {
                String[] cells = lines.get(n).split(",");
                assertEquals(keys[n], cells[0]);
                same(y[expectedStep[n]], cells[1]);
            }
            assertEquals(7, lines.size());
        }
    }

    @Test
    void stateSavedAtTheEndContinuesInTheNextRun() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Path state = tmp.resolve("state.bin");
            Cli first = stream("k,1,1\nk,2,2\n", "--weights", w, "--keyed", "--save-state", state.toString());
            assertEquals(0, first.code(), first.toString());
            assertTrue(Files.size(state) > 0);
            Cli second = stream("k,3,3\n", "--weights", w, "--keyed", "--load-state", state.toString());
            assertEquals(0, second.code(), second.toString());
            same(pytorchHead(demo)[2], second.out().strip().split(",")[1]);
            // without the state, step 3 alone is another number
            Cli fresh = stream("k,3,3\n", "--weights", w, "--keyed");
            assertTrue(!fresh.out().equals(second.out()));
        }
    }

    @Test
    void errorsNameTheLine() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Cli r = stream("1,1\n1,x\n", "--weights", w);
            assertEquals(1, r.code());
            assertEquals("lstm4j: error: stdin line 2, column 2: 'x' is not a number", r.err().strip());
            r = stream("1,1,1\n", "--weights", w);
            assertEquals("lstm4j: error: stdin line 1: expected 2 features (input_size), got 3 columns; lines with a stream key first need --keyed",
                    r.err().strip());
            r = stream("", "--weights", w, "--load-state", tmp.resolve("missing.bin").toString());
            assertEquals("lstm4j: error: --load-state " + tmp.resolve("missing.bin") + ": no such file", r.err().strip());
            Path junk = tmp.resolve("junk.bin");
            Files.write(junk, new byte[] {1, 2, 3});
            r = stream("", "--weights", w, "--load-state", junk.toString());
            assertTrue(r.err().startsWith("lstm4j: error: session state (3 bytes): not a saved lstm4j session"), r.err());
            Path bidir = Path.of("..", "core", "src", "test", "resources", "fixtures", "bidir", "model.safetensors");
            r = stream("", "--weights", bidir.toString());
            assertTrue(r.err().startsWith("lstm4j: error: streaming needs a unidirectional LSTM"), r.err());
        }
    }
}
