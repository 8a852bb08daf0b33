package dev.lstm4j;

import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Variable-length batches against PyTorch's packed sequences: fixtures written by
 * {@code tools/pytorch/make_packed_fixtures.py} ({@code pack_padded_sequence(..., enforce_sorted=False)}).
 */
class PackedSequenceTest {
    static Path root() throws URISyntaxException {
        URL url = PackedSequenceTest.class.getResource("/packed-fixtures/manifest.json");
        if (url == null) {
            throw new AssertionError("packed-fixtures/manifest.json is missing from the test resources;"
                    + " run /usr/bin/python3 tools/pytorch/make_packed_fixtures.py");
        }
        return Path.of(url.toURI()).getParent();
    }

    static List<String> cases() throws Exception {
        Map<?, ?> manifest = (Map<?, ?>) Json.parse(Files.readString(root().resolve("manifest.json")));
        assertEquals(1.0, ((Number) manifest.get("format_version")).doubleValue(),
                "packed-fixtures format_version; regenerate with tools/pytorch/make_packed_fixtures.py");
        List<String> names = ((List<?>) manifest.get("cases")).stream().map(String::valueOf).toList();
        assertTrue(names.size() >= 7, "expected at least 7 packed cases, manifest lists " + names);
        return names;
    }

    /** A fixture case loaded: the model, its inputs and PyTorch's results. */
    record Case(String name, LstmModel model, Tensor input, Layout layout, int[] lengths, LstmState initial, Tensor output,
                Tensor hN, Tensor cN, Tensor head) {
        static Case load(String name) throws Exception {
            Path dir = root().resolve(name);
            Map<?, ?> info = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("case.json")));
            Tensor len = Npy.read(dir.resolve("lengths.npy"));
            assertEquals(DType.I64, len.dtype(), name + ": lengths.npy dtype");
            int[] lengths = new int[len.elementCount()];
            for (int b = 0; b < lengths.length; b++) {
                lengths[b] = (int) len.at(b);
            }
            LstmState initial = Files.exists(dir.resolve("h0.npy"))
                    ? new LstmState(Npy.read(dir.resolve("h0.npy")), Npy.read(dir.resolve("c0.npy"))) : null;
            assertEquals(Boolean.TRUE.equals(info.get("initial_state")), initial != null, name + ": h0/c0 files vs case.json");
            // exact comparisons between runs use the reference path: the fast path's sums depend on how a batch is
            // tiled, so a row run alone may differ from the same row in a batch by an ulp there
            return new Case(name, ModelLoader.load(dir.resolve("model.safetensors"), ModelLoader.Options.DEFAULT)
                    .withEngine(EngineChoice.REFERENCE), Npy.read(dir.resolve("input.npy")),
                    "seq_first".equals(info.get("layout")) ? Layout.SEQ_FIRST : Layout.BATCH_FIRST, lengths, initial,
                    Npy.read(dir.resolve("output.npy")), Npy.read(dir.resolve("h_n.npy")), Npy.read(dir.resolve("c_n.npy")),
                    Files.exists(dir.resolve("head.npy")) ? Npy.read(dir.resolve("head.npy")) : null);
        }
    }

    static void check(Tolerance tol, String label, Tensor expected, Tensor actual) {
        Tolerance.Report r = tol.check(label, expected, actual);
        assertTrue(r.ok(), r.toString());
    }

    static Stream<Arguments> casesOnBothPaths() throws Exception {
        return cases().stream().flatMap(n -> Stream.of(Arguments.of(n, EngineChoice.REFERENCE), Arguments.of(n, EngineChoice.FAST)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesOnBothPaths")
    void matchesPytorchPackedSequence(String name, EngineChoice engine) throws Exception {
        Case c = Case.load(name);
        LstmModel model = c.model().withEngine(engine);
        if (engine == EngineChoice.FAST && model.lstm().precision() == dev.lstm4j.Precision.F32) {
            assertTrue(model.lstm().usesFastPath(), name + ": expected the fast path");
        }
        LstmModel.Result r = model.forward(c.input(), ForwardOptions.defaults().withLayout(c.layout()).withInitial(c.initial()).withLengths(c.lengths()));
        Tolerance tol = Tolerance.of(c.model().lstm().precision());
        check(tol, name + " output", c.output(), r.lstm().output());
        check(tol, name + " h_n", c.hN(), r.lstm().hN());
        check(tol, name + " c_n", c.cN(), r.lstm().cN());
        if (c.head() != null) {
            check(tol, name + " head", c.head(), r.head());
        }
        // padded steps are exactly 0, not merely close
        Tensor out = c.layout() == Layout.SEQ_FIRST ? r.lstm().output().swapFirstTwo() : r.lstm().output();
        for (int b = 0; b < c.lengths().length; b++) {
            for (int t = c.lengths()[b]; t < out.size(1); t++) {
                for (int k = 0; k < out.size(2); k++) {
                    assertEquals(0.0, out.get(b, t, k), name + ": padded output at batch " + b + ", step " + t);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachRowEqualsItsSequenceRunAlone(String name) throws Exception {
        // the same semantics checked without PyTorch: row b of a packed batch is row b cut to its length
        Case c = Case.load(name);
        Lstm lstm = c.model().lstm();
        Tensor x = c.layout() == Layout.SEQ_FIRST ? c.input().swapFirstTwo() : c.input();
        LstmOutput packed = lstm.forward(c.input(), ForwardOptions.defaults().withLayout(c.layout()).withInitial(c.initial()).withLengths(c.lengths()));
        Tensor out = c.layout() == Layout.SEQ_FIRST ? packed.output().swapFirstTwo() : packed.output();
        int ld = lstm.config().numLayers() * lstm.config().directions();
        for (int b = 0; b < c.lengths().length; b++) {
            int n = c.lengths()[b];
            Tensor xb = rows(x, b, n);
            LstmState sb = c.initial() == null ? null : new LstmState(batchRow(c.initial().h(), b), batchRow(c.initial().c(), b));
            LstmOutput alone = lstm.forward(xb, ForwardOptions.defaults().withInitial(sb));
            for (int t = 0; t < n; t++) {
                for (int k = 0; k < out.size(2); k++) {
                    assertEquals(alone.output().get(t, k), out.get(b, t, k), name + ": output b=" + b + " t=" + t + " k=" + k);
                }
            }
            for (int l = 0; l < ld; l++) {
                for (int k = 0; k < packed.hN().size(2); k++) {
                    assertEquals(alone.hN().get(l, k), packed.hN().get(l, b, k), name + ": h_n b=" + b);
                }
                for (int k = 0; k < packed.cN().size(2); k++) {
                    assertEquals(alone.cN().get(l, k), packed.cN().get(l, b, k), name + ": c_n b=" + b);
                }
            }
        }
    }

    /** Steps 0..n-1 of batch row b of a (B, T, I) tensor, as an unbatched (n, I) sequence. */
    private static Tensor rows(Tensor x, int b, int n) {
        int in = x.size(2);
        double[] v = new double[n * in];
        for (int t = 0; t < n; t++) {
            for (int k = 0; k < in; k++) {
                v[t * in + k] = x.get(b, t, k);
            }
        }
        return Tensor.of(x.dtype(), new int[] {n, in}, v);
    }

    /** Batch row b of an (L*D, B, S) state, as (L*D, S). */
    private static Tensor batchRow(Tensor s, int b) {
        int ld = s.size(0), size = s.size(2);
        double[] v = new double[ld * size];
        for (int l = 0; l < ld; l++) {
            for (int k = 0; k < size; k++) {
                v[l * size + k] = s.get(l, b, k);
            }
        }
        return Tensor.of(s.dtype(), new int[] {ld, size}, v);
    }

    @Test
    void fullLengthsEqualNoLengths() throws Exception {
        long seed = new SplittableRandom().nextLong();
        try {
            Case c = Case.load("packed_layers2_bidir_proj_state");
            SplittableRandom rnd = new SplittableRandom(seed);
            Tensor x = c.input();
            double[] v = x.toDoubleArray();
            for (int k = 0; k < v.length; k++) {
                v[k] = rnd.nextDouble(-2, 2);
            }
            Tensor random = Tensor.of(x.dtype(), x.shape(), v);
            int[] full = new int[x.size(0)];
            java.util.Arrays.fill(full, x.size(1));
            Lstm lstm = c.model().lstm();
            LstmOutput a = lstm.forward(random, ForwardOptions.defaults().withInitial(c.initial()));
            LstmOutput b = lstm.forward(random, ForwardOptions.defaults().withInitial(c.initial()).withLengths(full));
            assertTrue(java.util.Arrays.equals(a.output().toDoubleArray(), b.output().toDoubleArray()), "output");
            assertTrue(java.util.Arrays.equals(a.hN().toDoubleArray(), b.hN().toDoubleArray()), "h_n");
            assertTrue(java.util.Arrays.equals(a.cN().toDoubleArray(), b.cN().toDoubleArray()), "c_n");
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    @Test
    void unbatchedInputTakesOneLength() throws Exception {
        Case c = Case.load("packed_basic");
        Lstm lstm = c.model().lstm();
        Tensor x = rows(c.input(), 2, c.input().size(1));
        LstmOutput cut = lstm.forward(x, ForwardOptions.defaults().withLengths(new int[] {4}));
        LstmOutput alone = lstm.forward(rows(c.input(), 2, 4));
        assertEquals(List.of(6, 7), List.of(cut.output().size(0), cut.output().size(1)));
        assertTrue(java.util.Arrays.equals(alone.hN().toDoubleArray(), cut.hN().toDoubleArray()), "h_n");
        assertEquals(0.0, cut.output().get(5, 0));
    }

    @Test
    void badLengthsAreRefusedWithClearMessages() throws Exception {
        Case c = Case.load("packed_basic");
        Lstm lstm = c.model().lstm();
        InputException count = assertThrows(InputException.class,
                () -> lstm.forward(c.input(), ForwardOptions.defaults().withLengths(new int[] {6, 2, 4})));
        assertEquals("lengths: expected one length per sequence, 4 for batch B = 4, got 3", count.getMessage());
        InputException zero = assertThrows(InputException.class,
                () -> lstm.forward(c.input(), ForwardOptions.defaults().withLengths(new int[] {6, 0, 4, 1})));
        assertEquals("lengths[1] = 0: each length must be in 1..6 (T, the input's time steps); drop empty sequences from the batch",
                zero.getMessage());
        InputException tooLong = assertThrows(InputException.class,
                () -> lstm.forward(c.input(), ForwardOptions.defaults().withLengths(new int[] {6, 2, 7, 1})));
        assertEquals("lengths[2] = 7: each length must be in 1..6 (T, the input's time steps); pad the input to the longest sequence",
                tooLong.getMessage());
        assertThrows(InputException.class, () -> lstm.forward(c.input(), ForwardOptions.defaults().withLengths(new int[] {6, 2, -1, 1})));
    }
}
