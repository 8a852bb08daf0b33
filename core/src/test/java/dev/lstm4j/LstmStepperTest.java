package dev.lstm4j;

import dev.lstm4j.internal.kernel.FastLstm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The many-key step against {@link Lstm#forward} on each key's own sequence: bit for bit on the reference path and for
 * float64 models, within the kernel contract's tolerance on the fast path. Keys have different lengths, so every
 * step runs a different subset of them, and the counts cross the row buckets (16 … 1024) and the piece boundary.
 */
class LstmStepperTest {
    private static final LstmConfig[] CONFIGS = {
            new LstmConfig(5, 7, 1, false, 0, true),
            new LstmConfig(3, 9, 2, false, 4, true),
            new LstmConfig(8, 33, 2, false, 0, false),
    };

    private static Lstm model(LstmConfig config, SplittableRandom rnd, EngineChoice choice, boolean f64) {
        Lstm lstm = ConcurrencyTest.randomLstm(config, rnd, choice);
        if (!f64) {
            return lstm;
        }
        java.util.List<CellWeights> cells = new java.util.ArrayList<>();
        for (CellWeights w : lstm.cells()) {
            cells.add(new CellWeights(w.weightIh().to(DType.F64), w.weightHh().to(DType.F64), w.biasIh() == null ? null : w.biasIh().to(DType.F64),
                    w.biasHh() == null ? null : w.biasHh().to(DType.F64), w.weightHr() == null ? null : w.weightHr().to(DType.F64)));
        }
        return new Lstm(config, cells, choice);
    }

    /** Runs `keys` streams of random lengths 1..maxLen through the stepper, then compares each with Lstm.forward. */
    private static void compare(Lstm lstm, int keys, int maxLen, long seed, boolean exact) {
        SplittableRandom rnd = new SplittableRandom(seed);
        LstmConfig cfg = lstm.config();
        int in = cfg.inputSize(), hh = cfg.outputHiddenSize();
        int[] len = new int[keys];
        float[][] xs = new float[keys][];
        for (int k = 0; k < keys; k++) {
            len[k] = 1 + rnd.nextInt(maxLen);
            xs[k] = new float[len[k] * in];
            for (int i = 0; i < xs[k].length; i++) {
                xs[k][i] = (float) (rnd.nextDouble() * 2 - 1);
            }
        }
        LstmStepper stepper = new LstmStepper(lstm);
        StreamState[] state = new StreamState[keys];
        float[][] outs = new float[keys][];
        for (int k = 0; k < keys; k++) {
            outs[k] = new float[len[k] * hh];
        }
        for (int t = 0; t < maxLen; t++) {
            // the keys still running at step t, in a shuffled order
            int[] active = java.util.stream.IntStream.range(0, keys).filter(k -> len[k] > 0).toArray();
            int n = 0;
            for (int k : active) {
                if (t < len[k]) {
                    active[n++] = k;
                }
            }
            for (int i = n - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1), tmp = active[i];
                active[i] = active[j];
                active[j] = tmp;
            }
            StreamState[] batch = new StreamState[n];
            float[] x = new float[n * in], out = new float[n * hh];
            for (int i = 0; i < n; i++) {
                batch[i] = state[active[i]];
                System.arraycopy(xs[active[i]], t * in, x, i * in, in);
            }
            stepper.step(batch, x, out);
            for (int i = 0; i < n; i++) {
                state[active[i]] = batch[i];
                System.arraycopy(out, i * hh, outs[active[i]], t * hh, hh);
            }
        }
        Tolerance tol = exact ? null : new Tolerance(2e-7 * (in + hh + 3) * maxLen);
        for (int k = 0; k < keys; k++) {
            LstmOutput expected = lstm.forward(Tensor.of(new int[] {len[k], in}, xs[k]));
            Tensor out = Tensor.of(new int[] {len[k], hh}, outs[k]);
            LstmState got = state[k].toLstmState();
            assertEquals(len[k], state[k].steps());
            String label = "seed " + seed + " key " + k + " of " + keys + " (" + len[k] + " steps) " + lstm.engineName();
            if (exact) {
                assertArrayEquals(expected.output().to(DType.F32).toFloatArray(), out.toFloatArray(), label + " output");
                assertArrayEquals(expected.hN().toDoubleArray(), got.h().toDoubleArray(), label + " h_n");
                assertArrayEquals(expected.cN().toDoubleArray(), got.c().toDoubleArray(), label + " c_n");
            } else {
                Check.close(label + " output", expected.output(), out, tol);
                Check.close(label + " h_n", expected.hN(), got.h(), tol);
                Check.close(label + " c_n", expected.cN(), got.c(), tol);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 17, 40, 1030})
    void fastPathMatchesForwardPerKey(int keys) {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmStepperTest.fastPathMatchesForwardPerKey seed " + seed);
        for (LstmConfig cfg : CONFIGS) {
            Lstm lstm = model(cfg, new SplittableRandom(seed), EngineChoice.FAST, false);
            assertTrue(new LstmStepper(lstm).usesFastPath(), lstm.engineName());
            compare(lstm, keys, keys > 100 ? 3 : 6, seed, false);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 33})
    void referencePathIsBitForBit(int keys) {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmStepperTest.referencePathIsBitForBit seed " + seed);
        for (LstmConfig cfg : CONFIGS) {
            Lstm lstm = model(cfg, new SplittableRandom(seed), EngineChoice.REFERENCE, false);
            assertTrue(!new LstmStepper(lstm).usesFastPath());
            compare(lstm, keys, 5, seed, true);
        }
    }

    @Test
    void float64ModelsStepInFloat64BitForBit() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmStepperTest.float64ModelsStepInFloat64BitForBit seed " + seed);
        for (LstmConfig cfg : CONFIGS) {
            Lstm lstm = model(cfg, new SplittableRandom(seed), EngineChoice.FAST, true);
            LstmStepper stepper = new LstmStepper(lstm);
            assertEquals(Precision.F64, stepper.zeroState().precision());
            compare(lstm, 9, 4, seed, true);
            assertThrows(InputException.class, () -> stepper.step(1, new float[cfg.inputSize()], new float[stepper.hSize()],
                    new float[stepper.cSize()], null));
        }
    }

    @Test
    void flatFormMatchesStateForm() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmStepperTest.flatFormMatchesStateForm seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        Lstm lstm = model(CONFIGS[1], rnd, EngineChoice.FAST, false);
        LstmStepper a = new LstmStepper(lstm), b = new LstmStepper(lstm);
        int n = 21, in = CONFIGS[1].inputSize(), hh = CONFIGS[1].outputHiddenSize();
        float[] h = new float[n * a.hSize()], c = new float[n * a.cSize()], out = new float[n * hh], out2 = new float[n * hh];
        StreamState[] states = new StreamState[n];
        for (int t = 0; t < 3; t++) {
            float[] x = new float[n * in];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextDouble();
            }
            a.step(n, x, h, c, out);
            b.step(states, x, out2);
            assertArrayEquals(out, out2);
        }
        for (int k = 0; k < n; k++) {
            assertArrayEquals(Arrays.copyOfRange(h, k * a.hSize(), (k + 1) * a.hSize()), states[k].toLstmState().h().toFloatArray());
            assertArrayEquals(Arrays.copyOfRange(c, k * a.cSize(), (k + 1) * a.cSize()), states[k].toLstmState().c().toFloatArray());
        }
    }

    @Test
    void stateBytesRoundTripAndDamageIsCaught() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmStepperTest.stateBytesRoundTripAndDamageIsCaught seed " + seed);
        for (boolean f64 : new boolean[] {false, true}) {
            Lstm lstm = model(CONFIGS[1], new SplittableRandom(seed), EngineChoice.FAST, f64);
            LstmStepper stepper = new LstmStepper(lstm);
            StreamState[] s = {null};
            stepper.step(s, new float[] {0.5f, -1f, 2f}, null);
            byte[] bytes = s[0].toBytes();
            assertEquals(s[0].byteSize(), bytes.length);
            StreamState back = StreamState.fromBytes(bytes);
            assertEquals(s[0], back);
            assertArrayEquals(bytes, back.toBytes());
            byte[] damaged = bytes.clone();
            damaged[damaged.length / 2] ^= 1;
            InputException e = assertThrows(InputException.class, () -> StreamState.fromBytes(damaged));
            assertTrue(e.getMessage().contains("CRC-32"), e.getMessage());
            assertThrows(InputException.class, () -> StreamState.fromBytes(Arrays.copyOf(bytes, bytes.length - 1)));
            byte[] future = bytes.clone();
            future[7] = 9;
            assertTrue(assertThrows(InputException.class, () -> StreamState.fromBytes(future)).getMessage().contains("version 9"));
        }
    }

    @Test
    void anotherModelsStateIsRefused() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmStepperTest.anotherModelsStateIsRefused seed " + seed);
        Lstm one = model(CONFIGS[0], new SplittableRandom(seed), EngineChoice.FAST, false);
        Lstm other = model(CONFIGS[0], new SplittableRandom(seed + 1), EngineChoice.FAST, false);
        assertNotEquals(Arrays.toString(new LstmStepper(one).fingerprint()), Arrays.toString(new LstmStepper(other).fingerprint()));
        StreamState[] s = {new LstmStepper(one).zeroState()};
        InputException e = assertThrows(InputException.class, () -> new LstmStepper(other).step(s, new float[5], null));
        assertTrue(e.getMessage().contains("another model"), e.getMessage());
        // the same weights on the other path share the fingerprint: state moves between paths
        new LstmStepper(one.withEngine(EngineChoice.REFERENCE)).step(s, new float[5], null);
        assertEquals(1, s[0].steps());
    }

    @Test
    void bidirectionalIsRefused() {
        Lstm bi = ConcurrencyTest.randomLstm(new LstmConfig(3, 4, 1, true, 0, true), new SplittableRandom(1), EngineChoice.FAST);
        assertThrows(InputException.class, () -> new LstmStepper(bi));
    }

    /**
     * The flat form allocates nothing at all once warm, at 1 and 2 threads: at 2 threads, 1,024 and 3,000 streams make
     * pieces of up to 128 rows that the calling thread and a helper share; 8 streams stay on the calling thread.
     * Counted on the calling thread and the helpers ({@link Allocations}).
     */
    @ParameterizedTest
    @CsvSource({"8, 1", "1024, 1", "3000, 1", "8, 2", "1024, 2", "3000, 2"})
    void flatFastStepAllocatesNothingPerCall(int n, int threads) {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmStepperTest.flatFastStepAllocatesNothingPerCall seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        Lstm lstm = withThreads(threads, () -> ConcurrencyTest.randomLstm(new LstmConfig(16, 32, 1, false, 0, true), rnd, EngineChoice.FAST));
        assertTrue(lstm.engineName().contains("threads=" + threads + "]"), lstm.engineName());
        LstmStepper stepper = new LstmStepper(lstm);
        float[] x = new float[n * 16], h = new float[n * stepper.hSize()], c = new float[n * stepper.cSize()], out = new float[n * 32];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        int calls = Math.max(10, 20_000 / n);
        Allocations.Round best = Allocations.cleanest(() -> stepper.step(n, x, h, c, out), calls, 0);
        System.out.println("LstmStepperTest: " + n + " streams, " + lstm.engineName() + ": " + best);
        if (threads > 1 && n > 100) {
            if (Runtime.getRuntime().availableProcessors() < 2) {
                System.out.println("LstmStepperTest: WARNING one processor here, so the products did not split their rows");
            } else {
                assertTrue(best.helperNames().stream().anyMatch(name -> name.startsWith("lstm4j-" + threads + "-step-")),
                        "no helper thread of the row split: " + best.helperNames());
            }
        }
        assertEquals(0, best.caller(), "bytes allocated by the calling thread in the cleanest round: " + best);
        assertEquals(0, best.helpers(), "bytes allocated by lstm4j's helper threads in the cleanest round: " + best);
    }

    /**
     * The StreamState form, as the engines call it, allocates the new states and nothing else: per stream one
     * StreamState (at most 96 bytes with its header) and its h and c arrays (at most a 24-byte header each).
     */
    @Test
    void stateFormAllocatesOnlyTheNewStates() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmStepperTest.stateFormAllocatesOnlyTheNewStates seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        Lstm lstm = withThreads(1, () -> ConcurrencyTest.randomLstm(new LstmConfig(16, 32, 1, false, 0, true), rnd, EngineChoice.FAST));
        LstmStepper stepper = new LstmStepper(lstm);
        int n = 1024;
        StreamState[] states = new StreamState[n];
        float[] x = new float[n * 16], out = new float[n * 32];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        int calls = 20;
        long perState = 96 + 2 * (24 + 4L * 32);
        Allocations.Round best = Allocations.cleanest(() -> stepper.step(states, x, out), calls, perState * n * calls);
        System.out.println("LstmStepperTest: StreamState form, " + n + " streams: " + best + ", "
                + best.caller() / calls / n + " B per stream (bound " + perState + ")");
        assertTrue(best.caller() <= perState * n * calls, best.caller() / calls / n + " bytes per stream and call, more than the "
                + perState + " of a new state: " + best);
        assertEquals(0, best.helpers(), best::toString);
    }

    /** An Lstm whose fast path runs on {@code threads} threads (the engine reads -Dlstm4j.threads when it is built). */
    private static Lstm withThreads(int threads, Supplier<Lstm> build) {
        String old = System.getProperty(FastLstm.THREADS_PROPERTY);
        System.setProperty(FastLstm.THREADS_PROPERTY, Integer.toString(threads));
        try {
            return build.get();
        } finally {
            if (old == null) {
                System.clearProperty(FastLstm.THREADS_PROPERTY);
            } else {
                System.setProperty(FastLstm.THREADS_PROPERTY, old);
            }
        }
    }
}
