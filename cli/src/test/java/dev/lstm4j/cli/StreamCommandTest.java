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
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lstm4j stream} fed from a string; the piped, line-by-line behaviour is in StreamPipeIT. */
class StreamCommandTest {
    @TempDir
    Path tmp;

    private static Cli stream(String stdin, String... args) {
        return stream(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    private static Cli stream(byte[] stdin, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new StreamCommand(new ByteArrayInputStream(stdin)));
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

    /** Keys are text: s\xe9 and s\xe8 (Latin-1 bytes, not UTF-8) are refused line by line, never merged into one key. */
    @Test
    void keysThatAreNotUtf8AreRefusedNotMerged() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            java.io.ByteArrayOutputStream in = new java.io.ByteArrayOutputStream();
            in.writeBytes("k,1,1\n".getBytes(StandardCharsets.UTF_8));
            in.writeBytes(new byte[] {'s', (byte) 0xe9, ',', '1', ',', '1', '\n'});
            in.writeBytes(new byte[] {'s', (byte) 0xe8, ',', '2', ',', '2', '\n'});
            in.writeBytes("k,2,2\n".getBytes(StandardCharsets.UTF_8));
            Cli r = stream(in.toByteArray(), "--weights", demo.resolve("model.safetensors").toString(), "--keyed");
            assertEquals(0, r.code(), r.toString());
            assertEquals(2, r.out().strip().lines().filter(l -> l.startsWith("k,")).count(), r.out());
            assertEquals(2, r.out().strip().lines().count(), r.out());
            assertTrue(r.err().contains("stdin line 2: not valid UTF-8 text; line skipped"), r.err());
            assertTrue(r.err().contains("stdin line 3: not valid UTF-8 text; line skipped"), r.err());
        }
    }

    /** A line without an end is not read into memory past 1 MiB: it is refused as one line and the stream goes on. */
    @Test
    void anOverlongLineIsRefusedAlone() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            java.io.ByteArrayOutputStream in = new java.io.ByteArrayOutputStream();
            in.writeBytes("k,1,1\n".getBytes(StandardCharsets.UTF_8));
            in.writeBytes(("k," + "1".repeat(Utf8Lines.MAX_LINE_BYTES) + ",1\n").getBytes(StandardCharsets.UTF_8));
            in.writeBytes("k,2,2\n".getBytes(StandardCharsets.UTF_8));
            Cli r = stream(in.toByteArray(), "--weights", demo.resolve("model.safetensors").toString(), "--keyed");
            assertEquals(0, r.code(), r.toString());
            assertEquals(2, r.out().strip().lines().count(), r.out());
            assertTrue(r.err().contains("stdin line 2: longer than 1048576 bytes; line skipped"), r.err());
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
            Cli r = stream("1,1\n1,x\n", "--weights", w, "--on-error", "stop");
            assertEquals(1, r.code());
            assertEquals("lstm4j: error: stdin line 2, column 2: 'x' is not a number", r.err().strip());
            r = stream("1,1,1\n", "--weights", w, "--on-error", "stop");
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

    /** A good keyed line: one of five keys, two features. */
    private static String goodLine(SplittableRandom r) {
        return "k" + r.nextInt(5) + "," + (float) r.nextDouble(-2, 2) + "," + (float) r.nextDouble(-2, 2);
    }

    private static final String[] MALFORMED = {"%s,0.5", "%s,1,2,3", "%s,abc,1", "%s,nan,1", "%s,1,inf", "%s,,1", "%s,1.0x,2", "%s,-inf,0", "%s;1;2",
            "%s,1,2,"};

