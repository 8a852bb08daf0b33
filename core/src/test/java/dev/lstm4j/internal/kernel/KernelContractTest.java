package dev.lstm4j.internal.kernel;

import dev.lstm4j.CellWeights;
import dev.lstm4j.DType;
import dev.lstm4j.InputException;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.reference.ReferenceLstm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract every {@link LstmKernels} implementation meets, run once per implementation by a subclass:
 * the product and the gate pass against plain double arithmetic, the whole fast path against
 * {@link ReferenceLstm} for every configuration, and against PyTorch's recorded fixtures.
 *
 * <p>Sizes hit the vector tails (1, 3, 7, 8, 9, 15, 16, 17, 33, 257). Fast path against the reference:
 * {@code |Δ| ≤ 2e-7 · K · max(1, |expected|)} with K the longest reduction of the model (the two paths
 * add in different orders, and float32 rounding error grows with the number of terms).
 */
abstract class KernelContractTest {
    static final int[] TAILS = {1, 3, 7, 8, 9, 15, 16, 17, 33, 257};
    private static final Path FIXTURES = Paths.get("src", "test", "resources", "fixtures");

    /** The implementation under test. */
    abstract LstmKernels kernels();

    // ---- the product ----

    @Test
    void gemmMatchesDoubleProductForTailSizes() {
        LstmKernels k = kernels();
        long seed = 0x5EED_0001L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int n : TAILS) {
            for (int depth : new int[] {1, 3, 8, 17, 257}) {
                for (int m : new int[] {1, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 20}) {  // the 8-, 4- and 1-row tiles and their mixes
                    if ((long) n * depth * m > 300_000) {
                        continue;
                    }
                    for (int mode = 0; mode < 3; mode++) {
                        checkGemm(k, rnd, seed, m, n, depth, mode);
                    }
                }
            }
        }
    }

    /** Rows enough to fill more than one packed block of A (the fast kernels pack up to 1 MB of rows at a time). */
    @Test
    void gemmMatchesDoubleProductAcrossRowBlocks() {
        LstmKernels k = kernels();
        long seed = 0x5EED_0007L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int mode = 0; mode < 3; mode++) {
            checkGemm(k, rnd, seed, 45, 17, 7000, mode);
        }
    }

    /**
     * A range of panels gives the same bits whichever order they are read in, and whether a panel is read alone or
     * beside its neighbour (batch 1 reads panels in pairs); nothing outside the range is written.
     */
    @Test
    void panelRangesGiveTheSameBitsInEitherOrder() {
        LstmKernels k = kernels();
        long seed = 0x5EED_0003L;
        SplittableRandom rnd = new SplittableRandom(seed);
        int nr = k.panelWidth();
        for (int m : new int[] {1, 2, 6, 8, 9, 14}) {
            for (int depth : new int[] {1, 5, 64}) {
                int n = 7 * nr - 3;
                PackedMatrix pw = k.pack(random(rnd, n * depth, 1f), n, depth);
                float[] a = random(rnd, m * depth, 1f), bias = random(rnd, pw.paddedOutputs(), 1f);
                int ldc = pw.paddedOutputs();
                float[] init = random(rnd, m * ldc, 1f), whole = init.clone();
                k.gemm(a, 0, depth, m, pw, 0, pw.panels(), null, whole, 0, ldc, true, false);
                for (int[] range : new int[][] {{0, 7}, {1, 7}, {2, 5}, {3, 4}, {0, 3}}) {
                    for (boolean descending : new boolean[] {false, true}) {
                        float[] part = init.clone();
                        k.gemm(a, 0, depth, m, pw, range[0], range[1], null, part, 0, ldc, true, descending);
                        for (int r = 0; r < m; r++) {
                            for (int j = 0; j < ldc; j++) {
                                boolean inside = j >= range[0] * nr && j < range[1] * nr;
                                float expected = inside ? whole[r * ldc + j] : init[r * ldc + j];
                                assertEquals(expected, part[r * ldc + j], 0f, "m=" + m + " k=" + depth + " panels " + range[0] + ".."
                                        + range[1] + (descending ? " descending" : "") + " C[" + r + "][" + j + "] (seed " + seed + ")");
                            }
                        }
                    }
                }
                // bias init goes through the same panel pairs
                float[] withBias = new float[m * ldc], byOne = new float[m * ldc];
                k.gemm(a, 0, depth, m, pw, 0, pw.panels(), bias, withBias, 0, ldc, false, true);
                for (int panel = 0; panel < pw.panels(); panel++) {
                    k.gemm(a, 0, depth, m, pw, panel, panel + 1, bias, byOne, 0, ldc, false, false);
                }
                assertTrue(java.util.Arrays.equals(withBias, byOne), "bias init, pairs vs single panels, m=" + m + " k=" + depth);
            }
        }
    }

    /**
     * The two-source product over [A | A2] (a step's [x_t | h_{t-1}]) equals the one-source product over the rows
     * concatenated, within the float32 bound of {@link #checkGemm}, for every tile and mix of tiles.
     */
    @Test
    void twoSourceProductMatchesTheConcatenatedRows() {
        LstmKernels k = kernels();
        long seed = 0x5EED_0004L;
        SplittableRandom rnd = new SplittableRandom(seed);
        System.out.println("twoSourceProductMatchesTheConcatenatedRows: seed " + seed);
        int nr = k.panelWidth();
        for (int m : new int[] {1, 2, 4, 5, 6, 7, 8, 9, 12, 13, 14, 20}) {
            for (int[] kk : new int[][] {{3, 5}, {17, 31}, {64, 0}}) {
                int k1 = kk[0], depth = kk[0] + kk[1], n = 3 * nr - 1;
                float[] w = random(rnd, n * depth, 1f);
                PackedMatrix pw = k.pack(w, n, depth);
                int ldc = pw.paddedOutputs();
                float[] a1 = random(rnd, m * k1 + 2, 1f), a2 = random(rnd, m * (depth - k1) + 1, 1f), bias = random(rnd, ldc, 1f);
                float[] cat = new float[m * depth];
                for (int r = 0; r < m; r++) {
                    System.arraycopy(a1, 2 + r * k1, cat, r * depth, k1);
                    System.arraycopy(a2, 1 + r * (depth - k1), cat, r * depth + k1, depth - k1);
                }
                float[] two = new float[m * ldc], one = new float[m * ldc];
                k.gemm2(a1, 2, k1, k1, a2, 1, depth - k1, m, pw, bias, two, 0, ldc);
                k.gemm(cat, 0, depth, m, pw, bias, one, 0, ldc, false);
                for (int i = 0; i < one.length; i++) {
                    double tol = (depth + 2) * 0x1p-24 * (depth + 1) + 1e-30;  // |a|, |w|, |bias| ≤ 1
                    if (Math.abs(one[i] - two[i]) > tol) {
                        fail(String.format(Locale.ROOT, "gemm2 m=%d k1=%d k=%d (seed %d): C[%d] = %s, gemm over the concatenation %s",
                                m, k1, depth, seed, i, two[i], one[i]));
                    }
                }
            }
        }
    }

    /** mode 0: zero init, 1: bias init, 2: accumulate into C. A and C sit at offsets with wider rows. */
    private static void checkGemm(LstmKernels k, SplittableRandom rnd, long seed, int m, int n, int depth, int mode) {
        float[] w = random(rnd, n * depth, 1f);
        PackedMatrix pw = k.pack(w, n, depth);
        int nPad = pw.paddedOutputs();
        assertTrue(nPad >= n && nPad % k.panelWidth() == 0, "padded outputs " + nPad + " for n=" + n);
        int lda = depth + 2, aOff = 3, ldc = nPad + k.panelWidth(), cOff = 5;
        float[] a = random(rnd, aOff + m * lda, 1f);
        float[] bias = random(rnd, nPad, 1f);
        float[] c = random(rnd, cOff + m * ldc + 7, 1f);
        float[] before = c.clone();
        k.gemm(a, aOff, lda, m, pw, mode == 1 ? bias : null, c, cOff, ldc, mode == 2);
        String what = String.format(Locale.ROOT, "gemm m=%d n=%d k=%d mode=%d (seed %d)", m, n, depth, mode, seed);
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < nPad; j++) {
                int ci = cOff + r * ldc + j;
                double expected = mode == 2 ? before[ci] : mode == 1 ? bias[j] : 0;
                double sumAbs = Math.abs(expected);
                for (int kk = 0; kk < depth && j < n; kk++) {
                    double term = (double) a[aOff + r * lda + kk] * w[j * depth + kk];
                    expected += term;
                    sumAbs += Math.abs(term);
                }
                // float32 summation of depth+1 terms: error ≤ (depth+1)·2⁻²⁴·Σ|terms|
                double tol = (depth + 2) * 0x1p-24 * sumAbs + 1e-30;
                if (Math.abs(c[ci] - expected) > tol) {
                    fail(what + ": C[" + r + "][" + j + "] = " + c[ci] + ", expected " + expected + " ± " + tol);
                }
            }
        }
        // nothing outside the m × nPad block is touched
        for (int i = 0; i < c.length; i++) {
            int rel = i - cOff;
            boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < nPad;
            if (!inside && c[i] != before[i]) {
                fail(what + ": wrote outside C at flat index " + i);
            }
        }
    }

    // ---- the gate pass ----

    /** Unit chunk sizes for the gate pass: one chunk (PyTorch's own row), the fast path's 16, and odd ones. */
    static Stream<Integer> units() {
        return Stream.of(0, 16, 5, 1);
    }

    @ParameterizedTest(name = "unit {0}")
    @MethodSource("units")
    void gatesMatchEquationsForTailSizes(int unitOrWhole) {
        LstmKernels k = kernels();
        long seed = 0x5EED_0002L + unitOrWhole;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int hidden : TAILS) {
            int unit = unitOrWhole == 0 ? hidden : unitOrWhole;
            int zOff = 2, cOff = 1, hOff = 3;
            float[] z = random(rnd, zOff + 4 * hidden + 5, 6f);
            float[] c = random(rnd, cOff + hidden + 2, 2f);
            float[] h = new float[hOff + hidden + 4];
            // saturating and special values: i and f of unit 0, the last value of the row
            z[zOff] = 100f;
            z[zOff + Math.min(unit, hidden)] = -100f;
            z[zOff + 4 * hidden - 1] = -1e4f;
            float[] cBefore = c.clone();
            float[] zBefore = z.clone();  // gates may consume z
            k.gates(z, zOff, hidden, unit, c, cOff, h, hOff);
            for (int u0 = 0; u0 < hidden; u0 += unit) {
                int uq = Math.min(unit, hidden - u0), q = zOff + 4 * u0;
                for (int j = 0; j < uq; j++) {
                    double i = sigmoid(zBefore[q + j]), f = sigmoid(zBefore[q + uq + j]);
                    // the g pre-activations come doubled
                    double g = Math.tanh(zBefore[q + 2 * uq + j] / 2.0), o = sigmoid(zBefore[q + 3 * uq + j]);
                    double cell = f * cBefore[cOff + u0 + j] + i * g;
                    double hv = o * Math.tanh(cell);
                    String at = "hidden=" + hidden + " unit=" + unit + " j=" + (u0 + j) + " (seed " + seed + ")";
                    assertClose("c " + at, cell, c[cOff + u0 + j], 4e-7 * Math.max(1, Math.abs(cell)));
                    assertClose("h " + at, hv, h[hOff + u0 + j], 4e-7);
                }
            }
            assertEquals(0f, h[hOff - 1], "wrote before h");
            assertEquals(0f, h[hOff + hidden], "wrote past h");
            assertEquals(cBefore[cOff + hidden], c[cOff + hidden], "wrote past c");
        }
    }

    @Test
    void gatesPropagateNaN() {
        LstmKernels k = kernels();
        int hidden = 17;
        float[] z = new float[4 * hidden];
        float[] c = new float[hidden];
        float[] h = new float[hidden];
        z[3] = Float.NaN;          // i of unit 3
        z[16 + 2 * hidden] = Float.NaN;  // g of the tail unit 16
        k.gates(z, 0, hidden, hidden, c, 0, h, 0);
        assertTrue(Float.isNaN(c[3]) && Float.isNaN(h[3]), "NaN in i must reach c and h");
        assertTrue(Float.isNaN(c[16]) && Float.isNaN(h[16]), "NaN in g must reach c and h in the tail");
        assertEquals(0f, c[4]);
    }

    /**
     * The fast path packs the g rows doubled; a g weight of 3e38 would overflow, so such a model runs on the reference
     * path, and FastLstm itself refuses it. A huge i weight is fine (not doubled).
     */
    @Test
    void hugeGWeightsStayOnTheReferencePath() {
        LstmConfig config = new LstmConfig(3, 4, 1, false, 0, true);
        List<CellWeights> cells = randomCells(config, new SplittableRandom(7));
        CellWeights w = cells.get(0);
        float[] ih = w.weightIh().toFloatArray();
        ih[2 * 4 * 3 + 1] = 3e38f;  // row 8 = g of unit 0
        List<CellWeights> huge = List.of(new CellWeights(Tensor.of(new int[] {16, 3}, ih), w.weightHh(), w.biasIh(), w.biasHh(), null));
        assertTrue(!FastLstm.supports(huge), "a g weight of 3e38 cannot be doubled");
        dev.lstm4j.Lstm lstm = new dev.lstm4j.Lstm(config, huge);
        assertTrue(!lstm.usesFastPath(), "expected the reference path, got " + lstm.engineName());
        dev.lstm4j.ModelException e = assertThrows(dev.lstm4j.ModelException.class, () -> new FastLstm(config, huge, kernels(), 1));
        assertTrue(e.getMessage().contains("reference path"), e.getMessage());
        float[] ihI = w.weightIh().toFloatArray();
        ihI[1] = 3e38f;  // row 0 = i of unit 0
        assertTrue(FastLstm.supports(List.of(new CellWeights(Tensor.of(new int[] {16, 3}, ihI), w.weightHh(), w.biasIh(), w.biasHh(), null))));
    }

    // ---- the whole fast path against the reference ----

    /** name, I, H, L, bidirectional, P, bias, B, T, initial state. */
    static Stream<Object[]> configurations() {
        List<Object[]> cases = new ArrayList<>();
        for (int h : TAILS) {
            if (h == 257) {
                cases.add(new Object[] {"H=257", 9, 257, 1, false, 0, true, 2, 3, false});
            } else {
                cases.add(new Object[] {"H=" + h, 5, h, 1, false, 0, true, 3, 4, false});
            }
        }
        cases.add(new Object[] {"batch 1", 3, 16, 1, false, 0, true, 1, 5, false});
        cases.add(new Object[] {"batch 9", 7, 8, 1, false, 0, true, 9, 3, true});
        cases.add(new Object[] {"layers", 4, 9, 3, false, 0, true, 5, 4, false});
        cases.add(new Object[] {"bidirectional", 3, 15, 1, true, 0, true, 4, 5, false});
        cases.add(new Object[] {"projection", 6, 17, 1, false, 7, true, 3, 4, true});
        cases.add(new Object[] {"no bias", 5, 8, 2, false, 0, false, 2, 3, true});
        cases.add(new Object[] {"initial state", 2, 7, 2, true, 0, true, 3, 4, true});
        cases.add(new Object[] {"all", 5, 33, 2, true, 9, false, 5, 6, true});
        cases.add(new Object[] {"seed-sized", 2, 3, 1, false, 0, true, 1, 3, false});
        cases.add(new Object[] {"wide batch", 16, 32, 2, true, 16, true, 33, 7, true});
        // 16+ rows per thread: each step one product over [x_t | h_{t-1}]; 3 layers share one buffer, no initial state
        cases.add(new Object[] {"batch 16, 3 layers", 6, 20, 3, false, 0, true, 16, 5, false});
        cases.add(new Object[] {"batch 19 bidirectional", 5, 24, 2, true, 0, true, 19, 4, false});
        // small batch, no projection: with 2 threads the gate columns are split (last unit chunk shorter)
        cases.add(new Object[] {"column split", 9, 130, 2, false, 0, true, 3, 6, true});
        // three layers at batch 1: layer outputs alternate between two buffers, the last one is the result
        cases.add(new Object[] {"column split 3 layers", 9, 130, 3, false, 0, true, 1, 5, false});
        return cases.stream();
    }

    /** One configuration's model and inputs, drawn from a seed; h0 and c0 are zeros without an initial state. */
    record Case(LstmConfig config, List<CellWeights> cells, Tensor x, Tensor h0, Tensor c0, SplittableRandom rnd) {
        static Case draw(long seed, int in, int hidden, int layers, boolean bidir, int proj, boolean bias, int batch, int steps,
                         boolean state) {
            LstmConfig config = new LstmConfig(in, hidden, layers, bidir, proj, bias);
            SplittableRandom rnd = new SplittableRandom(seed);
            List<CellWeights> cells = randomCells(config, rnd);
            int ld = layers * config.directions(), hh = config.outputHiddenSize();
            Tensor x = tensor(rnd, 2f, batch, steps, in);
            Tensor h0 = state ? tensor(rnd, 1f, ld, batch, hh) : Tensor.zeros(DType.F32, ld, batch, hh);
            Tensor c0 = state ? tensor(rnd, 1f, ld, batch, hidden) : Tensor.zeros(DType.F32, ld, batch, hidden);
            return new Case(config, cells, x, h0, c0, rnd);
        }

        /** 2e-7 per term of the longest reduction, as in the class comment. */
        Tolerance tolerance() {
            int reduction = Math.max(config.inputSize(), config.outputSize()) + config.outputHiddenSize()
                    + (config.projSize() > 0 ? config.hiddenSize() : 0);
            return new Tolerance(2e-7 * reduction);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void fastPathMatchesReference(String name, int in, int hidden, int layers, boolean bidir, int proj, boolean bias, int batch,
                                  int steps, boolean state) {
        long seed = 0x5EED_1000L + name.hashCode();
        Case k = Case.draw(seed, in, hidden, layers, bidir, proj, bias, batch, steps, state);
        LstmConfig config = k.config;
        List<CellWeights> cells = k.cells;
        Tensor x = k.x, h0 = k.h0, c0 = k.c0;
        LstmOutput expected = new ReferenceLstm(config, cells, Precision.F32).forward(x, h0, c0);
        Tolerance tol = k.tolerance();
        // threads 1 and 2 with the usual blocks of input projections (all steps at these sizes), then blocks of
        // one step and of uneven steps
        long[][] runs = {{1, Long.MAX_VALUE}, {2, Long.MAX_VALUE}, {1, 1}, {2, 1}, {2, 3L * batch * 4 * hidden + 1}};
        for (long[] run : runs) {
            FastLstm fast = new FastLstm(config, cells, kernels(), (int) run[0], run[1]);
            if (name.startsWith("column split")) {
                assertEquals(run[0] == 2 ? 2 : 1, fast.workspace(batch, steps).columns, "threads splitting the gate columns");
            }
            LstmOutput actual = state ? fast.forward(x, h0, c0) : fast.forward(x, null, null);
            String label = name + " " + fast + " blockFloats=" + run[1] + " (seed " + seed + ")";
            check(label + " output", tol, expected.output(), actual.output());
            check(label + " h_n", tol, expected.hN(), actual.hN());
            check(label + " c_n", tol, expected.cN(), actual.cN());
        }
    }

    /** Sequences of different lengths (packed-sequence semantics) on the fast path, against the reference path's. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void packedSequencesMatchReference(String name, int in, int hidden, int layers, boolean bidir, int proj, boolean bias, int batch,
                                       int steps, boolean state) {
        long seed = 0x5EED_1100L + name.hashCode();
        Case k = Case.draw(seed, in, hidden, layers, bidir, proj, bias, batch, steps, state);
        LstmConfig config = k.config;
        Tensor x = k.x, h0 = k.h0, c0 = k.c0;
        SplittableRandom rnd = k.rnd;
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = 1 + rnd.nextInt(steps);
        }
        lengths[0] = steps;  // one full row, and (batch 1 aside) shorter ones
        if (batch > 1) {
            lengths[batch - 1] = 1;
        }
        LstmOutput expected = new ReferenceLstm(config, k.cells, Precision.F32).forward(x, h0, c0, lengths, null);
        Tolerance tol = k.tolerance();
        for (long[] run : new long[][] {{1, Long.MAX_VALUE}, {2, Long.MAX_VALUE}, {2, 1}}) {
            FastLstm fast = new FastLstm(config, k.cells, kernels(), (int) run[0], run[1]);
            LstmOutput actual = fast.forwardPacked(x, state ? h0 : null, state ? c0 : null, lengths);
            String label = name + " " + fast + " blockFloats=" + run[1] + " lengths " + java.util.Arrays.toString(lengths) + " (seed " + seed + ")";
            check(label + " output", tol, expected.output(), actual.output());
            check(label + " h_n", tol, expected.hN(), actual.hN());
            check(label + " c_n", tol, expected.cN(), actual.cN());
        }
    }

    @Test
    void packedSequencesRefuseBadLengths() {
        LstmConfig config = new LstmConfig(3, 4, 1, false, 0, true);
        FastLstm fast = new FastLstm(config, randomCells(config, new SplittableRandom(5)), kernels(), 1);
        FastLstm.Workspace ws = fast.workspace(2, 3);
        float[] x = new float[2 * 3 * 3], out = new float[2 * 3 * 4], hN = new float[8], cN = new float[8];
        InputException e = assertThrows(InputException.class, () -> fast.forward(ws, x, new int[] {3, 0}, null, null, out, hN, cN));
        assertTrue(e.getMessage().contains("lengths[1] = 0") && e.getMessage().contains("1..3"), e.getMessage());
        e = assertThrows(InputException.class, () -> fast.forward(ws, x, new int[] {4, 1}, null, null, out, hN, cN));
        assertTrue(e.getMessage().contains("lengths[0] = 4"), e.getMessage());
        e = assertThrows(InputException.class, () -> fast.forward(ws, x, new int[] {3}, null, null, out, hN, cN));
        assertTrue(e.getMessage().contains("expected 2"), e.getMessage());
    }

    @Test
    void largeWorkSplitOverThreadsMatchesOneThread() {
        // big enough that both phases split over threads (by rows, batch and direction)
        long seed = 0x5EED_2000L;
        LstmConfig config = new LstmConfig(33, 64, 2, true, 0, true);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<CellWeights> cells = randomCells(config, rnd);
        Tensor x = tensor(rnd, 1f, 17, 20, 33);
        LstmOutput one = new FastLstm(config, cells, kernels(), 1).forward(x, null, null);
        LstmOutput three = new FastLstm(config, cells, kernels(), 3).forward(x, null, null);
        // a row may land in another register tile, which sums in another order: same bound as against the reference
        Tolerance tol = new Tolerance(2e-7 * (128 + 64));
        check("threads 3 vs 1 (seed " + seed + ")", tol, one.output(), three.output());
        check("threads 3 vs 1 c_n (seed " + seed + ")", tol, one.cN(), three.cN());
    }

    @Test
    void streamingStepsMatchTheWholeSequence() {
        long seed = 0x5EED_3000L;
        for (int proj : new int[] {0, 5}) {
            LstmConfig config = new LstmConfig(7, 17, 2, false, proj, true);
            SplittableRandom rnd = new SplittableRandom(seed + proj);
            List<CellWeights> cells = randomCells(config, rnd);
            int batch = 3, steps = 5, hh = config.outputHiddenSize();
            float[] h0 = random(rnd, 2 * batch * hh, 1f), c0 = random(rnd, 2 * batch * 17, 1f);
            float[] x = random(rnd, batch * steps * 7, 1f);
            FastLstm fast = new FastLstm(config, cells, kernels(), 1);
            FastLstm.Workspace ws = fast.workspace(batch, steps);
            float[] out = new float[batch * steps * hh], hN = new float[2 * batch * hh], cN = new float[2 * batch * 17];
            fast.forward(ws, x, h0, c0, out, hN, cN);

            FastLstm.Stream stream = fast.stream(batch);
            stream.setState(h0, c0);
            float[] xt = new float[batch * 7], yt = new float[batch * hh];
            Tolerance tol = new Tolerance(2e-7 * 40);
            for (int t = 0; t < steps; t++) {
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(x, (b * steps + t) * 7, xt, b * 7, 7);
                }
                stream.step(xt, yt);
                for (int b = 0; b < batch; b++) {
                    for (int j = 0; j < hh; j++) {
                        double e = out[(b * steps + t) * hh + j];
                        if (!tol.accepts(e, yt[b * hh + j])) {
                            fail("stream proj=" + proj + " step " + t + " row " + b + " unit " + j + ": expected " + e + ", got "
                                    + yt[b * hh + j] + " (seed " + seed + ")");
                        }
                    }
                }
            }
            float[] h = new float[hN.length], c = new float[cN.length];
            stream.getState(h, c);
            for (int i = 0; i < h.length; i++) {
                assertTrue(tol.accepts(hN[i], h[i]), "stream h_n[" + i + "]: " + hN[i] + " vs " + h[i] + " (seed " + seed + ")");
            }
            for (int i = 0; i < c.length; i++) {
                assertTrue(tol.accepts(cN[i], c[i]), "stream c_n[" + i + "]: " + cN[i] + " vs " + c[i] + " (seed " + seed + ")");
            }
            stream.reset();
            stream.getState(h, c);
            for (float v : h) {
                assertEquals(0f, v, "reset must zero h");
            }
        }
    }

    /**
     * Large enough that a 2-thread stream splits each step's gate columns (the last unit chunk is shorter); the
     * pauses let its helper thread park, so steps alternate between split and whole-on-the-caller. With short
     * measuring windows (recheck every 9 steps, 2 timed each way) the stream also crosses several of its decisions.
     */
    @ParameterizedTest(name = "recheck every {0} steps")
    @ValueSource(ints = {0, 9})
    void streamingSplitOverTwoThreadsMatchesTheWholeSequence(int recheck) throws InterruptedException {
        long seed = 0x5EED_3100L;
        LstmConfig config = new LstmConfig(7, 100, 2, false, 0, true);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<CellWeights> cells = randomCells(config, rnd);
        int batch = 3, steps = 30, in = 7, hs = 100;
        float[] h0 = random(rnd, 2 * batch * hs, 1f), c0 = random(rnd, 2 * batch * hs, 1f);
        float[] x = random(rnd, batch * steps * in, 1f);
        FastLstm one = new FastLstm(config, cells, kernels(), 1);
        float[] out = new float[batch * steps * hs], hN = new float[2 * batch * hs], cN = new float[2 * batch * hs];
        one.forward(one.workspace(batch, steps), x, h0, c0, out, hN, cN);

        FastLstm.Stream stream = new FastLstm(config, cells, kernels(), 2).stream(batch);
        if (recheck > 0) {
            stream.calibration(recheck, 2);
        }
        stream.setState(h0, c0);
        float[] xt = new float[batch * in], yt = new float[batch * hs];
        Tolerance tol = new Tolerance(2e-7 * (in + hs + 3));
        int split = 0, whole = 0;
        for (int t = 0; t < steps; t++) {
            whole += stream.wantsSplit() ? 0 : 1;
            if (t % 10 == 5) {
                Thread.sleep(2);
            } else if (stream.wantsSplit()) {
                // the helper starts asleep and parks when idle; wake it and wait (untimed, up to 10 s) until it spins
                long until = System.nanoTime() + 10_000_000_000L;
                while (!stream.splitReady() && System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                split += stream.splitReady() ? 1 : 0;
            }
            for (int b = 0; b < batch; b++) {
                System.arraycopy(x, (b * steps + t) * in, xt, b * in, in);
            }
            stream.step(xt, yt);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < hs; j++) {
                    double e = out[(b * steps + t) * hs + j];
                    if (!tol.accepts(e, yt[b * hs + j])) {
                        fail("split stream step " + t + " row " + b + " unit " + j + ": expected " + e + ", got " + yt[b * hs + j]
                                + " (seed " + seed + ")");
                    }
                }
            }
        }
        assertTrue(split > 0, "the stream never split a step over two threads");
        assertTrue(recheck == 0 || whole > 0, "the stream never timed a whole step");
        float[] h = new float[hN.length], c = new float[cN.length];
        stream.getState(h, c);
        for (int i = 0; i < c.length; i++) {
            assertTrue(tol.accepts(hN[i], h[i]), "split stream h_n[" + i + "]: " + hN[i] + " vs " + h[i] + " (seed " + seed + ")");
            assertTrue(tol.accepts(cN[i], c[i]), "split stream c_n[" + i + "]: " + cN[i] + " vs " + c[i] + " (seed " + seed + ")");
        }
    }

    /**
     * The stream keeps splitting only while split steps are at least 10% faster than whole ones. A fake clock makes
     * each timed step take what the test says: split steps slow, then fast, and the stream must follow both ways.
     */
    @ParameterizedTest(name = "split steps take {0} ns, whole steps 100 ns")
    @ValueSource(longs = {300, 50})
    void streamStopsSplittingWhenItDoesNotPay(long splitNanos) {
        LstmConfig config = new LstmConfig(7, 130, 1, false, 0, true);  // large enough to split
        FastLstm.Stream stream = new FastLstm(config, randomCells(config, new SplittableRandom(11)), kernels(), 2).stream(1);
        long[] now = {0};
        boolean[] next = {false};
        // each read advances the clock by the time of the step in hand, so a timed step's two reads are that far apart
        stream.calibration(1000, 4, () -> now[0] += next[0] ? splitNanos : 100);
        float[] x = new float[7], y = new float[130];
        int splitAfter = 0, wholeAfter = 0;
        // the decision comes after 12 steps, or 8 more for each time the helper fell asleep in a timed window (a busy
        // machine can hold this thread off longer than the helper's idle time): only the last 30 of 60 steps count
        for (int t = 0; t < 60; t++) {
            // wait (up to 10 s) for the helper when a split is wanted, so timed windows are not restarted
            long until = System.nanoTime() + 10_000_000_000L;
            while (stream.wantsSplit() && !stream.splitReady() && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            next[0] = stream.wantsSplit();
            stream.step(x, y);
            if (t >= 30) {
                splitAfter += stream.wantsSplit() ? 1 : 0;
                wholeAfter += stream.wantsSplit() ? 0 : 1;
            }
        }
        assertEquals(Boolean.valueOf(splitNanos < 90), stream.splitPays(), "decision after split steps of " + splitNanos + " ns vs whole of 100 ns");
        assertEquals(splitNanos < 90 ? 30 : 0, splitAfter, "steps meant to split after the decision");
        assertEquals(splitNanos < 90 ? 0 : 30, wholeAfter, "steps meant to run whole after the decision");
    }

    @Test
    void reusedWorkspaceGivesTheSameResult() {
        long seed = 0x5EED_4000L;
        LstmConfig config = new LstmConfig(4, 9, 2, true, 3, true);
        SplittableRandom rnd = new SplittableRandom(seed);
        FastLstm fast = new FastLstm(config, randomCells(config, rnd), kernels(), 2);
        FastLstm.Workspace ws = fast.workspace(2, 3);
        float[] x = random(rnd, 2 * 3 * 4, 1f);
        float[] out1 = new float[2 * 3 * 6], out2 = new float[out1.length];
        float[] hN = new float[4 * 2 * 3], cN = new float[4 * 2 * 9];
        float[] h0 = random(rnd, hN.length, 1f), c0 = random(rnd, cN.length, 1f);
        fast.forward(ws, x, h0, c0, out1, hN, cN);
        fast.forward(ws, random(rnd, x.length, 1f), null, null, out2, hN, cN);
        fast.forward(ws, x, h0, c0, out2, hN, cN);
        for (int i = 0; i < out1.length; i++) {
            assertEquals(out1[i], out2[i], "output[" + i + "] after reuse (seed " + seed + ")");
        }
    }

    @Test
    void wrongLengthsAndBidirectionalStreamsAreRefused() {
        LstmConfig config = new LstmConfig(4, 9, 1, true, 0, true);
        FastLstm fast = new FastLstm(config, randomCells(config, new SplittableRandom(1)), kernels(), 1);
        FastLstm.Workspace ws = fast.workspace(2, 3);
        InputException e = assertThrows(InputException.class,
                () -> fast.forward(ws, new float[5], null, null, new float[2 * 3 * 18], new float[2 * 2 * 9], new float[2 * 2 * 9]));
        assertTrue(e.getMessage().contains("x: expected 24 values"), e.getMessage());
        InputException s = assertThrows(InputException.class, () -> fast.stream(1));
        assertTrue(s.getMessage().contains("bidirectional"), s.getMessage());
    }

    // ---- PyTorch's fixtures through the fast path ----

    static Stream<String> fixtures() throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> manifest = (Map<String, Object>) Json.parse(Files.readString(FIXTURES.resolve("manifest.json")));
        @SuppressWarnings("unchecked")
        List<Object> cases = (List<Object>) manifest.get("cases");
        assertTrue(cases.size() >= 20, "manifest lists " + cases.size() + " cases");
        return cases.stream().map(Object::toString);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void pytorchFixturesThroughTheFastPath(String name) throws IOException {
        Path dir = FIXTURES.resolve(name);
        @SuppressWarnings("unchecked")
        Map<String, Object> info = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("case.json")));
        LstmModel model = ModelLoader.load(dir.resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
        if (model.lstm().precision() == Precision.F64) {
            // float64 stays on the reference path, which the fixture tests of the reference cover
            assertTrue(!model.lstm().usesFastPath(), name + ": float64 must use the reference engine");
            return;
        }
        String layout = (String) info.get("layout");
        Tensor x = Npy.read(dir.resolve("input.npy")).to(DType.F32);
        int ld = model.lstm().config().numLayers() * model.lstm().config().directions();
        if (layout.equals("unbatched")) {
            x = x.reshape(1, x.size(0), x.size(1));
        } else if (layout.equals("seq_first")) {
            x = x.swapFirstTwo();
        }
        int batch = x.size(0);
        Tensor h0 = null, c0 = null;
        if (Files.exists(dir.resolve("h0.npy"))) {
            h0 = Npy.read(dir.resolve("h0.npy")).to(DType.F32);
            c0 = Npy.read(dir.resolve("c0.npy")).to(DType.F32);
            h0 = h0.reshape(ld, batch, h0.size(-1));
            c0 = c0.reshape(ld, batch, c0.size(-1));
        }
        for (int threads : new int[] {1, 2}) {
            FastLstm fast = new FastLstm(model.lstm().config(), model.lstm().cells(), kernels(), threads);
            LstmOutput out = fast.forward(x, h0, c0);
            Tensor output = out.output();
            if (layout.equals("unbatched")) {
                output = output.reshape(output.size(1), output.size(2));
            } else if (layout.equals("seq_first")) {
                output = output.swapFirstTwo();
            }
            Tensor expectedOut = Npy.read(dir.resolve("output.npy"));
            Tensor expectedH = Npy.read(dir.resolve("h_n.npy"));
            Tensor expectedC = Npy.read(dir.resolve("c_n.npy"));
            String label = name + " " + fast;
            check(label + " output", Tolerance.F32, expectedOut, output);
            check(label + " h_n", Tolerance.F32, expectedH, out.hN().reshape(expectedH.shape()));
            check(label + " c_n", Tolerance.F32, expectedC, out.cN().reshape(expectedC.shape()));
        }
    }

    // ---- helpers ----

    static void check(String label, Tolerance tol, Tensor expected, Tensor actual) {
        Tolerance.Report r = tol.check(label, expected, actual);
        if (!r.ok()) {
            fail(r.toString());
        }
    }

    private static void assertClose(String label, double expected, float actual, double tol) {
        if (!(Math.abs(actual - expected) <= tol)) {
            fail(label + ": expected " + expected + ", got " + actual + " (|Δ| = " + Math.abs(actual - expected) + " > " + tol + ")");
        }
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    static float[] random(SplittableRandom rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    static Tensor tensor(SplittableRandom rnd, float scale, int... shape) {
        return Tensor.of(shape, random(rnd, (int) Tensor.elementCount(shape), scale));
    }

    /** Weights drawn as PyTorch initialises them: U(-1/√H, 1/√H). */
    static List<CellWeights> randomCells(LstmConfig config, SplittableRandom rnd) {
        List<CellWeights> cells = new ArrayList<>();
        int h4 = 4 * config.hiddenSize();
        float s = (float) (1 / Math.sqrt(config.hiddenSize()));
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.directions(); dir++) {
                int in = config.layerInputSize(layer);
                cells.add(new CellWeights(tensor(rnd, s, h4, in), tensor(rnd, s, h4, config.outputHiddenSize()),
                        config.bias() ? tensor(rnd, s, h4) : null, config.bias() ? tensor(rnd, s, h4) : null,
                        config.projSize() > 0 ? tensor(rnd, s, config.projSize(), config.hiddenSize()) : null));
            }
        }
        return cells;
    }
}
