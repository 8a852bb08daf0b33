package dev.lstm4j.internal.kernel;

import dev.lstm4j.CellWeights;
import dev.lstm4j.DType;
import dev.lstm4j.InputException;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.internal.LstmChecks;
import dev.lstm4j.internal.LstmEngine;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;

import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The fast float32 LSTM: same result as {@link dev.lstm4j.reference.ReferenceLstm#forward}, within a
 * tolerance scaled by the reduction length, proven by {@code KernelContractTest} (against the reference, and
 * every PyTorch fixture through both kernels).
 *
 * <p>Per layer and direction: the input projections of a block of steps as one product {@code (T·B, I_l)·(I_l, 4H)}
 * with both biases folded in, then the recurrence, one {@code (B, Hh)·(Hh, 4H)} product and one fused gate
 * pass per step, writing h straight into the layer's output (the last layer into the result). With 16 or more
 * batch rows per thread each step is instead one product over {@code [x_t | h_{t-1}]}. Weights are packed once,
 * here, with the g rows doubled (see {@link #doubleG}). Work buffers live in a {@link Workspace}; nothing is
 * allocated per step.
 *
 * <p>Threads split each layer's recurrences by direction and batch rows (batch rows never meet within a layer,
 * so the recurrence needs no barrier per step), posted to a {@link StepTeam} as the workspace's reused
 * {@link RowWork}, so a pass with a workspace allocates nothing; a small batch of a unidirectional model without
 * projection splits each step's gate columns instead ({@link #forwardByColumns}), and a {@link Stream} with 2+
 * threads splits its steps over a helper thread while that pays.
 *
 * <p>Legend: B batch, T steps, I input, I_l layer input, H hidden, P projection, Hh = P if projected else H,
 * L layers, D directions, nPad = 4H rounded up to whole kernel panels. Buffers in the recurrence are
 * step-major, (T, B, ·), so one step's batch rows are contiguous.
 */
public final class FastLstm implements LstmEngine {
    /** System property for the default thread count (default: available processors). */
    public static final String THREADS_PROPERTY = "lstm4j.threads";
    /** Multiply-adds below which a phase runs on the calling thread alone. */
    private static final long PARALLEL_MIN_WORK = 1L << 18;
    /** Recurrent multiply-adds per batch row and step from which small batches split the gate columns over threads. */
    private static final long SPLIT_MIN_PRODUCT = 1L << 16;
    /**
     * Batch rows (of one thread's slice) from which each step is one product over [x_t | h_{t-1}]; with fewer rows each
     * step's extra read of W_ih costs more than it saves (measured on W4 and W5: docs/performance.md, History).
     */
    private static final int FUSED_MIN_ROWS = 16;
    /** Pre-activations computed ahead of their steps: ~1 MB, the size of a core's L2 here. */
    private static final long BLOCK_FLOATS = 1L << 18;

    private final LstmConfig config;
    private final LstmKernels kernels;
    private final Cell[] cells;
    private final Workers workers;
    private final int d, hs, hh, layers, nPad, pPad;
    /** Hidden units per gate chunk (see {@link #interleave}); a chunk's four gates fill two kernel panels. */
    private final int unit, chunks;
    private final long blockFloats;
    /** Workspaces of the Tensor API, per thread (see {@link #cachedWorkspace}). */
    private final ThreadLocal<Workspace[]> workspaces = ThreadLocal.withInitial(() -> new Workspace[CACHED_WORKSPACES]);
    private static final int CACHED_WORKSPACES = 2;
    /** A whole step longer than this (half the helpers' 200 µs of spinning) would always find them asleep after it. */
    private static final long LONG_STEP_NANOS = 100_000;
    /** 64 MB: larger passes allocate their workspace per call, which costs them little. */
    private static final long CACHED_MAX_FLOATS = 1L << 24;

    /** The packed weights of one layer and direction. */
    private static final class Cell {
        final int in;
        final PackedMatrix wIh;   // I_l → 4H
        final PackedMatrix wHh;   // Hh → 4H
        final PackedMatrix wHr;   // H → P, or null
        final float[] bias;       // b_ih + b_hh, (nPad,), or null
        private volatile PackedMatrix wCat;  // [W_ih | W_hh]: I_l + Hh → 4H, for streaming; packed on first use

        Cell(LstmKernels k, CellWeights w, int unit) {
            int h4 = w.weightIh().size(0);
            in = w.weightIh().size(1);
            // packed straight from the tensors, rows in interleave's order with the g rows doubled: no other copy
            wIh = k.pack(interleavedRows(w.weightIh(), h4 / 4, unit), h4, in);
            wHh = k.pack(interleavedRows(w.weightHh(), h4 / 4, unit), h4, w.weightHh().size(1));
            wHr = w.hasProjection() ? k.pack((r, dst) -> w.weightHr().copyFloats(r * w.weightHr().size(1), dst, 0, dst.length),
                    w.weightHr().size(0), w.weightHr().size(1)) : null;
            if (w.hasBias()) {
                bias = new float[wIh.paddedOutputs()];
                float[] bi = interleave(w.biasIh().toFloatArray(), h4 / 4, 1, unit);
                float[] bh = interleave(w.biasHh().toFloatArray(), h4 / 4, 1, unit);
                for (int j = 0; j < h4; j++) {
                    bias[j] = bi[j] + bh[j];
                }
                doubleG(bias, h4 / 4, 1, unit);
            } else {
                bias = null;
            }
        }

        PackedMatrix concatenated(LstmKernels k) {
            PackedMatrix m = wCat;
            if (m == null) {
                int h4 = wIh.outputs(), hSize = wHh.depth();
                // read back from the packed weights (already interleaved and doubled), so no unpacked copy is kept
                m = k.pack((r, dst) -> {
                    for (int c = 0; c < in; c++) {
                        dst[c] = wIh.get(r, c);
                    }
                    for (int c = 0; c < hSize; c++) {
                        dst[in + c] = wHh.get(r, c);
                    }
                }, h4, in + hSize);
                wCat = m;
            }
            return m;
        }
    }

    /**
     * Row r of {@link #interleave}'s order, read from the original weight (4H, cols), with the g rows doubled as
     * {@link #doubleG} does.
     */
    static PackedMatrix.RowSource interleavedRows(Tensor w, int hidden, int unit) {
        int cols = w.size(1);
        return (r, dst) -> {
            int u0 = r / (4 * unit) * unit, uq = Math.min(unit, hidden - u0), off = r - 4 * u0;
            int gate = off / uq, u = off % uq;
            w.copyFloats((gate * hidden + u0 + u) * cols, dst, 0, cols);
            if (gate == 2) {
                for (int c = 0; c < cols; c++) {
                    dst[c] *= 2f;
                }
            }
        };
    }

    /**
     * Reorders the 4H gate rows [i | f | g | o] of a weight (4H, cols) into chunks of {@code unit} hidden units, each
     * chunk holding its units' four gate rows: [i f g o of units 0..u-1 | i f g o of units u..2u-1 | ...] (the last
     * chunk may be shorter). A thread that computes a range of chunks then has all four gates of its units, so
     * it can run their gate pass without waiting for the other threads.
     */
    static float[] interleave(float[] w, int hidden, int cols, int unit) {
        float[] r = new float[w.length];
        for (int u0 = 0; u0 < hidden; u0 += unit) {
            int uq = Math.min(unit, hidden - u0);
            for (int gate = 0; gate < 4; gate++) {
                for (int u = 0; u < uq; u++) {
                    System.arraycopy(w, (gate * hidden + u0 + u) * cols, r, (4 * u0 + gate * uq + u) * cols, cols);
                }
            }
        }
        return r;
    }

    /**
     * Doubles the g rows of an {@link #interleave}d weight (4H, cols), in place: the product then yields 2·z_g
     * exactly, and the gate pass gets tanh(z_g) = 2σ(2·z_g) − 1 from the same σ pass as i, f and o.
     */
    static float[] doubleG(float[] w, int hidden, int cols, int unit) {
        for (int u0 = 0; u0 < hidden; u0 += unit) {
            int uq = Math.min(unit, hidden - u0);
            for (int i = (4 * u0 + 2 * uq) * cols, end = (4 * u0 + 3 * uq) * cols; i < end; i++) {
                w[i] *= 2f;
            }
        }
        return w;
    }

    /**
     * Whether this path can run these weights: doubling the g rows must stay finite, so |w| and |b| must be
     * below 2^126 there (a real model's are many orders smaller; the reference path runs the others).
     */
    public static boolean supports(List<CellWeights> cells) {
        for (CellWeights w : cells) {
            int hidden = w.weightIh().size(0) / 4;
            for (Tensor t : w.hasBias() ? List.of(w.weightIh(), w.weightHh(), w.biasIh(), w.biasHh()) : List.of(w.weightIh(), w.weightHh())) {
                int cols = t.elementCount() / (4 * hidden);
                for (int i = 2 * hidden * cols; i < 3 * hidden * cols; i++) {
                    if (Math.abs((float) t.at(i)) >= 0x1p126f) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** The gate pass of one batch row over unit chunks q0..q1-1 (pre-activations in {@link #interleave}'s order). */
    private void gatesRow(float[] z, int zOff, float[] c, int cOff, float[] h, int hOff, int q0, int q1) {
        int u0 = q0 * unit, u1 = Math.min(hs, q1 * unit);
        kernels.gates(z, zOff + 4 * u0, u1 - u0, unit, c, cOff + u0, h, hOff + u0);
    }

    /** Kernels chosen by {@link Kernels#get()}, threads from {@code -Dlstm4j.threads} or the processor count. */
    public FastLstm(LstmConfig config, List<CellWeights> cells) {
        this(config, cells, Kernels.get(), defaultThreads());
    }

    /**
     * @param threads at most this many threads run one forward pass (1: the caller's only)
     * @throws dev.lstm4j.ModelException when a weight does not fit the config
     */
    public FastLstm(LstmConfig config, List<CellWeights> cells, LstmKernels kernels, int threads) {
        this(config, cells, kernels, threads, BLOCK_FLOATS);
    }

    /** As above, with the size of a block of pre-activations in floats (tests make it tiny to cut many blocks). */
    FastLstm(LstmConfig config, List<CellWeights> cells, LstmKernels kernels, int threads, long blockFloats) {
        LstmChecks.validate(config, cells, "");
        this.blockFloats = blockFloats;
        Validate.model(threads >= 1, "threads must be at least 1, got " + threads);
        Validate.model(supports(cells), "the fast path packs the g rows of the weights doubled, and this model has g-row values of"
                + " magnitude 2^126 or more; run it on the reference path (EngineChoice.REFERENCE)");
        this.config = config;
        this.kernels = kernels;
        this.d = config.directions();
        this.hs = config.hiddenSize();
        this.hh = config.outputHiddenSize();
        this.layers = config.numLayers();
        this.unit = Math.max(1, kernels.panelWidth() / 2);
        this.chunks = (hs + unit - 1) / unit;
        this.cells = new Cell[cells.size()];
        for (int i = 0; i < cells.size(); i++) {
            this.cells[i] = new Cell(kernels, cells.get(i), unit);
        }
        this.nPad = this.cells[0].wIh.paddedOutputs();
        this.pPad = this.cells[0].wHr == null ? 0 : this.cells[0].wHr.paddedOutputs();
        this.workers = Workers.forThreads(threads);
    }

    /** {@code -Dlstm4j.threads}, else the number of available processors. */
    public static int defaultThreads() {
        return Math.max(1, Integer.getInteger(THREADS_PROPERTY, Runtime.getRuntime().availableProcessors()));
    }

    public LstmConfig config() {
        return config;
    }

    public LstmKernels kernels() {
        return kernels;
    }

    public int threads() {
        return workers.threads();
    }

    @Override
    public String toString() {
        return "FastLstm[" + kernels.name() + ", threads=" + threads() + "]";
    }

    // ---- the Tensor API of LstmEngine ----

    @Override
    public LstmOutput forward(Tensor x, Tensor h0, Tensor c0) {
        return forwardPacked(x, h0, c0, null);
    }

    @Override
    public LstmOutput forwardPacked(Tensor x, Tensor h0, Tensor c0, int[] lengths) {
        int batch = x.size(0), steps = x.size(1), ld = layers * d;
        Workspace ws = cachedWorkspace(batch, steps);
        float[] in = ws.input();
        x.copyFloats(0, in, 0, in.length);
        float[] out = new float[batch * steps * d * hh];
        float[] hN = new float[ld * batch * hh];
        float[] cN = new float[ld * batch * hs];
        forward(ws, in, lengths, h0 == null ? null : h0.toFloatArray(), c0 == null ? null : c0.toFloatArray(), out, hN, cN);
        // the arrays are new and go nowhere else: wrapped, not copied
        return new LstmOutput(Tensor.wrap(DType.F32, new int[] {batch, steps, d * hh}, out), Tensor.wrap(DType.F32, new int[] {ld, batch, hh}, hN),
                Tensor.wrap(DType.F32, new int[] {ld, batch, hs}, cN));
    }

    /**
     * A workspace for the calling thread: each thread keeps its last {@link #CACHED_WORKSPACES} workspaces of this
     * engine (of at most {@link #CACHED_MAX_FLOATS} floats each), so repeated calls with the same shape allocate only
     * their results. A thread's workspaces go when the thread or the engine does.
     */
    private Workspace cachedWorkspace(int batch, int steps) {
        Workspace[] cache = workspaces.get();
        for (int i = 0; i < cache.length; i++) {
            Workspace ws = cache[i];
            if (ws != null && ws.batch == batch && ws.steps == steps) {
                System.arraycopy(cache, 0, cache, 1, i);
                cache[0] = ws;
                return ws;
            }
        }
        Workspace ws = new Workspace(batch, steps);
        if (ws.floats() <= CACHED_MAX_FLOATS) {
            System.arraycopy(cache, 0, cache, 1, cache.length - 1);
            cache[0] = ws;
        }
        return ws;
    }

    // ---- the array API: no allocation once a workspace exists ----

    /** Work buffers for batches of {@code batch} rows and {@code steps} steps; reuse it, one thread at a time. */
    public final class Workspace {
        final int batch, steps;
        final float[] xT;       // (T, B, I) step-major copy of the input, when B > 1
        final float[] y;        // (T, B, D*Hh): a layer's output, which the next layer reads (null for one layer)
        final float[] y2;       // a second one when the next layer could overwrite rows it still has to read
        final int blockSteps;   // steps whose input projections are computed together (all T when they fit in ~1 MB)
        final float[][] gx;     // per direction, or per column-split thread (blockSteps, B, nPad): input projections, then pre-activations
        final float[][] c;      // per direction, or per column-split thread (B, H)
        final float[][] h;      // per direction (B, Hh): h between steps, for sequences of different lengths
        final float[][] hid;    // per direction (B, H): h before projection
        final float[][] pr;     // per direction (B, pPad): projected h
        final int columns;      // threads that split each step's gate columns, or 1 (see columnParts)
        final SplitMeter meter; // whether splitting the columns pays, with columns > 1
        boolean longSteps;      // a whole step outlasts the helpers' idle time: split without waiting for them to wake
        final ColumnWork columnWork;
        final RowWork rowWork = new RowWork(this);   // the row split's pieces, reused by every pass (no allocation)

        Workspace(int batch, int steps) {
            Validate.input(batch > 0 && steps > 0, "workspace: batch and steps must be positive, got " + batch + " and " + steps);
            this.batch = batch;
            this.steps = steps;
            long rows = (long) batch * steps;
            Validate.input(rows * Math.max(nPad, d * hh) < Integer.MAX_VALUE - 8, "input of " + batch + " × " + steps
                    + " steps is too large for one forward pass; split the batch");
            xT = batch > 1 ? new float[(int) rows * config.inputSize()] : null;
            blockSteps = blockSteps(batch, steps);
            columns = columnParts(batch, steps);
            meter = columns > 1 ? new SplitMeter(1 << 13, 32, 500_000) : null;
            columnWork = columns > 1 ? new ColumnWork(this, columns) : null;
            // the last layer writes the result itself, except when the column split runs a batch of several rows
            y = layers > 1 || columns > 1 && batch > 1 ? new float[(int) rows * d * hh] : null;
            // the column split gives each thread its own pre-activations and cell state: threads writing neighbouring
            // columns of one array would share the cache lines at the seams, which travel between cores every step
            gx = new float[Math.max(d, columns)][blockSteps * batch * nPad];
            // one direction writes only rows it has already read, but the other direction of the next layer reads
            // the whole row in its own time: bidirectional stacks alternate between two buffers
            // (the column split has the same need: one thread may start a step while the other still projects)
            y2 = (d == 2 || columns > 1) && layers > 1 ? new float[(int) rows * d * hh] : null;
            c = new float[Math.max(d, columns)][batch * hs];
            h = new float[d][batch * hh];
            hid = pPad > 0 ? new float[d][batch * hs] : null;
            pr = pPad > 0 ? new float[d][batch * pPad] : null;
        }

        private float[] input;  // (B, T, I): the Tensor API's copy of the input

        float[] input() {
            if (input == null) {
                input = new float[batch * steps * config.inputSize()];
            }
            return input;
        }

        /** Floats held, for the cache's bound. */
        long floats() {
            long n = (long) batch * steps * config.inputSize() * (xT != null ? 2 : 1);
            n += y == null ? 0 : y.length;
            n += y2 == null ? 0 : y2.length;
            for (float[][] a : new float[][][] {gx, c, h, hid, pr}) {
                if (a != null) {
                    for (float[] b : a) {
                        n += b.length;
                    }
                }
            }
            return n;
        }

        public int batch() {
            return batch;
        }

        FastLstm owner() {
            return FastLstm.this;
        }

        public int steps() {
            return steps;
        }
    }

    /** A workspace for this engine. */
    public Workspace workspace(int batch, int steps) {
        return new Workspace(batch, steps);
    }

    /**
     * The forward pass over arrays, as {@code lstm(x, (h0, c0))} with {@code batch_first=True}.
     *
     * @param x   (B, T, I)
     * @param h0  (L*D, B, Hh), or null for zeros
     * @param c0  (L*D, B, H), or null for zeros
     * @param out (B, T, D*Hh), written
     * @param hN  (L*D, B, Hh), written
     * @param cN  (L*D, B, H), written
     */
    public void forward(Workspace ws, float[] x, float[] h0, float[] c0, float[] out, float[] hN, float[] cN) {
        forward(ws, x, null, h0, c0, out, hN, cN);
    }

    /**
     * As above, over sequences of different lengths, as PyTorch runs a packed sequence
     * ({@link LstmEngine#forwardPacked}): row b uses steps 0..lengths[b]-1 only, padded outputs are 0.
     *
     * @param lengths (B,), each in 1..T, or null for all T
     */
    public void forward(Workspace ws, float[] x, int[] lengths, float[] h0, float[] c0, float[] out, float[] hN, float[] cN) {
        int batch = ws.batch, steps = ws.steps, ld = layers * d;
        if (ws.owner() != this) {
            throw new InputException("workspace: made by another engine; use this engine's workspace(batch, steps)");
        }
        checkLength("x", x, batch * steps * config.inputSize());
        checkLength("out", out, batch * steps * d * hh);
        checkLength("hN", hN, ld * batch * hh);
        checkLength("cN", cN, ld * batch * hs);
        if (h0 != null) {
            checkLength("h0", h0, ld * batch * hh);
        }
        if (c0 != null) {
            checkLength("c0", c0, ld * batch * hs);
        }
        if (lengths != null) {
            if (lengths.length != batch) {
                throw new InputException("lengths: expected " + batch + " (one per batch row), got " + lengths.length);
            }
            boolean full = true;
            for (int b = 0; b < batch; b++) {
                if (lengths[b] < 1 || lengths[b] > steps) {
                    throw new InputException("lengths[" + b + "] = " + lengths[b] + ": each length must be in 1.." + steps);
                }
                full &= lengths[b] == steps;
            }
            lengths = full ? null : lengths;
        }
        float[] in = x;
        if (batch > 1) {
            transpose(x, ws.xT, batch, steps, config.inputSize());
            in = ws.xT;
        }
        if (ws.columns > 1 && lengths == null) {
            in = forwardByColumns(ws, in, h0, c0, out, hN, cN);
            if (batch > 1) {
                transpose(in, out, steps, batch, d * hh);
            }
            return;
        }
        for (int layer = 0; layer < layers; layer++) {
            // the last layer writes the result in its (B, T, ·) layout; the others write (T, B, ·) for the next layer
            boolean last = layer == layers - 1;
            float[] y = last ? out : output(ws, layer, out);
            recurrences(ws, layer, in, y, last ? d * hh : batch * d * hh, last ? steps * d * hh : d * hh, lengths, h0, c0, hN, cN);
            in = y;
        }
    }

    /** Where a layer writes its output; batch 1: (T, B, ·) and (B, T, ·) are one layout, so the last layer writes the result. */
    private float[] output(Workspace ws, int layer, float[] out) {
        return layer == layers - 1 && ws.batch == 1 ? out : ws.y2 != null && layer % 2 == 1 ? ws.y2 : ws.y;
    }

    /**
     * How many threads split each step's gate columns for this batch and length: more than 1 for a small batch (one
     * slice of rows) of a unidirectional stack without projection whose recurrent product is large (at batch 1 a
     * step is bound by reading W_hh, and each core then reads only its part).
     */
    private int columnParts(int batch, int steps) {
        int slices = chunks(batch, (long) batch * steps * hh * nPad * d, Math.max(1, usableThreads() / d));
        int parts = Math.min(usableThreads(), chunks / 2);
        return slices == 1 && d == 1 && pPad == 0 && parts > 1 && (long) hh * nPad >= SPLIT_MIN_PRODUCT ? parts : 1;
    }

    /**
     * Steps per block of input projections: all of them when (T, B, nPad) fits in {@code blockFloats}, else as many
     * as fit (at least 1), so a block's pre-activations are still cached when its steps read them.
     */
    private int blockSteps(int batch, int steps) {
        return (int) Math.max(1, Math.min(steps, blockFloats / ((long) batch * nPad)));
    }

    /**
     * A layer: the input projections and the recurrence, split by direction and batch rows. It writes h of step t,
     * batch row b at {@code y[t*yStep + b*yRow + dir*Hh]}: (T, B, ·) for the next layer, (B, T, ·) for the result.
     */
    private void recurrences(Workspace ws, int layer, float[] in, float[] y, int yStep, int yRow, int[] lengths, float[] h0, float[] c0,
                             float[] hN, float[] cN) {
        int batch = ws.batch;
        long work = (long) batch * ws.steps * hh * nPad * d;
        // while the kernels are still being compiled the pass stays on this thread: a second computing thread took the
        // core the JIT needed (a cold W4 run: 3.4-3.8 s at 2 threads, 2.9 s at 1)
        int slices = work < PARALLEL_MIN_WORK || !kernels.compiled() ? 1 : chunks(batch, work, Math.max(1, usableThreads() / d));
        RowWork w = ws.rowWork;
        w.begin(layer, slices, in, y, yStep, yRow, lengths, h0, c0, hN, cN);
        try {
            workers.run(d * slices, w);
        } finally {
            w.end();
        }
    }

    /**
     * The pieces of one layer of {@link #recurrences}: piece p is direction p % D over slice p / D of the batch rows.
     * One per workspace, filled for each layer, so a pass posts its pieces without allocating (a capturing lambda would
     * allocate one per layer).
     */
    private final class RowWork implements StepTeam.Work {
        final Workspace ws;
        int layer, slices, yStep, yRow;
        float[] in, y, h0, c0, hN, cN;
        int[] lengths;

        RowWork(Workspace ws) {
            this.ws = ws;
        }

        void begin(int layer, int slices, float[] in, float[] y, int yStep, int yRow, int[] lengths, float[] h0, float[] c0, float[] hN,
                   float[] cN) {
            this.layer = layer;
            this.slices = slices;
            this.in = in;
            this.y = y;
            this.yStep = yStep;
            this.yRow = yRow;
            this.lengths = lengths;
            this.h0 = h0;
            this.c0 = c0;
            this.hN = hN;
            this.cN = cN;
        }

        /** Drops the caller's arrays, so the cached workspace does not keep them reachable. */
        void end() {
            in = y = h0 = c0 = hN = cN = null;
            lengths = null;
        }

        @Override
        public void run(int piece) {
            int batch = ws.batch, dir = piece % d, b0 = split(batch, slices, piece / d), bn = split(batch, slices, piece / d + 1) - b0;
            if (lengths == null) {
                recurrence(ws, layer, dir, b0, bn, in, y, yStep, yRow, h0, c0, hN, cN);
            } else {
                recurrencePacked(ws, layer, dir, b0, bn, in, y, yStep, yRow, lengths, h0, c0, hN, cN);
            }
        }
    }

    /**
     * The steps of one layer and direction for batch rows b0 .. b0+bn-1, a block of steps at a time: first the
     * block's input projections (one product when the rows are contiguous), then its steps. Output layout as in
     * {@link #recurrences}, with ldY the row stride.
     */
    private void recurrence(Workspace ws, int layer, int dir, int b0, int bn, float[] in, float[] y, int yStep, int ldY, float[] h0,
                            float[] c0, float[] hN, float[] cN) {
        Cell cell = cells[layer * d + dir];
        int batch = ws.batch, steps = ws.steps, ld = layer * d + dir, inL = cell.in, block = ws.blockSteps;
        float[] gx = ws.gx[dir], c = ws.c[dir];
        if (c0 != null) {
            System.arraycopy(c0, (ld * batch + b0) * hs, c, b0 * hs, bn * hs);
        } else {
            Arrays.fill(c, b0 * hs, (b0 + bn) * hs, 0f);
        }
        // many rows: each step is one product over [x_t | h_{t-1}] (compute-bound, every weight read feeds 16+ rows),
        // instead of a separate product of the input projections (shorter, K = I_l, so less efficient) whose results
        // make a round trip through the cache
        boolean fused = bn >= FUSED_MIN_ROWS;
        PackedMatrix wCat = fused ? cell.concatenated(kernels) : null;
        // forward runs t = 0..T-1, reverse runs t = T-1..0
        int tb0 = 0;
        for (int n = 0; n < steps; n++) {
            int t = dir == 0 ? n : steps - 1 - n;
            if (fused) {
                int zRow = b0 * nPad, xRow = (t * batch + b0) * inL;
                if (n > 0) {
                    int tPrev = dir == 0 ? t - 1 : t + 1;
                    kernels.gemm2(in, xRow, inL, inL, y, tPrev * yStep + b0 * ldY + dir * hh, ldY, bn, wCat, cell.bias, gx, zRow, nPad);
                } else if (h0 != null) {
                    kernels.gemm2(in, xRow, inL, inL, h0, (ld * batch + b0) * hh, hh, bn, wCat, cell.bias, gx, zRow, nPad);
                } else {
                    kernels.gemm(in, xRow, inL, bn, cell.wIh, cell.bias, gx, zRow, nPad, false);
                }
                gatePass(ws, cell, dir, b0, bn, gx, zRow, c, y, t * yStep + b0 * ldY + dir * hh, ldY);
                continue;
            }
            if (n % block == 0) {
                tb0 = projectBlock(ws, cell, dir, b0, bn, in, n, t);
            }
            int zRow = ((t - tb0) * batch + b0) * nPad;
            // recurrent product: z = gx_t + h_{t-1} W_hhᵀ (h_{-1} = h0; zero h0 adds nothing)
            if (n > 0) {
                int tPrev = dir == 0 ? t - 1 : t + 1;
                // every other step reads W_hh's panels backwards, starting with those the last step left in cache
                kernels.gemm(y, tPrev * yStep + b0 * ldY + dir * hh, ldY, bn, cell.wHh, 0, cell.wHh.panels(), null, gx, zRow, nPad, true,
                        (n & 1) == 1);
            } else if (h0 != null) {
                kernels.gemm(h0, (ld * batch + b0) * hh, hh, bn, cell.wHh, null, gx, zRow, nPad, true);
            }
            gatePass(ws, cell, dir, b0, bn, gx, zRow, c, y, t * yStep + b0 * ldY + dir * hh, ldY);
        }
        int tLast = dir == 0 ? steps - 1 : 0;
        for (int r = 0; r < bn; r++) {
            System.arraycopy(y, tLast * yStep + (b0 + r) * ldY + dir * hh, hN, (ld * batch + b0 + r) * hh, hh);
        }
        System.arraycopy(c, b0 * hs, cN, (ld * batch + b0) * hs, bn * hs);
    }

    /**
     * {@link #recurrence} for sequences of different lengths. Each row's (h, c) lives in the workspace's state
     * buffers rather than in the previous output row: a row takes part in step t only when t < lengths[row], so the
     * forward direction freezes its state after its last step (which is then h_n, c_n), and the reverse direction
     * keeps h0, c0 until its first. Every step's products cover all the slice's rows (the idle rows' results are
     * dropped); padded outputs are 0. Output layout as in {@link #recurrences}.
     */
    private void recurrencePacked(Workspace ws, int layer, int dir, int b0, int bn, float[] in, float[] y, int yStep, int ldY,
                                  int[] lengths, float[] h0, float[] c0, float[] hN, float[] cN) {
        Cell cell = cells[layer * d + dir];
        int batch = ws.batch, steps = ws.steps, ld = layer * d + dir, block = ws.blockSteps;
        float[] gx = ws.gx[dir], c = ws.c[dir], h = ws.h[dir];
        if (c0 != null) {
            System.arraycopy(c0, (ld * batch + b0) * hs, c, b0 * hs, bn * hs);
        } else {
            Arrays.fill(c, b0 * hs, (b0 + bn) * hs, 0f);
        }
        if (h0 != null) {
            System.arraycopy(h0, (ld * batch + b0) * hh, h, b0 * hh, bn * hh);
        } else {
            Arrays.fill(h, b0 * hh, (b0 + bn) * hh, 0f);
        }
        boolean fused = bn >= FUSED_MIN_ROWS;  // as in recurrence
        PackedMatrix wCat = fused ? cell.concatenated(kernels) : null;
        int tb0 = 0;
        for (int n = 0; n < steps; n++) {
            int t = dir == 0 ? n : steps - 1 - n;
            int zRow, yRow = t * yStep + b0 * ldY + dir * hh;
            if (fused) {
                zRow = b0 * nPad;
                kernels.gemm2(in, (t * batch + b0) * cell.in, cell.in, cell.in, h, b0 * hh, hh, bn, wCat, cell.bias, gx, zRow, nPad);
            } else {
                if (n % block == 0) {
                    tb0 = projectBlock(ws, cell, dir, b0, bn, in, n, t);
                }
                zRow = ((t - tb0) * batch + b0) * nPad;
                kernels.gemm(h, b0 * hh, hh, bn, cell.wHh, null, gx, zRow, nPad, true);
            }
            for (int r = 0; r < bn; r++) {
                if (t < lengths[b0 + r]) {
                    gatesRow(gx, zRow + r * nPad, c, (b0 + r) * hs, cell.wHr == null ? h : ws.hid[dir], (b0 + r) * (cell.wHr == null ? hh : hs),
                            0, chunks);
                }
            }
            if (cell.wHr != null) {
                float[] pr = ws.pr[dir];
                kernels.gemm(ws.hid[dir], b0 * hs, hs, bn, cell.wHr, null, pr, b0 * pPad, pPad, false);
                for (int r = 0; r < bn; r++) {
                    if (t < lengths[b0 + r]) {
                        System.arraycopy(pr, (b0 + r) * pPad, h, (b0 + r) * hh, hh);
                    }
                }
            }
            for (int r = 0; r < bn; r++) {
                if (t < lengths[b0 + r]) {
                    System.arraycopy(h, (b0 + r) * hh, y, yRow + r * ldY, hh);
                } else {
                    Arrays.fill(y, yRow + r * ldY, yRow + r * ldY + hh, 0f);
                }
            }
        }
        System.arraycopy(h, b0 * hh, hN, (ld * batch + b0) * hh, bn * hh);
        System.arraycopy(c, b0 * hs, cN, (ld * batch + b0) * hs, bn * hs);
    }

    /**
     * The input projections of the block of steps that starts at step n (time t) of a recurrence, for batch rows
     * b0 .. b0+bn-1: gx = (b_ih + b_hh) + x W_ihᵀ, one product when the rows are contiguous. Returns the block's first
     * time step.
     */
    private int projectBlock(Workspace ws, Cell cell, int dir, int b0, int bn, float[] in, int n, int t) {
        int batch = ws.batch, steps = ws.steps, block = ws.blockSteps, inL = cell.in;
        float[] gx = ws.gx[dir];
        int first = dir == 0 ? t : Math.max(0, t - block + 1), count = Math.min(block, steps - n);
        if (bn == batch) {
            kernels.gemm(in, first * batch * inL, inL, count * batch, cell.wIh, cell.bias, gx, 0, nPad, false);
        } else {
            for (int s = 0; s < count; s++) {
                kernels.gemm(in, ((first + s) * batch + b0) * inL, inL, bn, cell.wIh, cell.bias, gx, (s * batch + b0) * nPad, nPad, false);
            }
        }
        return first;
    }

    /** Gates, cell state and hidden state, one fused pass per batch row, then the projection if any; h_t to y at yRow. */
    private void gatePass(Workspace ws, Cell cell, int dir, int b0, int bn, float[] gx, int zRow, float[] c, float[] y, int yRow, int ldY) {
        if (cell.wHr == null) {
            for (int r = 0; r < bn; r++) {
                gatesRow(gx, zRow + r * nPad, c, (b0 + r) * hs, y, yRow + r * ldY, 0, chunks);
            }
            return;
        }
        float[] hid = ws.hid[dir], pr = ws.pr[dir];
        for (int r = 0; r < bn; r++) {
            gatesRow(gx, zRow + r * nPad, c, (b0 + r) * hs, hid, (b0 + r) * hs, 0, chunks);
        }
        // projection: h_t = W_hr h_t
        kernels.gemm(hid, b0 * hs, hs, bn, cell.wHr, null, pr, b0 * pPad, pPad, false);
        for (int r = 0; r < bn; r++) {
            System.arraycopy(pr, (b0 + r) * pPad, y, yRow + r * ldY, hh);
        }
    }

    /**
     * The whole stack for a small batch of a unidirectional model without projection, with each step's gate columns
     * split over {@link Workspace#columns} threads (a {@link StepTeam}): each thread has a share of the unit chunks and,
     * step by step, computes its columns of the step's recurrent product from the whole h_{t-1} (and, at the start of a
     * block of steps, of the block's input projections, so they stay in its own cache), then runs its units' gate pass.
     * Each core then streams only its part of W_hh (at batch 1 a step is bound by reading W_hh). A step is complete
     * when h_t is; that also orders the layers, since a layer's projections read only its input (the previous layer's
     * output, complete after that layer's last step) and its output buffer is another one.
     *
     * <p>A step's shares are cut into pieces that the caller takes over when a helper is not running, so the pass never
     * waits for a thread that is not scheduled; and the workspace's {@link SplitMeter} times split and whole steps and
     * runs them whole while splitting does not pay (a busy or shared CPU). Another caller holding the team, or helpers
     * asleep at the start of a pass, also make steps whole (the helpers are woken for the next ones).
     *
     * @return the last layer's output
     */
    private float[] forwardByColumns(Workspace ws, float[] x, float[] h0, float[] c0, float[] out, float[] hN, float[] cN) {
        ColumnWork w = ws.columnWork;
        w.begin(x, h0, c0, out, hN, cN);
        StepTeam team = workers.team(ws.columns);
        boolean held = team.tryAcquire();
        try {
            SplitMeter meter = ws.meter;
            for (int layer = 0; layer < layers; layer++) {
                w.layer(layer);
                for (int t = 0; t < ws.steps; t++) {
                    w.t = t;
                    if (!held) {
                        w.whole();
                    } else if (t % ws.blockSteps == 0) {
                        // a block's first step also projects the block's inputs: not a step to time
                        if (meter.wanted() && (team.awake() || ws.longSteps)) {
                            team.run(w, w.pieces);
                        } else {
                            w.whole();
                        }
                    } else {
                        boolean split = meter.split(team.awake() || ws.longSteps);
                        boolean timing = meter.timing(), wake = !split && meter.wanted();
                        long t0 = timing || wake ? meter.now() : 0;
                        if (split) {
                            team.run(w, w.pieces);
                        } else {
                            w.whole();
                        }
                        long t1 = timing || wake ? meter.now() : 0;
                        meter.done(split, t0, t1);
                        if (wake) {
                            // a whole step longer than the helpers stay awake without one (H=2048 at batch 1: ms) finds
                            // them asleep at every next step, so the split never started: such steps post the step to
                            // the sleeping team instead, which wakes it (the caller runs what a helper has not claimed)
                            ws.longSteps = t1 - t0 > LONG_STEP_NANOS;
                            team.wake();
                        }
                    }
                }
            }
        } finally {
            if (held) {
                team.release();
            }
            w.end();
        }
        return output(ws, layers - 1, out);
    }

    /**
     * The work of one step of {@link #forwardByColumns}, cut into pieces (ranges of unit chunks): share s of the
     * {@code columns} shares is pieces s·K .. s·K+K-1, with its own pre-activation and cell-state buffers (threads writing
     * neighbouring columns of one array would share the cache lines at the seams, which travel between cores every
     * step). On odd steps each share runs its pieces in reverse, each reading its panels backwards, so a step starts
     * with the panels the one before left in the cache.
     */
    private final class ColumnWork implements StepTeam.Work {
        final Workspace ws;
        final int parts, perShare, pieces, panelsPerChunk;
        float[] x, h0, c0, out, hN, cN, in, y;
        int layer, t;
        Cell cell;

        ColumnWork(Workspace ws, int parts) {
            this.ws = ws;
            this.parts = parts;
            this.perShare = Math.max(1, Math.min(4, chunks / parts / 2));
            this.pieces = parts * perShare;
            this.panelsPerChunk = 4 * unit / kernels.panelWidth();
        }

        void begin(float[] x, float[] h0, float[] c0, float[] out, float[] hN, float[] cN) {
            this.x = x;
            this.h0 = h0;
            this.c0 = c0;
            this.out = out;
            this.hN = hN;
            this.cN = cN;
        }

        /** Drops the caller's arrays, so the cached workspace does not keep them reachable. */
        void end() {
            x = h0 = c0 = out = hN = cN = in = y = null;
        }

        void layer(int l) {
            layer = l;
            cell = cells[l];
            in = l == 0 ? x : output(ws, l - 1, out);
            y = output(ws, l, out);
        }

        /** The step on the calling thread alone: each share's chunks in one range (shares in reverse on odd steps). */
        void whole() {
            boolean odd = (t & 1) == 1;
            for (int i = 0; i < parts; i++) {
                int s = odd ? parts - 1 - i : i;
                range(chunks * s / parts, chunks * (s + 1) / parts, s);
            }
        }

        @Override
        public void run(int piece) {
            int s = piece / perShare, j = piece % perShare;
            int g = s * perShare + ((t & 1) == 1 ? perShare - 1 - j : j);
            range(chunks * g / pieces, chunks * (g + 1) / pieces, s);
        }

        /** Step t of the layer for unit chunks q0..q1-1, in share s's buffers. */
        void range(int q0, int q1, int s) {
            int batch = ws.batch, steps = ws.steps, block = ws.blockSteps, inL = cell.in;
            int u0 = q0 * unit, u1 = Math.min(hs, q1 * unit);
            int p0 = q0 * panelsPerChunk, p1 = Math.min(cell.wHh.panels(), q1 * panelsPerChunk);
            float[] gx = ws.gx[s], c = ws.c[s];
            if (t == 0) {
                for (int r = 0; r < batch; r++) {
                    if (c0 != null) {
                        System.arraycopy(c0, (layer * batch + r) * hs + u0, c, r * hs + u0, u1 - u0);
                    } else {
                        Arrays.fill(c, r * hs + u0, r * hs + u1, 0f);
                    }
                }
            }
            if (t % block == 0) {
                // these columns of the next block's input projections
                kernels.gemm(in, t * batch * inL, inL, Math.min(block, steps - t) * batch, cell.wIh, p0, p1, cell.bias, gx, 0, nPad, false);
            }
            int zRow = (t % block) * batch * nPad;
            if (t > 0) {
                kernels.gemm(y, (t - 1) * batch * hh, hh, batch, cell.wHh, p0, p1, null, gx, zRow, nPad, true, (t & 1) == 1);
            } else if (h0 != null) {
                kernels.gemm(h0, layer * batch * hh, hh, batch, cell.wHh, p0, p1, null, gx, zRow, nPad, true);
            }
            for (int r = 0; r < batch; r++) {
                gatesRow(gx, zRow + r * nPad, c, r * hs, y, (t * batch + r) * hh, q0, q1);
            }
            if (t == steps - 1) {
                for (int r = 0; r < batch; r++) {
                    System.arraycopy(y, ((steps - 1) * batch + r) * hh + u0, hN, (layer * batch + r) * hh + u0, u1 - u0);
                    System.arraycopy(c, r * hs + u0, cN, (layer * batch + r) * hs + u0, u1 - u0);
                }
            }
        }
    }

    /**
     * One thread's share of a split streaming step: the pre-activations of unit chunks q0..q1-1 from the whole
     * {@code [x_t | h_{t-1}]}, then their gate pass, writing h_t into {@code hNext} (not into a, which the other
     * thread may still be reading).
     */
    void streamPart(PackedMatrix w, float[] bias, float[] a, int row, int batch, float[] z, float[] c, float[] hNext, int q0, int q1) {
        int panelsPerChunk = 4 * unit / kernels.panelWidth();
        int p0 = q0 * panelsPerChunk, p1 = Math.min(w.panels(), q1 * panelsPerChunk);
        kernels.gemm(a, 0, row, batch, w, p0, p1, bias, z, 0, nPad, false);
        for (int b = 0; b < batch; b++) {
            gatesRow(z, b * nPad, c, b * hs, hNext, b * hs, q0, q1);
        }
    }

    /**
     * A split streaming step of one layer as pieces of unit chunks (two shares of up to 4 pieces each), for a
     * {@link StepTeam}. It holds the stream's buffers but not the stream, so that the stream's {@link java.lang.ref.Cleaner}
     * can end the helper thread once the stream is unreachable.
     */
    private static final class StreamWork implements StepTeam.Work {
        static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();
        final FastLstm engine;
        final int batch, pieces;
        final PackedMatrix[] wCat;
        final float[][] xh, c, hNext;
        final float[] z;
        int layer;

        StreamWork(FastLstm engine, int batch, PackedMatrix[] wCat, float[][] xh, float[][] c, float[] z, float[][] hNext) {
            this.engine = engine;
            this.batch = batch;
            this.wCat = wCat;
            this.xh = xh;
            this.c = c;
            this.z = z;
            this.hNext = hNext;
            this.pieces = 2 * Math.max(1, Math.min(4, engine.chunks / 4));
        }

        @Override
        public void run(int piece) {
            int l = layer, q0 = engine.chunks * piece / pieces, q1 = engine.chunks * (piece + 1) / pieces;
            Cell cell = engine.cells[l];
            engine.streamPart(wCat[l], cell.bias, xh[l], cell.in + engine.hh, batch, z, c[l], hNext[l], q0, q1);
        }
    }

    /**
     * This engine's threads, but no more than the processors this JVM may run on now (taskset, cgroups): threads that
     * take turns on one CPU only add switches.
     */
    private int usableThreads() {
        return Math.min(workers.threads(), Runtime.getRuntime().availableProcessors());
    }

    /** How many pieces to cut {@code items} into: 1 for small work, else up to {@code max}, at least 4 items each. */
    private static int chunks(int items, long work, int max) {
        if (work < PARALLEL_MIN_WORK) {
            return 1;
        }
        return Math.max(1, Math.min(max, items / 4));
    }

    /** Start of piece {@code i} of {@code n} over {@code items}, on multiples of 4 rows where possible. */
    private static int split(int items, int n, int i) {
        if (i >= n) {
            return items;
        }
        int per = (items + n - 1) / n;
        per = (per + 3) & ~3;
        return Math.min(items, i * per);
    }

    /** (A, B, X) → (B, A, X). */
    private static void transpose(float[] src, float[] dst, int a, int b, int x) {
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(src, (i * b + j) * x, dst, (j * a + i) * x, x);
            }
        }
    }

    /** The message is built only on failure: this runs every step, and the hot path must not allocate. */
    private static void checkLength(String name, float[] a, int expected) {
        if (a == null || a.length != expected) {
            throw new InputException(name + ": expected " + expected + " values for this batch and length, got "
                    + (a == null ? "null" : a.length));
        }
    }

    // ---- many keys, one step ----

    /**
     * Rows per piece of a many-key step: a piece's pre-activations (128 × 4H floats, 256 KB at H = 128) stay in the L2
     * of the thread that runs it. 1,024-row products cost ~25% more per row than 128-row ones (docs/performance.md).
     */
    static final int KEY_ROWS = 128;

    /** Each thread's buffers for the pieces of many-key steps it runs: pre-activations, and the projection's h and result. */
    private final ThreadLocal<float[][]> keyScratch = ThreadLocal.withInitial(this::newKeyScratch);

    private float[][] newKeyScratch() {
        return new float[][] {new float[KEY_ROWS * nPad], pPad > 0 ? new float[KEY_ROWS * hs] : null, pPad > 0 ? new float[KEY_ROWS * pPad] : null};
    }

    /**
     * One step of many independent streams, for a unidirectional model; see {@link KeySteps}. One per caller: it holds
     * the arrays of the call in flight.
     */
    public KeySteps keySteps() {
        if (d != 1) {
            throw new InputException("stepping needs a unidirectional LSTM");
        }
        return new KeySteps();
    }

    /**
     * One time step of N streams, on the caller's arrays in place: x (N, I), h (N, L, Hh) and c (N, L, H) stored key
     * after key, out (N, Hh) or null. The keys are cut into pieces of at most {@link #KEY_ROWS} rows that the threads
     * take from a shared queue (a helper that is not running leaves its pieces to the caller); each piece runs every
     * layer: [x | h] · [W_ih | W_hh]ᵀ for its rows, then the gate pass, which writes h and c over the old ones (the
     * product has read them), so no state is copied in or out. Allocates nothing once each thread has run a piece.
     */
    public final class KeySteps implements StepTeam.Work {
        private int base, n, pieces;
        private float[] x, h, c, out;

        private KeySteps() {
        }

        public void step(int n, float[] x, float[] h, float[] c, float[] out) {
            // a team step takes fewer than 2^15 pieces: 2^14 pieces of KEY_ROWS at a time
            for (int done = 0, most = KEY_ROWS << 14; done < n; done += most) {
                step(done, Math.min(most, n - done), x, h, c, out);
            }
        }

        /** Rows base .. base+n-1. */
        private void step(int base, int n, float[] x, float[] h, float[] c, float[] out) {
            int pieces = (n + KEY_ROWS - 1) / KEY_ROWS;
            long work = (long) n * nPad * (config.inputSize() + (long) layers * hh);
            // while the kernels are still being compiled the step stays on this thread (the JIT needs the other core)
            boolean split = work >= PARALLEL_MIN_WORK && kernels.compiled() && usableThreads() > 1;
            if (split) {
                pieces = Math.max(pieces, Math.min(usableThreads(), n / FUSED_MIN_ROWS));
            }
            this.base = base;
            this.n = n;
            this.pieces = pieces;
            this.x = x;
            this.h = h;
            this.c = c;
            this.out = out;
            try {
                if (split && pieces > 1) {
                    workers.runOrAlone(pieces, this);
                } else {
                    for (int p = 0; p < pieces; p++) {
                        run(p);
                    }
                }
            } finally {
                this.x = this.h = this.c = this.out = null;  // the stepper outlives the call: keep nothing of the caller's
            }
        }

        /** The piece's rows through every layer. */
        @Override
        public void run(int piece) {
            int r0 = base + (int) ((long) n * piece / pieces), rows = base + (int) ((long) n * (piece + 1) / pieces) - r0;
            float[][] s = keyScratch.get();
            float[] z = s[0];
            int ldh = layers * hh, ldc = layers * hs;
            for (int l = 0; l < layers; l++) {
                Cell cell = cells[l];
                // the layer's input: x, or the h that this piece has just written for the layer below
                float[] a = l == 0 ? x : h;
                int aOff = l == 0 ? r0 * cell.in : r0 * ldh + (l - 1) * hh, lda = l == 0 ? cell.in : ldh;
                int hOff = r0 * ldh + l * hh, cOff = r0 * ldc + l * hs;
                if (rows >= FUSED_MIN_ROWS) {
                    kernels.gemm2(a, aOff, lda, cell.in, h, hOff, ldh, rows, cell.concatenated(kernels), cell.bias, z, 0, nPad);
                } else {
                    kernels.gemm(a, aOff, lda, rows, cell.wIh, cell.bias, z, 0, nPad, false);
                    kernels.gemm(h, hOff, ldh, rows, cell.wHh, null, z, 0, nPad, true);
                }
                if (cell.wHr == null) {
                    for (int r = 0; r < rows; r++) {
                        gatesRow(z, r * nPad, c, cOff + r * ldc, h, hOff + r * ldh, 0, chunks);
                    }
                } else {
                    float[] hid = s[1], pr = s[2];
                    for (int r = 0; r < rows; r++) {
                        gatesRow(z, r * nPad, c, cOff + r * ldc, hid, r * hs, 0, chunks);
                    }
                    // projection: h_t = W_hr h_t
                    kernels.gemm(hid, 0, hs, rows, cell.wHr, null, pr, 0, pPad, false);
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(pr, r * pPad, h, hOff + r * ldh, hh);
                    }
                }
            }
            if (out != null) {
                for (int r = r0; r < r0 + rows; r++) {
                    System.arraycopy(h, r * ldh + (layers - 1) * hh, out, r * hh, hh);
                }
            }
        }
    }

    // ---- streaming ----

    /**
     * A stream of single steps for {@code batch} rows, carrying (h, c) from zero. Unidirectional models only.
     * With 2 or more threads (and processors) and a step of at least 2^16 multiply-adds per layer (no projection),
     * the stream owns one daemon helper thread that computes part of each step's gate columns ({@link StepTeam}): it
     * spins between steps, parks after 200 µs without one, and ends once the stream is unreachable or closed. The
     * stream measures whether splitting pays ({@link SplitMeter}) and steps alone while it does not, and does not
     * keep waking a helper that falls asleep between steps (steps further apart than 200 µs).
     */
    public Stream stream(int batch) {
        Validate.input(d == 1, "streaming: a bidirectional LSTM needs the whole sequence (its reverse direction starts at the end)");
        Validate.input(batch > 0, "streaming: batch must be positive, got " + batch);
        return new Stream(batch);
    }

    /**
     * One step at a time, as {@code out, (h, c) = lstm(x_t, (h, c))} with T = 1, without allocating: per layer
     * one product {@code [x_t | h_{t-1}] · [W_ih | W_hh]ᵀ} and one fused gate pass. Not for concurrent use.
     */
    public final class Stream {
        private final int batch;
        private final PackedMatrix[] wCat;
        private final float[][] xh;   // per layer (B, I_l + Hh): the step's input, then h
        private final float[][] c;    // per layer (B, H)
        private final float[] z;      // (B, nPad)
        private final float[] hid;    // (B, H) before projection
        private final float[] pr;     // (B, pPad)
        private final float[][] hNext; // per layer (B, H): h_t from a split step, copied into xh once every piece is done
        private final StepTeam team;  // the caller and one helper, or null (one thread)
        private final StreamWork work;
        private final SplitMeter meter = new SplitMeter(1 << 14, 64, 500_000);
        // waking a parked helper costs the caller a system call; when steps come further apart than the helper stays
        // awake, every wake is wasted, so wake only every wakeEvery-th time (doubling up to 1024 while wakes are wasted)
        private int napsAtWake = -1, wakeEvery = 1, untilWake;
        private boolean closed;

        Stream(int batch) {
            this.batch = batch;
            wCat = new PackedMatrix[layers];
            xh = new float[layers][];
            c = new float[layers][batch * hs];
            for (int l = 0; l < layers; l++) {
                wCat[l] = cells[l].concatenated(kernels);
                xh[l] = new float[batch * (config.layerInputSize(l) + hh)];
            }
            z = new float[batch * nPad];
            hid = pPad > 0 ? new float[batch * hs] : null;
            pr = pPad > 0 ? new float[batch * pPad] : null;
            // two threads split a step's gate columns when its product is large (W2: 160 KB of weights per core
            // instead of 320 KB from one L2); projected layers stay on one thread
            boolean split = workers.threads() >= 2 && Runtime.getRuntime().availableProcessors() >= 2 && pPad == 0 && chunks >= 2
                    && (long) (config.layerInputSize(0) + hh) * nPad * batch >= SPLIT_MIN_PRODUCT;
            if (split) {
                hNext = new float[layers][batch * hs];
                work = new StreamWork(FastLstm.this, batch, wCat, xh, c, z, hNext);
                team = new StepTeam(1, 200_000, "lstm4j-stream");
                StepTeam t = team;
                StreamWork.CLEANER.register(this, t::close);
            } else {
                hNext = null;
                work = null;
                team = null;
            }
        }

        public int batch() {
            return batch;
        }

        /** Whether the next step is meant to be split over two threads (once the helper is awake). */
        boolean wantsSplit() {
            return team != null && !closed && meter.wanted();
        }

        /** Whether the next step will be split over two threads; wakes a parked helper (tests wait for it). */
        boolean splitReady() {
            if (!wantsSplit()) {
                return false;
            }
            team.wake();
            return team.awake();
        }

        /** Tests: shorter measuring windows, to cross several decisions in a few steps, timed by {@code clock}. */
        void calibration(int recheckSteps, int timedSteps, LongSupplier clock) {
            meter.calibration(recheckSteps, timedSteps, clock);
        }

        /** Tests: shorter measuring windows, to cross several decisions in a few steps. */
        void calibration(int recheckSteps, int timedSteps) {
            meter.calibration(recheckSteps, timedSteps);
        }

        /** Whether splitting pays, as last measured; null when this stream never splits. */
        Boolean splitPays() {
            return team == null ? null : meter.splitPays();
        }

        /**
         * @param x   (B, I) this step's input
         * @param out (B, Hh) receives the last layer's h, or null
         */
        public void step(float[] x, float[] out) {
            checkLength("x", x, batch * config.inputSize());
            if (out != null) {
                checkLength("out", out, batch * hh);
            }
            if (team == null || closed) {
                steps(x, out, false);
                return;
            }
            boolean awake = team.awake(), split = meter.split(awake), timing = meter.timing();
            long t0 = timing ? meter.now() : 0;
            steps(x, out, split);
            meter.done(split, t0, timing ? meter.now() : 0);
            if (split) {
                napsAtWake = -1;
                wakeEvery = 1;
                untilWake = 0;
            } else if (!awake && meter.wanted()) {
                wakeHelper();
            }
        }

        private void wakeHelper() {
            if (untilWake > 0) {
                untilWake--;
                return;
            }
            if (napsAtWake >= 0 && team.naps() != napsAtWake) {
                wakeEvery = Math.min(1024, wakeEvery * 2);  // the last wake was wasted: it slept again before a step came
            }
            team.wake();
            napsAtWake = team.naps();
            untilWake = wakeEvery - 1;
        }

        /** One step through every layer, split over the helper's thread or not. */
        private void steps(float[] x, float[] out, boolean split) {
            for (int l = 0; l < layers; l++) {
                Cell cell = cells[l];
                int inL = cell.in, row = inL + hh;
                float[] a = xh[l];
                // this step's layer input next to h_{t-1}
                for (int b = 0; b < batch; b++) {
                    if (l == 0) {
                        System.arraycopy(x, b * inL, a, b * row, inL);
                    } else {
                        int prevIn = config.layerInputSize(l - 1);
                        System.arraycopy(xh[l - 1], b * (prevIn + hh) + prevIn, a, b * row, inL);
                    }
                }
                if (split) {
                    // split step: the caller and the helper share the unit chunks, then h_t into place
                    work.layer = l;
                    team.run(work, work.pieces);
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(hNext[l], b * hs, a, b * row + inL, hs);
                    }
                    continue;
                }
                kernels.gemm(a, 0, row, batch, wCat[l], cell.bias, z, 0, nPad, false);
                if (cell.wHr == null) {
                    for (int b = 0; b < batch; b++) {
                        gatesRow(z, b * nPad, c[l], b * hs, a, b * row + inL, 0, chunks);
                    }
                } else {
                    for (int b = 0; b < batch; b++) {
                        gatesRow(z, b * nPad, c[l], b * hs, hid, b * hs, 0, chunks);
                    }
                    kernels.gemm(hid, 0, hs, batch, cell.wHr, null, pr, 0, pPad, false);
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(pr, b * pPad, a, b * row + inL, hh);
                    }
                }
            }
            if (out != null) {
                int last = layers - 1, row = config.layerInputSize(last) + hh;
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(xh[last], b * row + config.layerInputSize(last), out, b * hh, hh);
                }
            }
        }

        /** Ends the helper thread, if this stream has one; the stream then steps on the calling thread alone. */
        public void close() {
            if (team != null) {
                team.close();
            }
            closed = true;
        }

        /** Sets (h, c) to zero. */
        public void reset() {
            for (int l = 0; l < layers; l++) {
                Arrays.fill(xh[l], 0f);
                Arrays.fill(c[l], 0f);
            }
        }

        /** Sets (h, c): h (L, B, Hh), c (L, B, H). */
        public void setState(float[] h, float[] cs) {
            checkLength("h", h, layers * batch * hh);
            checkLength("c", cs, layers * batch * hs);
            for (int l = 0; l < layers; l++) {
                int inL = config.layerInputSize(l), row = inL + hh;
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(h, (l * batch + b) * hh, xh[l], b * row + inL, hh);
                }
                System.arraycopy(cs, l * batch * hs, c[l], 0, batch * hs);
            }
        }

        /** Copies (h, c) out: h (L, B, Hh), c (L, B, H). */
        public void getState(float[] h, float[] cs) {
            checkLength("h", h, layers * batch * hh);
            checkLength("c", cs, layers * batch * hs);
            for (int l = 0; l < layers; l++) {
                int inL = config.layerInputSize(l), row = inL + hh;
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(xh[l], b * row + inL, h, (l * batch + b) * hh, hh);
                }
                System.arraycopy(c[l], 0, cs, l * batch * hs, batch * hs);
            }
        }
    }
}