    /** 1,000 lines of which 10 are bad: the 990 good ones are answered, and the saved state is the one of the 990 alone. */
    @Test
    void badLinesAreSkippedAndLeaveTheStateAsIfTheyWereNeverSent() throws Exception {
        long seed = new SplittableRandom().nextLong();
        System.out.println("StreamCommandTest.badLinesAreSkipped seed " + seed);
        SplittableRandom r = new SplittableRandom(seed);
        TreeSet<Integer> badAt = new TreeSet<>();
        while (badAt.size() < 10) {
            badAt.add(1 + r.nextInt(999)); // 0-based line index; not the first line, which could be read as a header
        }
        StringBuilder all = new StringBuilder(), good = new StringBuilder();
        List<String> badKeys = new ArrayList<>();
        int m = 0;
        for (int i = 0; i < 1000; i++) {
            if (badAt.contains(i)) {
                String key = "k" + r.nextInt(5);
                badKeys.add(key);
                all.append(String.format(MALFORMED[m++], key)).append('\n');
            } else {
                String line = goodLine(r);
                all.append(line).append('\n');
                good.append(line).append('\n');
            }
        }
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Path withBad = tmp.resolve("with-bad.bin"), goodOnly = tmp.resolve("good-only.bin");
            Cli a = stream(all.toString(), "--weights", w, "--keyed", "--save-state", withBad.toString());
            Cli b = stream(good.toString(), "--weights", w, "--keyed", "--save-state", goodOnly.toString());
            assertEquals(0, a.code(), "seed " + seed + "\n" + a.err());
            assertEquals(0, b.code(), "seed " + seed + "\n" + b.err());
            assertEquals(990, a.out().lines().count(), "seed " + seed);
            assertEquals(b.out(), a.out(), "seed " + seed + ": the answers to the good lines");
            assertArrayEquals(Files.readAllBytes(goodOnly), Files.readAllBytes(withBad), "seed " + seed + ": saved state");
            List<String> errors = a.err().lines().toList();
            assertEquals(10, errors.size(), "seed " + seed + "\n" + a.err());
            int k = 0;
            for (int at : badAt) {
                String e = errors.get(k);
                String expected = "lstm4j: error: stdin line " + (at + 1) + " (key " + (MALFORMED[k].contains(";") ? String.format(MALFORMED[k], badKeys.get(k))
                        : badKeys.get(k)) + ")";
                assertTrue(e.startsWith(expected) && e.endsWith("; line skipped"), "seed " + seed + ": expected " + expected + "..., got " + e);
                k++;
            }
            assertTrue(b.err().isEmpty(), b.err());
        }
    }

    @Test
    void nonFiniteInputIsRefusedUnlessAllowed() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Cli r = stream("1,1\nnan,2\n2,2\n", "--weights", w);
            assertEquals(0, r.code(), r.toString());
            assertEquals("lstm4j: error: stdin line 2, column 1: nan is refused; pass --allow-nonfinite to feed nan and inf to the model; line skipped",
                    r.err().strip());
            assertEquals(2, r.out().lines().count());
            same(pytorchHead(demo)[1], r.out().lines().toList().get(1)); // [2,2] was the second step: the nan line was not taken
            r = stream("1,1\nnan,2\n", "--weights", w, "--allow-nonfinite");
            assertEquals(0, r.code(), r.toString());
            assertEquals("", r.err());
            assertEquals("nan", r.out().lines().toList().get(1));
        }
    }

    @Test
    void stopOnErrorSavesTheStateFirst() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Path state = tmp.resolve("s.bin");
            Cli r = stream("a,1,1\nb,1,1\na,2,2\na,x,3\na,3,3\n", "--weights", w, "--keyed", "--on-error", "stop", "--save-state", state.toString());
            assertEquals(1, r.code(), r.toString());
            assertEquals("lstm4j: error: stdin line 4 (key a), column 2: 'x' is not a number", r.err().strip());
            dev.lstm4j.LstmSession s = dev.lstm4j.LstmSession.restore(load(w).lstm(), Files.readAllBytes(state));
            assertEquals(2, s.steps("a"));
            assertEquals(1, s.steps("b"));
            try (var files = Files.list(tmp)) {
                assertEquals(List.of(state), files.toList(), "no temporary file is left behind");
            }
        }
    }

    @Test
    void optionsAreChecked() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Cli r = stream("", "--weights", w, "--checkpoint-every", "10");
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().startsWith("--checkpoint-every needs --save-state FILE"), r.err());
            r = stream("1,1\n", "--weights", w, "--save-state", tmp.resolve("no-such-dir").resolve("s.bin").toString());
            assertEquals(1, r.code(), r.toString());
            assertEquals("lstm4j: error: --save-state " + tmp.resolve("no-such-dir").resolve("s.bin") + ": no directory "
                    + tmp.resolve("no-such-dir").toAbsolutePath() + " to save it in", r.err().strip());
            assertEquals("", r.out(), "refused before the first step");
            r = stream("", "--weights", w, "--on-error", "ignore");
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().startsWith("--on-error: 'ignore' is neither skip nor stop"), r.err());
        }
    }

    static dev.lstm4j.LstmModel load(String weights) {
        ModelOptions o = new ModelOptions();
        o.weights = Path.of(weights);
        return o.load();
    }
}
