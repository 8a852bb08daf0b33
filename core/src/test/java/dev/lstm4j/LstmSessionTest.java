package dev.lstm4j;

import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LstmSessionTest {
    /** A fixture's model and its input as batch-first (B, T, I), with h0/c0 when it has them. */
    private record Fixture(Lstm lstm, Tensor x, LstmState initial, Tensor expected) {
        /** On the reference path, where runs in any chunking agree bit for bit. */
        static Fixture load(String name) throws Exception {
            return load(name, EngineChoice.REFERENCE);
        }

        static Fixture load(String name, EngineChoice engine) throws Exception {
            URL url = LstmSessionTest.class.getResource("/fixtures/" + name + "/case.json");
            if (url == null) {
                throw new AssertionError("fixtures/" + name + " missing; run /usr/bin/python3 tools/pytorch/make_fixtures.py");
            }
            Path dir = Path.of(url.toURI()).getParent();
            Map<?, ?> info = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("case.json")));
            assertEquals("batch_first", info.get("layout"), name + " should be batch-first");
            Lstm lstm = ModelLoader.load(dir.resolve("model.safetensors"), ModelLoader.Options.DEFAULT).lstm().withEngine(engine);
            LstmState initial = Files.exists(dir.resolve("h0.npy")) ? new LstmState(Npy.read(dir.resolve("h0.npy")), Npy.read(dir.resolve("c0.npy"))) : null;
            return new Fixture(lstm, Npy.read(dir.resolve("input.npy")), initial, Npy.read(dir.resolve("output.npy")));
        }

        Tensor row(int b, int from, int to) {
            int in = x.size(2);
            double[] v = new double[(to - from) * in];
            for (int t = from; t < to; t++) {
                for (int k = 0; k < in; k++) {
                    v[(t - from) * in + k] = x.get(b, t, k);
                }
            }
            return Tensor.of(x.dtype(), new int[] {to - from, in}, v);
        }

        LstmState state(int b) {
            if (initial == null) {
                return null;
            }
            return new LstmState(slice(initial.h(), b), slice(initial.c(), b));
        }

        private static Tensor slice(Tensor s, int b) {
            double[] v = new double[s.size(0) * s.size(2)];
            for (int l = 0; l < s.size(0); l++) {
                for (int k = 0; k < s.size(2); k++) {
                    v[l * s.size(2) + k] = s.get(l, b, k);
                }
            }
            return Tensor.of(s.dtype(), new int[] {s.size(0), s.size(2)}, v);
        }
    }

    /**
     * Every batch row becomes a stream; the streams are fed in random chunk sizes, interleaved at random. Each
     * stream's outputs and final state equal the whole sequence run at once, bit for bit.
     */
    @ParameterizedTest
    @ValueSource(strings = {"basic_f32", "layers3", "proj", "initial_state", "no_bias", "long_seq", "large_state", "nan_input", "lstmcell"})
    void anyChunkingGivesTheWholeSequenceResult(String name) throws Exception {
        chunkedRounds(Fixture.load(name), name, true);
    }

    /**
     * On the fast path a chunk and the whole sequence take differently blocked products, so they agree within
     * the kernels' tolerance (and PyTorch's), not bit for bit.
     */
    @ParameterizedTest
    @ValueSource(strings = {"basic_f32", "layers3", "proj", "initial_state", "long_seq", "lstmcell"})
    void fastPathChunkingAgreesWithinTolerance(String name) throws Exception {
        chunkedRounds(Fixture.load(name, EngineChoice.FAST), name, false);
    }

    private static void chunkedRounds(Fixture f, String name, boolean exact) {
        long seed = new SplittableRandom().nextLong();
        try {
            for (int round = 0; round < 5; round++) {
                chunkedRound(f, new SplittableRandom(seed + round), name, exact);
            }
        } catch (AssertionError e) {
            throw new AssertionError(name + ", seed " + seed + ": " + e.getMessage(), e);
        }
    }

    private static void chunkedRound(Fixture f, SplittableRandom rnd, String name, boolean exact) {
        int batch = f.x().size(0), steps = f.x().size(1), hh = f.lstm().config().outputHiddenSize();
        LstmSession session = new LstmSession(f.lstm());
        int[] done = new int[batch];
        double[][] outputs = new double[batch][steps * hh];
        for (int b = 0; b < batch; b++) {
            if (f.state(b) != null) {
                session.setState("row" + b, f.state(b));
            }
        }
        List<Integer> open = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            open.add(b);
        }
        while (!open.isEmpty()) {
            int b = open.get(rnd.nextInt(open.size()));
            int n = 1 + rnd.nextInt(steps - done[b]);
            if (n == 1 && rnd.nextBoolean()) {
                double[] y = session.step("row" + b, f.row(b, done[b], done[b] + 1).toDoubleArray());
                System.arraycopy(y, 0, outputs[b], done[b] * hh, hh);
            } else {
                Tensor y = session.run("row" + b, f.row(b, done[b], done[b] + n));
                assertArrayEquals(new int[] {n, hh}, y.shape());
                System.arraycopy(y.toDoubleArray(), 0, outputs[b], done[b] * hh, n * hh);
            }
            done[b] += n;
            if (done[b] == steps) {
                open.remove(Integer.valueOf(b));
            }
        }
        for (int b = 0; b < batch; b++) {
            LstmOutput whole = f.lstm().forward(f.row(b, 0, steps), ForwardOptions.defaults().withInitial(f.state(b)));
            LstmState s = session.state("row" + b);
            if (exact) {
                assertArrayEquals(whole.output().toDoubleArray(), outputs[b], "output of row " + b);
                assertArrayEquals(whole.hN().toDoubleArray(), s.h().toDoubleArray(), "h of row " + b);
                assertArrayEquals(whole.cN().toDoubleArray(), s.c().toDoubleArray(), "c of row " + b);
            } else {
                // the kernel contract's bound, 2e-7 per term of the longest reduction (KernelContractTest)
                int k = Math.max(f.lstm().config().inputSize(), f.lstm().config().hiddenSize()) + 1;
                Tolerance tol = new Tolerance(2e-7 * k);
                int[] rowShape = {steps, hh};
                assertTrue(tol.check("output of row " + b, whole.output(), Tensor.of(whole.output().dtype(), rowShape, outputs[b])).ok(),
                        "output of row " + b);
                assertTrue(tol.check("h of row " + b, whole.hN(), s.h()).ok(), "h of row " + b);
                assertTrue(tol.check("c of row " + b, whole.cN(), s.c()).ok(), "c of row " + b);
            }
            assertEquals(steps, session.steps("row" + b));
            // and PyTorch's
            for (int t = 0; t < steps; t++) {
                for (int k = 0; k < hh; k++) {
                    double e = f.expected().get(b, t, k);
                    assertTrue(Tolerance.of(f.lstm().precision()).accepts(e, outputs[b][t * hh + k]),
                            name + " row " + b + " step " + t + " unit " + k + ": PyTorch " + e + ", stream " + outputs[b][t * hh + k]);
                }
            }
        }
    }

    @Test
    void savedStateContinuesExactly() throws Exception {
        Fixture f = Fixture.load("initial_state");
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int steps = f.x().size(1);
        int cut = 1 + rnd.nextInt(steps - 1);
        LstmSession first = new LstmSession(f.lstm());
        first.setState("a", f.state(0));
        first.run("a", f.row(0, 0, cut));
        first.run("b", f.row(1, 0, cut));
        byte[] saved = first.save();
        LstmSession second = LstmSession.restore(f.lstm(), saved);
        assertEquals(List.of("a", "b"), new ArrayList<>(second.keys()), "seed " + seed);
        assertEquals(cut, second.steps("a"));
        Tensor rest = second.run("a", f.row(0, cut, steps));
        Tensor uninterrupted = first.run("a", f.row(0, cut, steps));
        assertArrayEquals(uninterrupted.toDoubleArray(), rest.toDoubleArray(), "seed " + seed + ", cut " + cut);
        assertArrayEquals(first.state("a").c().toDoubleArray(), second.state("a").c().toDoubleArray());
        assertArrayEquals(first.state("b").h().toDoubleArray(), second.state("b").h().toDoubleArray());
        // saving is deterministic and restores to the same bytes
        assertArrayEquals(first.save(), second.save());
    }

    @Test
    void savedStateIsValidatedOnRestore() throws Exception {
        Fixture f = Fixture.load("basic_f32");
        LstmSession s = new LstmSession(f.lstm());
        s.run("sensor-1", f.row(0, 0, 3));
        byte[] saved = s.save();

        assertMessage("session state (3 bytes): not a saved lstm4j session (no LSTM4JSS magic); pass the bytes LstmSession.save() returned",
                f.lstm(), new byte[] {1, 2, 3});
        byte[] flipped = saved.clone();
        flipped[flipped.length / 2] ^= 1;
        assertMessage("session state (" + saved.length + " bytes): checksum mismatch, the bytes are damaged or truncated", f.lstm(), flipped);
        assertMessage("session state (" + (saved.length - 9) + " bytes): checksum mismatch, the bytes are damaged or truncated", f.lstm(),
                Arrays.copyOf(saved, saved.length - 9));
        byte[] newer = saved.clone();
        ByteBuffer.wrap(newer).putInt(8, 2);
        assertMessage("session state (" + saved.length + " bytes): format version 2, this lstm4j reads version 1; use the lstm4j that saved it,"
                + " or a newer one", f.lstm(), newer);
        // a well-formed state with trailing bytes, checksum recomputed
        InputException e = assertThrows(InputException.class,
                () -> LstmSession.restore(f.lstm(), withCrc(Arrays.copyOf(saved, saved.length - 4), new byte[3])));
        assertTrue(e.getMessage().endsWith("3 unexpected bytes after the last stream"), e.getMessage());

        Lstm other = Fixture.load("layers3").lstm();
        e = assertThrows(InputException.class, () -> LstmSession.restore(other, saved));
        assertTrue(e.getMessage().contains("saved for LSTM(input_size=5, hidden_size=7, num_layers=1) in float32, but this model is"
                + " LSTM(input_size=5, hidden_size=7, num_layers=3, bidirectional=false) in float32"), e.getMessage());

        Lstm sameShape = nudged(f.lstm());
        e = assertThrows(InputException.class, () -> LstmSession.restore(sameShape, saved));
        assertTrue(e.getMessage().endsWith("saved with other weights (same architecture, different values); restore with the model that saved it"),
                e.getMessage());
    }

    private static void assertMessage(String expected, Lstm lstm, byte[] bytes) {
        InputException e = assertThrows(InputException.class, () -> LstmSession.restore(lstm, bytes));
        assertEquals(expected, e.getMessage());
    }

    private static byte[] withCrc(byte[] body, byte[] extra) {
        byte[] all = Arrays.copyOf(body, body.length + extra.length + 4);
        System.arraycopy(extra, 0, all, body.length, extra.length);
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 4);
        ByteBuffer.wrap(all).putInt(all.length - 4, (int) crc.getValue());
        return all;
    }

    /** The same LSTM with one bias value changed by one float32 ulp. */
    private static Lstm nudged(Lstm lstm) {
        List<CellWeights> cells = new ArrayList<>(lstm.cells());
        CellWeights w = cells.get(0);
        double[] b = w.biasHh().toDoubleArray();
        b[0] = Math.nextUp((float) b[0]);
        cells.set(0, new CellWeights(w.weightIh(), w.weightHh(), w.biasIh(), Tensor.of(w.biasHh().dtype(), w.biasHh().shape(), b), w.weightHr()));
        return new Lstm(lstm.config(), cells);
    }

    @Test
    void bidirectionalIsRefused() throws Exception {
        Lstm bidir = ModelLoader.load(Path.of(LstmSessionTest.class.getResource("/fixtures/bidir/model.safetensors").toURI()),
                ModelLoader.Options.DEFAULT).lstm();
        InputException e = assertThrows(InputException.class, () -> new LstmSession(bidir));
        assertTrue(e.getMessage().startsWith("streaming needs a unidirectional LSTM"), e.getMessage());
    }

    @Test
    void wrongFeatureCountIsRefusedAndLeavesNoStream() throws Exception {
        Fixture f = Fixture.load("basic_f32");
        LstmSession s = new LstmSession(f.lstm());
        InputException e = assertThrows(InputException.class, () -> s.step("k", new double[] {1, 2}));
        assertTrue(e.getMessage().contains("expected 5 features per step"), e.getMessage());
        assertTrue(s.keys().isEmpty());
        assertThrows(InputException.class, () -> s.setState("k", new LstmState(Tensor.zeros(dev.lstm4j.DType.F32, 2, 7),
                Tensor.zeros(dev.lstm4j.DType.F32, 1, 7))));
    }

    /** A session step on the fast path allocates nothing once its key exists, also when keys alternate. */
    @Test
    void fastPathStepsAllocateNothing() {
        long seed = 77;
        System.out.println("fastPathStepsAllocateNothing seed " + seed);
        Lstm lstm = ConcurrencyTest.randomLstm(new LstmConfig(32, 128, 2, false, 0, true), new SplittableRandom(seed), EngineChoice.FAST);
        assertTrue(lstm.usesFastPath());
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        float[] x = new float[32];
        float[] out = new float[128];
        try (LstmSession session = new LstmSession(lstm)) {
            String[] keys = {"a", "b", "c"};
            for (int i = 0; i < 20_000; i++) {          // warm up: JIT-compile the step and make the keys
                x[i % 32] = (float) Math.sin(i);
                session.step(keys[i % 3], x, out);
            }
            long id = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 10_000; i++) {
                x[i % 32] = (float) Math.cos(i);
                session.step(keys[(i / 7) % 3], x, out);
            }
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            assertTrue(allocated < 1024, "10,000 session steps allocated " + allocated + " bytes");
            assertEquals(30_000, session.steps("a") + session.steps("b") + session.steps("c"));
        }
    }
}
