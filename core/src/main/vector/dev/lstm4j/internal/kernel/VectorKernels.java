package dev.lstm4j.internal.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels, loaded only by {@link Kernels} when {@code jdk.incubator.vector} is readable (compiled
 * apart from the rest of core, so the jar runs without the module). Same results as {@link ScalarKernels}
 * up to summation order, proven by {@code VectorKernelsTest}.
 *
 * <p>The product is a register-tiled microkernel: a tile of rows × 2 vectors of accumulators over one packed panel
 * (8 rows on AVX-512: 16 of its 32 registers, each weight vector loaded feeding 8 FMAs; 6 rows on AVX2's 16), with
 * 4-row and 1-row tiles for the remaining rows. A tile's rows are packed row-interleaved first (as BLAS packs A),
 * so that each input is one base register plus a constant away: with a pointer per row, C2 kept row offsets on the
 * stack and spilled accumulators.
 * Vectors never cross a method boundary (a FloatVector passed to a method the JIT does not inline is boxed),
 * so every method here takes arrays and scalars only.
 */
final class VectorKernels implements LstmKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final int NR = 2 * VL;
    /**
     * Packed rows per block: 1 MB of A. Each block reads every weight panel once, and at H ≥ 1024 the weights come from
     * DRAM, so fewer, larger blocks won more than keeping A in L2 did (256 KB blocks: 39-48 GFLOP per CPU second
     * at I=64, H=2048, B=64; 1 MB: 51-59); a block of A streams from L3 at 1/8 byte per flop.
     */
    private static final int A_BLOCK_FLOATS = 256 * 1024;
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[16 * 1024]);
    /**
     * Rows of the main tile: 8 (16 accumulators) where vectors are 512 bits, as AVX-512's 32 registers hold it; 6 with
     * 256-bit vectors (12 accumulators, 2 weight vectors and the broadcasts in AVX2's 16 registers; C2's code for the
     * 8-row tile kept 4 accumulators on the stack there). {@code -Dlstm4j.tileRows=4|6|8} overrides it (for measuring);
     * the tile changes no result, as each output sums its products in k order either way.
     */
    private final int mr;

    VectorKernels() {
        this(defaultTileRows());
    }

    /** Kernels whose main tile has {@code tileRows} rows: 4, 6 or 8 (tests run each on any machine). */
    VectorKernels(int tileRows) {
        if (tileRows != 4 && tileRows != 6 && tileRows != 8) {
            throw new IllegalArgumentException("tile rows must be 4, 6 or 8, not " + tileRows);
        }
        this.mr = tileRows;
    }

    private static int defaultTileRows() {
        String forced = System.getProperty("lstm4j.tileRows", "");
        if (forced.equals("4") || forced.equals("6") || forced.equals("8")) {
            return Integer.parseInt(forced);
        }
        return S.vectorBitSize() >= 512 ? 8 : 6;
    }

    @Override
    public String name() {
        return "vector(" + S.vectorBitSize() + " bit, " + mr + "-row tile)";
    }

    @Override
    public int panelWidth() {
        return NR;
    }

    @Override
    public void gemm(float[] a, int aOff, int lda, int m, PackedMatrix w, int panelFrom, int panelTo, float[] bias, float[] c, int cOff,
                     int ldc, boolean accumulate, boolean descending) {
        int k = w.depth();
        float[] p = w.data();
        if (m == 1) {
            // a matrix-vector product, bound by reading the weights: two panels at a time (two streams, one
            // broadcast of a[kk] for four FMAs), in the order asked for
            if (mr != 8) {
                // 16 registers: one panel at a time (two panels' 16 accumulators spill there); the same sums in the
                // same order as row1x2, so the same bits
                if (descending) {
                    for (int panel = panelTo - 1; panel >= panelFrom; panel--) {
                        row1(a, aOff, k, p, panel * k * NR, bias, panel * NR, c, cOff + panel * NR, accumulate);
                    }
                } else {
                    for (int panel = panelFrom; panel < panelTo; panel++) {
                        row1(a, aOff, k, p, panel * k * NR, bias, panel * NR, c, cOff + panel * NR, accumulate);
                    }
                }
            } else if (descending) {
                int panel = panelTo;
                for (; panel - 2 >= panelFrom; panel -= 2) {
                    row1x2(a, aOff, k, p, (panel - 2) * k * NR, bias, (panel - 2) * NR, c, cOff + (panel - 2) * NR, accumulate);
                }
                if (panel > panelFrom) {
                    row1(a, aOff, k, p, panelFrom * k * NR, bias, panelFrom * NR, c, cOff + panelFrom * NR, accumulate);
                }
            } else {
                int panel = panelFrom;
                for (; panel + 2 <= panelTo; panel += 2) {
                    row1x2(a, aOff, k, p, panel * k * NR, bias, panel * NR, c, cOff + panel * NR, accumulate);
                }
                if (panel < panelTo) {
                    row1(a, aOff, k, p, panel * k * NR, bias, panel * NR, c, cOff + panel * NR, accumulate);
                }
            }
            return;
        }
        // blocks of rows of 1 MB of A; a block's tiles of rows are packed (row-interleaved) into a scratch buffer, then
        // each panel is read once per block and stays cached while every tile of the block passes over it
        int mc = Math.max(8, (A_BLOCK_FLOATS / Math.max(1, k)) & ~7);
        for (int r0 = 0; r0 < m; r0 += mc) {
            int end = Math.min(m, r0 + mc), tiled = tiledEnd(r0, end);
            float[] ap = scratch(k, tiled - r0);
            for (int r = r0, at = 0; r < tiled; ) {
                int rows = tileAt(r, tiled);
                pack(a, aOff + r * lda, lda, k, null, 0, 0, k, rows, ap, at);
                at += rows * k;
                r += rows;
            }
            for (int panel = panelFrom; panel < panelTo; panel++) {
                tiles(ap, r0, tiled, k, p, panel, bias, c, cOff, ldc, accumulate);
                for (int r = tiled; r < end; r++) {
                    row1(a, aOff + r * lda, k, p, panel * k * NR, bias, panel * NR, c, cOff + r * ldc + panel * NR, accumulate);
                }
            }
        }
    }

    @Override
    public void gemm2(float[] a, int aOff, int lda, int k1, float[] a2, int a2Off, int lda2, int m, PackedMatrix w, float[] bias,
                      float[] c, int cOff, int ldc) {
        int k = w.depth();
        float[] p = w.data();
        int mc = Math.max(8, (A_BLOCK_FLOATS / Math.max(1, k)) & ~7);
        for (int r0 = 0; r0 < m; r0 += mc) {
            int end = Math.min(m, r0 + mc), tiled = tiledEnd(r0, end);
            float[] ap = scratch(k, tiled - r0);
            for (int r = r0, at = 0; r < tiled; ) {
                int rows = tileAt(r, tiled);
                pack(a, aOff + r * lda, lda, k1, a2, a2Off + r * lda2, lda2, k, rows, ap, at);
                at += rows * k;
                r += rows;
            }
            for (int panel = 0; panel < w.panels(); panel++) {
                tiles(ap, r0, tiled, k, p, panel, bias, c, cOff, ldc, false);
                for (int r = tiled; r < end; r++) {
                    row1Cat(a, aOff + r * lda, k1, a2, a2Off + r * lda2, k, p, panel * k * NR, bias, panel * NR, c, cOff + r * ldc + panel * NR, false);
                }
            }
        }
    }

    /** Rows r0..tiled-1 (packed in ap by {@link #pack}, tile after tile) against one panel. */
    private void tiles(float[] ap, int r0, int tiled, int k, float[] p, int panel, float[] bias, float[] c, int cOff, int ldc, boolean accumulate) {
        int col = panel * NR, pOff = panel * k * NR;
        for (int r = r0, at = 0; r < tiled; ) {
            int rows = tileAt(r, tiled), co = cOff + r * ldc + col;
            if (rows == 8) {
                tile8(ap, at, k, p, pOff, bias, col, c, co, ldc, accumulate);
            } else if (rows == 6) {
                tile6(ap, at, k, p, pOff, bias, col, c, co, ldc, accumulate);
            } else {
                tile4(ap, at, k, p, pOff, bias, col, c, co, ldc, accumulate);
            }
            at += rows * k;
            r += rows;
        }
    }

    /** The rows of the tile that starts at row r of rows ..tiled-1: the main tile, or 4 (two 4s rather than 6 + 2 singles). */
    private int tileAt(int r, int tiled) {
        int left = tiled - r;
        return left >= mr && !(mr == 6 && left == 8) ? mr : 4;
    }

    /** Where the tiles of rows r0..end-1 end and single rows begin. */
    private int tiledEnd(int r0, int end) {
        int r = r0;
        while (end - r >= 4) {
            r += tileAt(r, end);
        }
        return r;
    }

    /**
     * Packs {@code rows} rows of [A | A2] (depth k1 from A, k - k1 from A2; A2 may be null when k1 = k) row-interleaved:
     * {@code ap[at + kk*rows + r]}.
     */
    private static void pack(float[] a, int aOff, int lda, int k1, float[] a2, int a2Off, int lda2, int k, int rows, float[] ap, int at) {
        for (int r = 0; r < rows; r++) {
            int src = aOff + r * lda, dst = at + r;
            for (int kk = 0; kk < k1; kk++, dst += rows) {
                ap[dst] = a[src + kk];
            }
            int src2 = a2Off + r * lda2 - k1;
            for (int kk = k1; kk < k; kk++, dst += rows) {
                ap[dst] = a2[src2 + kk];
            }
        }
    }

    /** This thread's packing buffer, grown to hold {@code rows} rows of depth {@code k}. */
    private float[] scratch(int k, int rows) {
        float[] ap = SCRATCH.get();
        int need = k * Math.max(rows, 1);
        if (ap.length < need) {
            ap = new float[Math.max(need, 2 * ap.length)];
            SCRATCH.set(ap);
        }
        return ap;
    }

    /**
     * 4 rows × one panel, the rows packed: 8 accumulators; each k step loads 2 weight vectors and broadcasts 4
     * inputs from {@code ap[apOff + kk*4 + r]}, so every load is one base plus a constant. The loop counts by that
     * index alone: with a separate counter kk, C2 rebuilt the index from kk on every trip, 8 more instructions per 8
     * or 12 FMAs where the front end, not the FMA units, set the pace (W4's product: 40 to 51 GFLOP per CPU second).
     */
    private static void tile4(float[] ap, int apOff, int k, float[] p, int pOff, float[] bias, int col, float[] c, int cOff,
                              int ldc, boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate) {
            c00 = FloatVector.fromArray(S, c, cOff);
            c01 = FloatVector.fromArray(S, c, cOff + VL);
            c10 = FloatVector.fromArray(S, c, cOff + ldc);
            c11 = FloatVector.fromArray(S, c, cOff + ldc + VL);
            c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + VL);
            c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + VL);
        } else if (bias != null) {
            c00 = FloatVector.fromArray(S, bias, col);
            c01 = FloatVector.fromArray(S, bias, col + VL);
            c10 = c00;
            c11 = c01;
            c20 = c00;
            c21 = c01;
            c30 = c00;
            c31 = c01;
        } else {
            c00 = FloatVector.zero(S);
            c01 = c00;
            c10 = c00;
            c11 = c00;
            c20 = c00;
            c21 = c00;
            c30 = c00;
            c31 = c00;
        }
        for (int ai = apOff, po = pOff, aEnd = apOff + 4 * k; ai < aEnd; ai += 4, po += NR) {
            FloatVector w0 = FloatVector.fromArray(S, p, po);
            FloatVector w1 = FloatVector.fromArray(S, p, po + VL);
            FloatVector x0 = FloatVector.broadcast(S, ap[ai]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = w0.fma(x1, c10);
            c11 = w1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = w0.fma(x2, c20);
            c21 = w1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = w0.fma(x3, c30);
            c31 = w1.fma(x3, c31);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + VL);
        c10.intoArray(c, cOff + ldc);
        c11.intoArray(c, cOff + ldc + VL);
        c20.intoArray(c, cOff + 2 * ldc);
        c21.intoArray(c, cOff + 2 * ldc + VL);
        c30.intoArray(c, cOff + 3 * ldc);
        c31.intoArray(c, cOff + 3 * ldc + VL);
    }

    /**
     * 6 rows × one panel, the rows packed: 12 accumulators; each k step loads 2 weight vectors and broadcasts 6
     * inputs from {@code ap[apOff + kk*6 + r]}, so every load is one base plus a constant.
     */
    private static void tile6(float[] ap, int apOff, int k, float[] p, int pOff, float[] bias, int col, float[] c, int cOff,
                              int ldc, boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate) {
            c00 = FloatVector.fromArray(S, c, cOff);
            c01 = FloatVector.fromArray(S, c, cOff + VL);
            c10 = FloatVector.fromArray(S, c, cOff + ldc);
            c11 = FloatVector.fromArray(S, c, cOff + ldc + VL);
            c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + VL);
            c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + VL);
            c40 = FloatVector.fromArray(S, c, cOff + 4 * ldc);
            c41 = FloatVector.fromArray(S, c, cOff + 4 * ldc + VL);
            c50 = FloatVector.fromArray(S, c, cOff + 5 * ldc);
            c51 = FloatVector.fromArray(S, c, cOff + 5 * ldc + VL);
        } else if (bias != null) {
            c00 = FloatVector.fromArray(S, bias, col);
            c01 = FloatVector.fromArray(S, bias, col + VL);
            c10 = c00;
            c11 = c01;
            c20 = c00;
            c21 = c01;
            c30 = c00;
            c31 = c01;
            c40 = c00;
            c41 = c01;
            c50 = c00;
            c51 = c01;
        } else {
            c00 = FloatVector.zero(S);
            c01 = c00;
            c10 = c00;
            c11 = c00;
            c20 = c00;
            c21 = c00;
            c30 = c00;
            c31 = c00;
            c40 = c00;
            c41 = c00;
            c50 = c00;
            c51 = c00;
        }
        for (int ai = apOff, po = pOff, aEnd = apOff + 6 * k; ai < aEnd; ai += 6, po += NR) {
            FloatVector w0 = FloatVector.fromArray(S, p, po);
            FloatVector w1 = FloatVector.fromArray(S, p, po + VL);
            FloatVector x0 = FloatVector.broadcast(S, ap[ai]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = w0.fma(x1, c10);
            c11 = w1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = w0.fma(x2, c20);
            c21 = w1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = w0.fma(x3, c30);
            c31 = w1.fma(x3, c31);
            FloatVector x4 = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = w0.fma(x4, c40);
            c41 = w1.fma(x4, c41);
            FloatVector x5 = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = w0.fma(x5, c50);
            c51 = w1.fma(x5, c51);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + VL);
        c10.intoArray(c, cOff + ldc);
        c11.intoArray(c, cOff + ldc + VL);
        c20.intoArray(c, cOff + 2 * ldc);
        c21.intoArray(c, cOff + 2 * ldc + VL);
        c30.intoArray(c, cOff + 3 * ldc);
        c31.intoArray(c, cOff + 3 * ldc + VL);
        c40.intoArray(c, cOff + 4 * ldc);
        c41.intoArray(c, cOff + 4 * ldc + VL);
        c50.intoArray(c, cOff + 5 * ldc);
        c51.intoArray(c, cOff + 5 * ldc + VL);
    }

    /**
     * 8 rows × one panel, the rows packed: 16 accumulators; each k step loads 2 weight vectors and broadcasts 8
     * inputs from {@code ap[apOff + kk*8 + r]}, so every load is one base plus a constant.
     */
    private static void tile8(float[] ap, int apOff, int k, float[] p, int pOff, float[] bias, int col, float[] c, int cOff,
                              int ldc, boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (accumulate) {
            c00 = FloatVector.fromArray(S, c, cOff);
            c01 = FloatVector.fromArray(S, c, cOff + VL);
            c10 = FloatVector.fromArray(S, c, cOff + ldc);
            c11 = FloatVector.fromArray(S, c, cOff + ldc + VL);
            c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + VL);
            c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + VL);
            c40 = FloatVector.fromArray(S, c, cOff + 4 * ldc);
            c41 = FloatVector.fromArray(S, c, cOff + 4 * ldc + VL);
            c50 = FloatVector.fromArray(S, c, cOff + 5 * ldc);
            c51 = FloatVector.fromArray(S, c, cOff + 5 * ldc + VL);
            c60 = FloatVector.fromArray(S, c, cOff + 6 * ldc);
            c61 = FloatVector.fromArray(S, c, cOff + 6 * ldc + VL);
            c70 = FloatVector.fromArray(S, c, cOff + 7 * ldc);
            c71 = FloatVector.fromArray(S, c, cOff + 7 * ldc + VL);
        } else if (bias != null) {
            c00 = FloatVector.fromArray(S, bias, col);
            c01 = FloatVector.fromArray(S, bias, col + VL);
            c10 = c00;
            c11 = c01;
            c20 = c00;
            c21 = c01;
            c30 = c00;
            c31 = c01;
            c40 = c00;
            c41 = c01;
            c50 = c00;
            c51 = c01;
            c60 = c00;
            c61 = c01;
            c70 = c00;
            c71 = c01;
        } else {
            c00 = FloatVector.zero(S);
            c01 = c00;
            c10 = c00;
            c11 = c00;
            c20 = c00;
            c21 = c00;
            c30 = c00;
            c31 = c00;
            c40 = c00;
            c41 = c00;
            c50 = c00;
            c51 = c00;
            c60 = c00;
            c61 = c00;
            c70 = c00;
            c71 = c00;
        }
        for (int ai = apOff, po = pOff, aEnd = apOff + 8 * k; ai < aEnd; ai += 8, po += NR) {
            FloatVector w0 = FloatVector.fromArray(S, p, po);
            FloatVector w1 = FloatVector.fromArray(S, p, po + VL);
            FloatVector x0 = FloatVector.broadcast(S, ap[ai]);
            c00 = w0.fma(x0, c00);
            c01 = w1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = w0.fma(x1, c10);
            c11 = w1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = w0.fma(x2, c20);
            c21 = w1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = w0.fma(x3, c30);
            c31 = w1.fma(x3, c31);
            FloatVector x4 = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = w0.fma(x4, c40);
            c41 = w1.fma(x4, c41);
            FloatVector x5 = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = w0.fma(x5, c50);
            c51 = w1.fma(x5, c51);
            FloatVector x6 = FloatVector.broadcast(S, ap[ai + 6]);
            c60 = w0.fma(x6, c60);
            c61 = w1.fma(x6, c61);
            FloatVector x7 = FloatVector.broadcast(S, ap[ai + 7]);
            c70 = w0.fma(x7, c70);
            c71 = w1.fma(x7, c71);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + VL);
        c10.intoArray(c, cOff + ldc);
        c11.intoArray(c, cOff + ldc + VL);
        c20.intoArray(c, cOff + 2 * ldc);
        c21.intoArray(c, cOff + 2 * ldc + VL);
        c30.intoArray(c, cOff + 3 * ldc);
        c31.intoArray(c, cOff + 3 * ldc + VL);
        c40.intoArray(c, cOff + 4 * ldc);
        c41.intoArray(c, cOff + 4 * ldc + VL);
        c50.intoArray(c, cOff + 5 * ldc);
        c51.intoArray(c, cOff + 5 * ldc + VL);
        c60.intoArray(c, cOff + 6 * ldc);
        c61.intoArray(c, cOff + 6 * ldc + VL);
        c70.intoArray(c, cOff + 7 * ldc);
        c71.intoArray(c, cOff + 7 * ldc + VL);
    }

    /**
     * One row × one panel (batch 1: a matrix-vector product). Four k steps at a time into separate
     * accumulators, so the FMA latency is hidden; they are summed at the end.
     */
    private static void row1(float[] a, int aOff, int k, float[] p, int pOff, float[] bias, int col, float[] c, int cOff,
                             boolean accumulate) {
        FloatVector s0, s1;
        if (accumulate) {
            s0 = FloatVector.fromArray(S, c, cOff);
            s1 = FloatVector.fromArray(S, c, cOff + VL);
        } else if (bias != null) {
            s0 = FloatVector.fromArray(S, bias, col);
            s1 = FloatVector.fromArray(S, bias, col + VL);
        } else {
            s0 = FloatVector.zero(S);
            s1 = s0;
        }
        FloatVector t0 = FloatVector.zero(S), t1 = t0, u0 = t0, u1 = t0, v0 = t0, v1 = t0;
        int kk = k & ~3;
        // a counted loop on the two indices alone (with kk + 4 <= k, C2 kept a safepoint poll and the index
        // arithmetic in every trip)
        for (int ai = aOff, po = pOff, aEnd = aOff + kk; ai < aEnd; ai += 4, po += 4 * NR) {
            FloatVector x0 = FloatVector.broadcast(S, a[ai]);
            FloatVector x1 = FloatVector.broadcast(S, a[ai + 1]);
            FloatVector x2 = FloatVector.broadcast(S, a[ai + 2]);
            FloatVector x3 = FloatVector.broadcast(S, a[ai + 3]);
            s0 = FloatVector.fromArray(S, p, po).fma(x0, s0);
            s1 = FloatVector.fromArray(S, p, po + VL).fma(x0, s1);
            t0 = FloatVector.fromArray(S, p, po + NR).fma(x1, t0);
            t1 = FloatVector.fromArray(S, p, po + NR + VL).fma(x1, t1);
            u0 = FloatVector.fromArray(S, p, po + 2 * NR).fma(x2, u0);
            u1 = FloatVector.fromArray(S, p, po + 2 * NR + VL).fma(x2, u1);
            v0 = FloatVector.fromArray(S, p, po + 3 * NR).fma(x3, v0);
            v1 = FloatVector.fromArray(S, p, po + 3 * NR + VL).fma(x3, v1);
        }
        for (; kk < k; kk++) {
            int po = pOff + kk * NR;
            FloatVector x0 = FloatVector.broadcast(S, a[aOff + kk]);
            s0 = FloatVector.fromArray(S, p, po).fma(x0, s0);
            s1 = FloatVector.fromArray(S, p, po + VL).fma(x0, s1);
        }
        s0.add(t0).add(u0.add(v0)).intoArray(c, cOff);
        s1.add(t1).add(u1.add(v1)).intoArray(c, cOff + VL);
    }

    /** As {@link #row1}, over [A | A2]. */
    private static void row1Cat(float[] a, int aOff, int k1, float[] a2, int a2Off, int k, float[] p, int pOff, float[] bias, int col,
                             float[] c, int cOff, boolean accumulate) {
        FloatVector s0, s1;
        if (accumulate) {
            s0 = FloatVector.fromArray(S, c, cOff);
            s1 = FloatVector.fromArray(S, c, cOff + VL);
        } else if (bias != null) {
            s0 = FloatVector.fromArray(S, bias, col);
            s1 = FloatVector.fromArray(S, bias, col + VL);
        } else {
            s0 = FloatVector.zero(S);
            s1 = s0;
        }
        FloatVector t0 = FloatVector.zero(S), t1 = t0, u0 = t0, u1 = t0, v0 = t0, v1 = t0;
        int kk = k1 & ~3;
        // a counted loop on the two indices alone (with kk + 4 <= k, C2 kept a safepoint poll and the index
        // arithmetic in every trip)
        for (int ai = aOff, po = pOff, aEnd = aOff + kk; ai < aEnd; ai += 4, po += 4 * NR) {
            FloatVector x0 = FloatVector.broadcast(S, a[ai]);
            FloatVector x1 = FloatVector.broadcast(S, a[ai + 1]);
            FloatVector x2 = FloatVector.broadcast(S, a[ai + 2]);
            FloatVector x3 = FloatVector.broadcast(S, a[ai + 3]);
            s0 = FloatVector.fromArray(S, p, po).fma(x0, s0);
            s1 = FloatVector.fromArray(S, p, po + VL).fma(x0, s1);
            t0 = FloatVector.fromArray(S, p, po + NR).fma(x1, t0);
            t1 = FloatVector.fromArray(S, p, po + NR + VL).fma(x1, t1);
            u0 = FloatVector.fromArray(S, p, po + 2 * NR).fma(x2, u0);
            u1 = FloatVector.fromArray(S, p, po + 2 * NR + VL).fma(x2, u1);
            v0 = FloatVector.fromArray(S, p, po + 3 * NR).fma(x3, v0);
            v1 = FloatVector.fromArray(S, p, po + 3 * NR + VL).fma(x3, v1);
        }
        for (; kk < k1; kk++) {
            int po = pOff + kk * NR;
            FloatVector x0 = FloatVector.broadcast(S, a[aOff + kk]);
            s0 = FloatVector.fromArray(S, p, po).fma(x0, s0);
            s1 = FloatVector.fromArray(S, p, po + VL).fma(x0, s1);
        }
        // the second source, if any, continues the reduction (weights rows k1..k-1)
        for (int b = a2Off - k1; kk < k; kk++) {
            int po = pOff + kk * NR;
            FloatVector x0 = FloatVector.broadcast(S, a2[b + kk]);
            s0 = FloatVector.fromArray(S, p, po).fma(x0, s0);
            s1 = FloatVector.fromArray(S, p, po + VL).fma(x0, s1);
        }
        s0.add(t0).add(u0.add(v0)).intoArray(c, cOff);
        s1.add(t1).add(u1.add(v1)).intoArray(c, cOff + VL);
    }

    /**
     * One row × two neighbouring panels, as {@link #row1} on each (same four k-phase accumulators, same sums, so the
     * same bits): 16 accumulators, each k step loads 4 weight vectors (two streams) for one broadcast input.
     */
    private static void row1x2(float[] a, int aOff, int k, float[] p, int pOff, float[] bias, int col, float[] c, int cOff,
                               boolean accumulate) {
        int qOff = pOff + k * NR;
        FloatVector s0, s1, s2, s3;
        if (accumulate) {
            s0 = FloatVector.fromArray(S, c, cOff);
            s1 = FloatVector.fromArray(S, c, cOff + VL);
            s2 = FloatVector.fromArray(S, c, cOff + NR);
            s3 = FloatVector.fromArray(S, c, cOff + NR + VL);
        } else if (bias != null) {
            s0 = FloatVector.fromArray(S, bias, col);
            s1 = FloatVector.fromArray(S, bias, col + VL);
            s2 = FloatVector.fromArray(S, bias, col + NR);
            s3 = FloatVector.fromArray(S, bias, col + NR + VL);
        } else {
            s0 = FloatVector.zero(S);
            s1 = s0;
            s2 = s0;
            s3 = s0;
        }
        FloatVector t0 = FloatVector.zero(S), t1 = t0, t2 = t0, t3 = t0, u0 = t0, u1 = t0, u2 = t0, u3 = t0;
        FloatVector v0 = t0, v1 = t0, v2 = t0, v3 = t0;
        int kk = 0;
        for (; kk + 4 <= k; kk += 4) {
            int po = pOff + kk * NR, qo = qOff + kk * NR;
            FloatVector x0 = FloatVector.broadcast(S, a[aOff + kk]);
            s0 = FloatVector.fromArray(S, p, po).fma(x0, s0);
            s1 = FloatVector.fromArray(S, p, po + VL).fma(x0, s1);
            s2 = FloatVector.fromArray(S, p, qo).fma(x0, s2);
            s3 = FloatVector.fromArray(S, p, qo + VL).fma(x0, s3);
            FloatVector x1 = FloatVector.broadcast(S, a[aOff + kk + 1]);
            t0 = FloatVector.fromArray(S, p, po + NR).fma(x1, t0);
            t1 = FloatVector.fromArray(S, p, po + NR + VL).fma(x1, t1);
            t2 = FloatVector.fromArray(S, p, qo + NR).fma(x1, t2);
            t3 = FloatVector.fromArray(S, p, qo + NR + VL).fma(x1, t3);
            FloatVector x2 = FloatVector.broadcast(S, a[aOff + kk + 2]);
            u0 = FloatVector.fromArray(S, p, po + 2 * NR).fma(x2, u0);
            u1 = FloatVector.fromArray(S, p, po + 2 * NR + VL).fma(x2, u1);
            u2 = FloatVector.fromArray(S, p, qo + 2 * NR).fma(x2, u2);
            u3 = FloatVector.fromArray(S, p, qo + 2 * NR + VL).fma(x2, u3);
            FloatVector x3 = FloatVector.broadcast(S, a[aOff + kk + 3]);
            v0 = FloatVector.fromArray(S, p, po + 3 * NR).fma(x3, v0);
            v1 = FloatVector.fromArray(S, p, po + 3 * NR + VL).fma(x3, v1);
            v2 = FloatVector.fromArray(S, p, qo + 3 * NR).fma(x3, v2);
            v3 = FloatVector.fromArray(S, p, qo + 3 * NR + VL).fma(x3, v3);
        }
        for (; kk < k; kk++) {
            int po = pOff + kk * NR, qo = qOff + kk * NR;
            FloatVector x0 = FloatVector.broadcast(S, a[aOff + kk]);
            s0 = FloatVector.fromArray(S, p, po).fma(x0, s0);
            s1 = FloatVector.fromArray(S, p, po + VL).fma(x0, s1);
            s2 = FloatVector.fromArray(S, p, qo).fma(x0, s2);
            s3 = FloatVector.fromArray(S, p, qo + VL).fma(x0, s3);
        }
        s0.add(t0).add(u0.add(v0)).intoArray(c, cOff);
        s1.add(t1).add(u1.add(v1)).intoArray(c, cOff + VL);
        s2.add(t2).add(u2.add(v2)).intoArray(c, cOff + NR);
        s3.add(t3).add(u3.add(v3)).intoArray(c, cOff + NR + VL);
    }

    @Override
    public void gates(float[] z, int zOff, int hidden, int unit, float[] c, int cOff, float[] h, int hOff) {
        // one σ pass over the whole row covers all four gates (g comes doubled: tanh(x) = 2σ(2x) − 1); then, per block
        // of units, c = f⊙c + i⊙g and h = o⊙tanh(c), each a loop with no vector passed to a call (VectorMath); every
        // receiver is a broadcast or made from one (VectorMath says why)
        VectorMath.sigmoidInPlace(z, zOff, 4 * hidden);
        FloatVector two = FloatVector.broadcast(S, 2f), negOne = FloatVector.broadcast(S, -1f), negZero = FloatVector.broadcast(S, -0f);
        for (int u0 = 0; u0 < hidden; u0 += unit) {
            int uq = Math.min(unit, hidden - u0), q = zOff + 4 * u0, co = cOff + u0, ho = hOff + u0;
            int j = 0;
            for (int vEnd = uq & -VL; j < vEnd; j += VL) {
                FloatVector g = two.fma(FloatVector.fromArray(S, z, q + 2 * uq + j), negOne);
                FloatVector f = negZero.add(FloatVector.fromArray(S, z, q + uq + j));  // -0 + y = y exactly
                f.fma(FloatVector.fromArray(S, c, co + j), g.mul(FloatVector.fromArray(S, z, q + j))).intoArray(c, co + j);
            }
            for (; j < uq; j++) {
                float g = 2f * z[q + 2 * uq + j] - 1f;
                c[co + j] = z[q + uq + j] * c[co + j] + z[q + j] * g;
            }
            VectorMath.tanhTimes(c, co, z, q + 3 * uq, h, ho, uq);
        }
    }
}
