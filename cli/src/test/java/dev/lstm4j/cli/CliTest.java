package dev.lstm4j.cli;

import dev.lstm4j.DType;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.internal.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI end to end, on the PyTorch fixtures of the core module. */
class CliTest {
    private static final Path FIXTURES = Paths.get("..", "core", "src", "test", "resources", "fixtures");

    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    private static Path fx(String name, String file) {
        Path p = FIXTURES.resolve(name).resolve(file);
        assertTrue(Files.exists(p), "missing fixture " + p + "; regenerate with tools/pytorch/make_fixtures.py");
        return p;
    }

    /** A failing run: exit 1, nothing on stdout, exactly one error line on stderr containing {@code text}. */
    private static void failsWith(Run r, String text) {
        assertEquals(1, r.exit(), r.toString());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "expected one error line, got:\n" + r.err());
        assertTrue(lines[0].startsWith("lstm4j: error: ") && lines[0].contains(text), lines[0]);
    }

    @Test
    void demoMatchesPyTorch() {
        Run r = cli("demo");
        assertEquals(0, r.exit(), r.err());
        for (String s : new String[] {"forget gate", "input gate (ignore)", "candidate (learn)", "output gate", "cell state", "hidden state",
                "model output", "step t=2", "same as PyTorch"}) {
            assertTrue(r.out().contains(s), "demo output lacks '" + s + "':\n" + r.out());
        }
    }

    @Test
    void runWritesPyTorchShapedResults() {
        Path out = tmp.resolve("out");
        Run r = cli("run", "--weights", fx("seq_first_bidir_proj_state", "model.safetensors").toString(),
                "--input", fx("seq_first_bidir_proj_state", "input.npy").toString(), "--seq-first",
                "--h0", fx("seq_first_bidir_proj_state", "h0.npy").toString(), "--c0", fx("seq_first_bidir_proj_state", "c0.npy").toString(),
                "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        for (String n : new String[] {"output", "h_n", "c_n", "head"}) {
            Tensor expected = Npy.read(fx("seq_first_bidir_proj_state", n + ".npy"));
            Tolerance.Report rep = Tolerance.F32.check(n, expected, Npy.read(out.resolve(n + ".npy")));
            assertTrue(rep.ok(), rep.toString());
        }
    }

    @Test
    void runOnCsvWritesCsvCopies() throws IOException {
        Tensor x = Npy.read(fx("unbatched", "input.npy")); // (T, I)
        StringBuilder csv = new StringBuilder("f0,f1,f2,f3,f4\n");
        for (int t = 0; t < x.size(0); t++) {
            for (int i = 0; i < x.size(1); i++) {
                csv.append(i == 0 ? "" : ",").append((float) x.get(t, i));
            }
            csv.append('\n');
        }
        Path in = tmp.resolve("series.csv");
        Files.writeString(in, csv);
        Path out = tmp.resolve("out");
        Run r = cli("run", "--weights", fx("unbatched", "model.safetensors").toString(), "--input", in.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        Tolerance.Report rep = Tolerance.F32.check("output", Npy.read(fx("unbatched", "output.npy")), Npy.read(out.resolve("output.npy")));
        assertTrue(rep.ok(), rep.toString());
        assertTrue(Files.exists(out.resolve("output.csv")) && Files.exists(out.resolve("h_n.csv")) && Files.exists(out.resolve("c_n.csv")));
        assertEquals(x.size(0), Files.readAllLines(out.resolve("output.csv")).size());
    }

    @Test
    void inspectShowsArchitectureAndTensors() {
        Run r = cli("inspect", "--weights", fx("bidir_layers2_proj", "model.safetensors").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("lstm.weight_hr_l1_reverse  float32   (4, 7)"), r.out());
        assertTrue(r.out().contains("LSTM(input_size=5, hidden_size=7, num_layers=2, bidirectional=true, proj_size=4)"), r.out());
        assertTrue(r.out().contains("valid:    yes"), r.out());
    }

    @Test
    void inspectJsonIsMachineReadable() {
        Run r = cli("inspect", "--weights", fx("lstmcell", "model.safetensors").toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        Map<?, ?> o = (Map<?, ?>) dev.lstm4j.internal.io.Json.parse(r.out());
        Map<?, ?> lstm = (Map<?, ?>) o.get("lstm");
        assertEquals("LSTMCell", lstm.get("kind"));
        assertEquals("cell.", lstm.get("prefix"));
        assertEquals(Boolean.TRUE, o.get("valid"));
        assertEquals(4, ((java.util.List<?>) o.get("tensors")).size());
    }

    @Test
    void inspectSaysWhatIsWrong() {
        Map<String, Tensor> t = new LinkedHashMap<>(Safetensors.read(fx("basic_f32", "model.safetensors")).tensors());
        t.remove("lstm.weight_hh_l0");
        Path p = tmp.resolve("broken.safetensors");
        Safetensors.write(p, t, Map.of());
        Run r = cli("inspect", "--weights", p.toString());
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("valid:    no: ") && r.out().contains("lstm.weight_hh_l0"), r.out());
    }

    @Test
    void wrongFeatureCount() {
        Path x = tmp.resolve("x.npy");
        Npy.write(x, Tensor.zeros(DType.F32, 2, 3, 4));
        failsWith(cli("run", "--weights", fx("basic_f32", "model.safetensors").toString(), "--input", x.toString(), "--out", tmp.toString()),
                "expected 5 features per step (input_size), got 4");
    }

    @Test
    void integerInputIsRefused() {
        Path x = tmp.resolve("x.npy");
        Npy.write(x, Tensor.zeros(DType.F32, 2, 3, 5));
        Path ints = tmp.resolve("ints.npy");
        try {
            byte[] b = Files.readAllBytes(x);
            String h = new String(b, 0, 64, java.nio.charset.StandardCharsets.ISO_8859_1).replace("<f4", "<i4");
            System.arraycopy(h.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, b, 0, 64);
            Files.write(ints, b);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        failsWith(cli("run", "--weights", fx("basic_f32", "model.safetensors").toString(), "--input", ints.toString(), "--out",
                tmp.toString()), "array of int32; expected float32 or float64");
    }

    @Test
    void h0OfWrongShape() {
        Path h = tmp.resolve("h0.npy");
        Npy.write(h, Tensor.zeros(DType.F32, 1, 2, 7));
        failsWith(cli("run", "--weights", fx("basic_f32", "model.safetensors").toString(), "--input", fx("basic_f32", "input.npy").toString(),
                "--h0", h.toString(), "--c0", h.toString(), "--out", tmp.toString()), "h0: expected shape (num_layers*D=1, batch=");
    }

    @Test
    void emptySequence() throws IOException {
        Path x = tmp.resolve("x.npy");
        Npy.write(x, Tensor.zeros(DType.F32, 2, 0, 5));
        failsWith(cli("run", "--weights", fx("basic_f32", "model.safetensors").toString(), "--input", x.toString(), "--out", tmp.toString()),
                "empty");
        Path csv = tmp.resolve("empty.csv");
        Files.writeString(csv, "a,b,c,d,e\n");
        failsWith(cli("run", "--weights", fx("basic_f32", "model.safetensors").toString(), "--input", csv.toString(), "--out", tmp.toString()),
                "no data rows");
    }

    @Test
    void missingAndExtraKeys() {
        Map<String, Tensor> t = new LinkedHashMap<>(Safetensors.read(fx("layers3", "model.safetensors")).tensors());
        t.remove("lstm.bias_ih_l2");
        Path p = tmp.resolve("missing.safetensors");
        Safetensors.write(p, t, Map.of());
        failsWith(cli("run", "--weights", p.toString(), "--input", fx("layers3", "input.npy").toString(), "--out", tmp.toString()),
                "lstm.bias_ih_l2");
        t = new LinkedHashMap<>(Safetensors.read(fx("basic_f32", "model.safetensors")).tensors());
        t.put("lstm.weight_hr_l0", Tensor.zeros(DType.F32, 3, 7));
        t.put("lstm.weight_hr_l3", Tensor.zeros(DType.F32, 3, 7));
        Path q = tmp.resolve("extra.safetensors");
        Safetensors.write(q, t, Map.of());
        failsWith(cli("run", "--weights", q.toString(), "--input", fx("basic_f32", "input.npy").toString(), "--out", tmp.toString()),
                "lstm.weight_hr_l3");
    }

    @Test
    void truncatedGarbageAndForeignFiles() throws IOException {
        byte[] all = Files.readAllBytes(fx("basic_f32", "model.safetensors"));
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        failsWith(cli("inspect", "--weights", cut.toString()), "truncated");
        Path garbage = tmp.resolve("garbage.safetensors");
        byte[] g = all.clone();
        g[new String(all, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf(':')] = '#'; // break the JSON, not a key
        Files.write(garbage, g);
        failsWith(cli("run", "--weights", garbage.toString(), "--input", fx("basic_f32", "input.npy").toString(), "--out", tmp.toString()),
                "not valid JSON");
        Path text = tmp.resolve("model.safetensors");
        Files.writeString(text, "<html>not a model</html>");
        failsWith(cli("run", "--weights", text.toString(), "--input", fx("basic_f32", "input.npy").toString(), "--out", tmp.toString()),
                "not a weights file lstm4j can read");
        failsWith(cli("inspect", "--weights", tmp.resolve("nope.safetensors").toString()), "no such file");
    }

    @Test
    void usageErrorsExit2WithOneLine() {
        Run r = cli("run", "--weights", "x.safetensors");
        assertEquals(2, r.exit());
        assertEquals("lstm4j: error: Missing required options: '--input=X', '--out=DIR' (see lstm4j run --help)", r.err().strip());
        r = cli("strem");
        assertEquals(2, r.exit());
        assertEquals("lstm4j: error: Unmatched argument at index 0: 'strem'; did you mean stream? (see lstm4j --help)", r.err().strip());
    }

    @Test
    void helpEndsWithExamples() {
        Run r = cli("run", "--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().strip().endsWith("--out results/"), r.out());
        assertArrayEquals(new String[0], new String[0]);
    }
}
