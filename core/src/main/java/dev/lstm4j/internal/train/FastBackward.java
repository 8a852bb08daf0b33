package dev.lstm4j.internal.train;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.internal.kernel.Kernels;
import dev.lstm4j.internal.kernel.PackedMatrix;
import dev.lstm4j.internal.kernel.PanelSplit;
import dev.lstm4j.reference.ReferenceBackward.CellGrads;

import java.util.Arrays;

/**
 * The training forward and backward in float32, batched: the same result as
 * {@link dev.lstm4j.reference.ReferenceBackward#forward} and {@link dev.lstm4j.reference.ReferenceBackward#backward}
 * for a float32 model, within the bound {@code FastBackwardContractTest} states (the reference sums in double, this
 * path in float32). Every product runs on the fast path's packed-weight {@code gemm} kernels:
 * <ul>
 *   <li>forward: the input projections of all steps as one product, then per step {@code z_t += h_{t-1}·W_hhᵀ};</li>
 *   <li>backward, per step: {@code dh_{t-1} = dz_t·W_hh} (W_hh packed transposed);</li>
 *   <li>backward, after the time loop, over all T·B rows: {@code dx = dZ·W_ih} and
 *       {@code [dW_ih | dW_hh]ᵀ += [x | h_prev]ᵀ·dZ}, blocked over the rows so that each packed block of dZ stays
 *       cached while every row of the left operand passes over it.</li>
 * </ul>
 * Products are split over threads by output panels ({@link PanelSplit}), so no sum changes order with the thread
 * count; the same inputs give the same bits. Gate math is per row ({@link GateMath}).
 *
 * <p>One instance per (config, B, T) keeps every buffer, the packed weights and the tape between calls, so the steps of
 * a training loop allocate nothing once warm. The tape of a {@link #forward} is valid until the next one. Mutable, not
 * thread-safe.
 *
 * <p>Gradients {@code dX} accumulate ({@code +=}) into the given {@link CellGrads}, as in the reference.
 *
 * <p>Legend: B batch, T steps, I_l layer input, H hidden, P projection, Hh = P if projected else H, L layers,
 * D directions, R = T·B rows. Gate row blocks i, f, g, o. Inside, every per-step array is time-major (T, B, ·), so a
 * step's rows are contiguous; the caller's arrays are batch-first (B, T, ·) as PyTorch's.
 */
public final class FastBackward {
    /** Rows per block of a weight-gradient product: a packed block of dZ is 1 MB at 4H = 1024. */
    private static final int KC = 256;

    private final LstmConfig config;
    private final int batch, steps, rows, threads;
    private final int d, layers, hs, hh, g4, outSize;
    private final PanelSplit split;
    private final GateMath gateMath = GateMath.get();
    private final GateRows gateRows = new GateRows();
    private final CellRows cellRows = new CellRows();
    private final Cell[] cells;           // [layer·D + direction]
    private final float[][] outs;         // per layer, its output (R, D·Hh)
    private final float[][] dropped;      // per layer below the last, its output after dropout (R, D·Hh)
    private final float[][] inputs;       // per layer, what it read in the last forward: xT, an out or a dropped
    private final float[] xT;             // x (R, I)
    private final float[] h, c;           // the running state (B, Hh), (B, H)
    private final float[] hp;             // projection output (B, pad(Hh))
    // backward
    private final float[][] dIns;         // per layer, dInput (R, I_l)
    private final float[] dTop;           // dOutput (R, D·Hh)
    private final float[] dZ;             // dz of every step (R, 4H)
    private final float[] dhT, dh, dc;    // (B, Hh), (B, Hh), (B, H)
    private final float[] dhp;            // dh_{t-1} (B, pad(Hh))
    private final float[] dHid;           // through the projection (B, pad(H)), or null
    private final float[] dhTall;         // projection only: dh_t of every step, the projected h's gradient (R, Hh)
    private final float[] dx;             // dz·W_ih (R, pad(I_l))
    private final float[] catT;           // [x | h_prev]ᵀ (I_l + Hh, R)
    private final float[] dWT;            // [dW_ih | dW_hh]ᵀ (I_l + Hh, pad(4H))
    private final float[] db;             // Σ dz (4H)
    private final PackedMatrix[] dzBlocks; // dZ again, KC rows at a time, each block packed as the weight (4H, KC)
    private final float[] hiddenT, dWhrT; // projection only: hiddenᵀ (H, R), dW_hrᵀ (H, pad(Hh))
    private final PackedMatrix[] dhBlocks; // projection only: dhTall packed as dzBlocks
    private int[] lengths;
    private double[][] masks;
    private int forwards;

    /** The weights of one layer and direction, packed both ways, and what its forward kept. */
    private final class Cell {
        final int in;
        final float[] wIh, wHh, wHr, bias; // float32 copies of the current weights; bias = b_ih + b_hh (pad(4H)) or null
        final PackedMatrix pIh, pHh, pHr;  // for the forward: W_ih (4H, I), W_hh (4H, Hh), W_hr (Hh, H)
        final PackedMatrix pIhT, pHhT, pHrT; // for the backward: W_ihᵀ (I, 4H), W_hhᵀ (Hh, 4H), W_hrᵀ (H, Hh)
        final int nPad;
        // the tape, (R, ·): activations i, f, g, o (pad(4H)), tanh(c_t), h_{t-1}, c_{t-1}, hidden before the projection
        final float[] gates, tanhC, hPrev, cPrev, hidden;

        Cell(int in, boolean bias, boolean proj) {
            var k = split.kernels();
            this.in = in;
            wIh = new float[g4 * in];
            wHh = new float[g4 * hh];
            wHr = proj ? new float[hh * hs] : null;
            pIh = PackedMatrix.zeros(g4, in, k.panelWidth());
            pHh = PackedMatrix.zeros(g4, hh, k.panelWidth());
            pHr = proj ? PackedMatrix.zeros(hh, hs, k.panelWidth()) : null;
            pIhT = PackedMatrix.zeros(in, g4, k.panelWidth());
            pHhT = PackedMatrix.zeros(hh, g4, k.panelWidth());
            pHrT = proj ? PackedMatrix.zeros(hs, hh, k.panelWidth()) : null;
            nPad = pIh.paddedOutputs();
            this.bias = bias ? new float[nPad] : null;
            gates = new float[rows * nPad];
            tanhC = new float[rows * hs];
            hPrev = new float[rows * hh];
            cPrev = new float[rows * hs];
            hidden = proj ? new float[rows * hs] : null;
        }
    }

    /** @param threads at most this many threads share a product */
    public FastBackward(LstmConfig config, int batch, int steps, int threads) {
        this.config = config;
        this.batch = batch;
        this.steps = steps;
        this.rows = batch * steps;
        this.threads = threads;
        this.d = config.directions();
        this.layers = config.numLayers();
        this.hs = config.hiddenSize();
        this.hh = config.outputHiddenSize();
        this.g4 = 4 * hs;
        this.outSize = d * hh;
        this.split = new PanelSplit(Kernels.get(), threads);
        boolean proj = config.projSize() > 0;
        int nr = split.kernels().panelWidth();
        cells = new Cell[layers * d];
        int maxIn = 0, maxInPad = 0;
        for (int layer = 0; layer < layers; layer++) {
            int in = config.layerInputSize(layer);
            maxIn = Math.max(maxIn, in);
            maxInPad = Math.max(maxInPad, pad(in, nr));
            for (int dir = 0; dir < d; dir++) {
                cells[layer * d + dir] = new Cell(in, config.bias(), proj);
            }
        }
        outs = new float[layers][rows * outSize];
        dropped = new float[layers - 1][rows * outSize];
        inputs = new float[layers][];
        xT = new float[rows * config.inputSize()];
        h = new float[batch * hh];
        c = new float[batch * hs];
        hp = proj ? new float[batch * pad(hh, nr)] : null;
        dIns = new float[layers][];
        for (int layer = 0; layer < layers; layer++) {
            dIns[layer] = new float[rows * config.layerInputSize(layer)];
        }
        dTop = new float[rows * outSize];
        dZ = new float[rows * g4];
        dhT = new float[batch * hh];
        dh = new float[batch * hh];
        dc = new float[batch * hs];
        dhp = new float[batch * pad(hh, nr)];
        dHid = proj ? new float[batch * pad(hs, nr)] : null;
        dhTall = proj ? new float[rows * hh] : null;
        dx = new float[rows * maxInPad];
        catT = new float[(maxIn + hh) * rows];
        dWT = new float[(maxIn + hh) * pad(g4, nr)];
        db = new float[g4];
        dzBlocks = blocks(g4, nr);
        hiddenT = proj ? new float[hs * rows] : null;
        dWhrT = proj ? new float[hs * pad(hh, nr)] : null;
        dhBlocks = proj ? blocks(hh, nr) : null;
    }

    /** Packed (n, KC) weights covering the R rows, the last one shorter when KC does not divide R. */
    private PackedMatrix[] blocks(int n, int nr) {
        PackedMatrix[] b = new PackedMatrix[(rows + KC - 1) / KC];
        for (int i = 0; i < b.length; i++) {
            b[i] = PackedMatrix.zeros(n, Math.min(KC, rows - i * KC), nr);
        }
        return b;
    }

    /** Packs rows r0 .. r0+count-1 of S (R, n) into their blocks (a step's rows may straddle two). */
    private static void packRows(PackedMatrix[] blocks, float[] s, int n, int r0, int count) {
        for (int r = r0, end = r0 + count; r < end; ) {
            int i = r / KC, q = r % KC, m = Math.min(end - r, KC - q);
            blocks[i].setTransposedRows(s, r * n, n, q, m);
            r += m;
        }
    }

    private static int pad(int n, int nr) {
        return (n + nr - 1) / nr * nr;
    }

    /** Whether this workspace is for these shapes. */
    public boolean fits(LstmConfig config, int batch, int steps, int threads) {
        return this.config.equals(config) && this.batch == batch && this.steps == steps && this.threads == threads;
    }

    /** B·T·I, the length of x and of dInput. */
    public int inputLength() {
        return rows * config.inputSize();
    }

    /** Forward passes run so far (a pass whose number is not the last one's has lost its tape). */
    public int forwards() {
        return forwards;
    }

    /**
     * Takes the current weights of layer·direction {@code ld} (float32 values held in doubles, PyTorch layout) and packs
     * them; call before each forward whose weights changed. bIh, bHh and wHr may be null where the model has none.
     */
    public void weights(int ld, double[] wIh, double[] wHh, double[] bIh, double[] bHh, double[] wHr) {
        Cell w = cells[ld];
        toFloats(wIh, w.wIh);
        toFloats(wHh, w.wHh);
        w.pIh.set(w.wIh);
        w.pHh.set(w.wHh);
        w.pIhT.setTransposed(w.wIh, 0, w.in);
        w.pHhT.setTransposed(w.wHh, 0, hh);
        if (w.bias != null) {
            for (int r = 0; r < g4; r++) {
                w.bias[r] = (float) bIh[r] + (float) bHh[r];
            }
        }
        if (w.wHr != null) {
            toFloats(wHr, w.wHr);
            w.pHr.set(w.wHr);
            w.pHrT.setTransposed(w.wHr, 0, hs);
        }
    }

    private static void toFloats(double[] from, float[] to) {
        for (int k = 0; k < to.length; k++) {
            to[k] = (float) from[k];
        }
    }

    private boolean active(int b, int t) {
        return lengths == null || t < lengths[b];
    }

    /**
     * The forward pass; shapes as {@link dev.lstm4j.reference.ReferenceBackward#forward}. Writes the last layer's
     * output (B, T, D·Hh), h_n (L·D, B, Hh) and c_n (L·D, B, H) into the given arrays. The arrays lengths and masks
     * are kept for the backward.
     *
     * @param x     (B, T, I)
     * @param h0    (L·D, B, Hh) or null for zeros
     * @param c0    (L·D, B, H) or null for zeros
     * @param masks per layer below the last, (B, T, D·Hh), or null
     */
    public void forward(double[] x, double[] h0, double[] c0, int[] lengths, double[][] masks, double[] output, double[] hN, double[] cN) {
        this.lengths = lengths;
        this.masks = masks;
        forwards++;
        int inSize = config.inputSize();
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                int src = (b * steps + t) * inSize, dst = (t * batch + b) * inSize;
                for (int k = 0; k < inSize; k++) {
                    xT[dst + k] = (float) x[src + k];
                }
            }
        }
        float[] in = xT;
        for (int layer = 0; layer < layers; layer++) {
            inputs[layer] = in;
            float[] out = outs[layer];
            if (lengths != null) {
                Arrays.fill(out, 0f);  // padded steps' outputs are 0
            }
            for (int dir = 0; dir < d; dir++) {
                forwardCell(layer, dir, in, out, h0, c0, hN, cN);
            }
            if (layer < layers - 1 && masks != null && masks[layer] != null) {
                // inter-layer dropout: the next layer reads out ⊙ mask
                float[] dr = dropped[layer];
                double[] mask = masks[layer];
                for (int t = 0; t < steps; t++) {
                    for (int b = 0; b < batch; b++) {
                        int o = (t * batch + b) * outSize, mo = (b * steps + t) * outSize;
                        for (int k = 0; k < outSize; k++) {
                            dr[o + k] = out[o + k] * (float) mask[mo + k];
                        }
                    }
                }
                in = dr;
            } else {
                in = out;
            }
        }
        float[] top = outs[layers - 1];
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int src = (t * batch + b) * outSize, dst = (b * steps + t) * outSize;
                for (int k = 0; k < outSize; k++) {
                    output[dst + k] = top[src + k];
                }
            }
        }
    }

    /** One layer and direction over all steps: reads in (R, I_l), writes its half of out (R, D·Hh). */
    private void forwardCell(int layer, int dir, float[] in, float[] out, double[] h0, double[] c0, double[] hN, double[] cN) {
        int ld = layer * d + dir;
        Cell w = cells[ld];
        int nPad = w.nPad;
        for (int k = 0; k < batch * hh; k++) {
            h[k] = h0 == null ? 0f : (float) h0[ld * batch * hh + k];
        }
        for (int k = 0; k < batch * hs; k++) {
            c[k] = c0 == null ? 0f : (float) c0[ld * batch * hs + k];
        }
        // input projections of all steps as one product: z (R, 4H) = x W_ihᵀ + b_ih + b_hh
        split.gemm(in, 0, w.in, rows, w.pIh, w.bias, w.gates, 0, nPad, false);
        for (int n = 0; n < steps; n++) {
            int t = dir == 0 ? n : steps - 1 - n;
            int r0 = t * batch;
            // the state this step starts from, kept for the backward
            System.arraycopy(h, 0, w.hPrev, r0 * hh, batch * hh);
            System.arraycopy(c, 0, w.cPrev, r0 * hs, batch * hs);
            // recurrent product for the whole batch: z_t += h_{t-1} W_hhᵀ
            split.gemm(h, 0, hh, batch, w.pHh, null, w.gates, r0 * nPad, nPad, true);
            // gates, cell and hidden state per row, rows shared by the threads
            gateRows.w = w;
            gateRows.t = t;
            split.rows(gateRows, batch);
            if (w.pHr != null) {
                // projection for the whole batch: h (B, P) = hidden W_hrᵀ; rows past their length keep their h
                int ldp = w.pHr.paddedOutputs();
                split.gemm(w.hidden, r0 * hs, hs, batch, w.pHr, null, hp, 0, ldp, false);
                for (int b = 0; b < batch; b++) {
                    if (active(b, t)) {
                        System.arraycopy(hp, b * ldp, h, b * hh, hh);
                    }
                }
            }
            for (int b = 0; b < batch; b++) {
                if (active(b, t)) {
                    System.arraycopy(h, b * hh, out, (r0 + b) * outSize + dir * hh, hh);
                }
            }
        }
        for (int k = 0; k < batch * hh; k++) {
            hN[ld * batch * hh + k] = h[k];
        }
        for (int k = 0; k < batch * hs; k++) {
            cN[ld * batch * hs + k] = c[k];
        }
    }

    /**
     * The backward pass of the last {@link #forward}; shapes as {@link dev.lstm4j.reference.ReferenceBackward#backward}.
     * Adds into {@code grads} ([layer·D + direction]) and writes dInput (B, T, I), dH0 (L·D, B, Hh) and dC0 (L·D, B, H)
     * into the arrays given; each may be null when not wanted (no dInput saves the first layer's dx product).
     *
     * @param dOutput (B, T, D·Hh) or null for zero
     * @param dHn     (L·D, B, Hh) or null for zero
     * @param dCn     (L·D, B, H) or null for zero
     */
    public void backward(double[] dOutput, double[] dHn, double[] dCn, CellGrads[] grads, double[] dInput, double[] dH0, double[] dC0) {
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int dst = (t * batch + b) * outSize, src = (b * steps + t) * outSize;
                for (int k = 0; k < outSize; k++) {
                    dTop[dst + k] = dOutput == null ? 0f : (float) dOutput[src + k];
                }
            }
        }
        float[] dOut = dTop;
        for (int layer = layers - 1; layer >= 0; layer--) {
            float[] dIn = layer > 0 || dInput != null ? dIns[layer] : null;
            if (dIn != null) {
                Arrays.fill(dIn, 0f);
            }
            for (int dir = 0; dir < d; dir++) {
                backwardCell(layer, dir, dOut, dIn, dHn, dCn, grads[layer * d + dir], dH0, dC0);
            }
            if (layer > 0) {
                if (masks != null && masks[layer - 1] != null) {
                    // through the dropout: d(out ⊙ mask) = d ⊙ mask
                    double[] mask = masks[layer - 1];
                    for (int t = 0; t < steps; t++) {
                        for (int b = 0; b < batch; b++) {
                            int o = (t * batch + b) * outSize, mo = (b * steps + t) * outSize;
                            for (int k = 0; k < outSize; k++) {
                                dIn[o + k] *= (float) mask[mo + k];
                            }
                        }
                    }
                }
                dOut = dIn;
            }
        }
        if (dInput != null) {
            int inSize = config.inputSize();
            float[] d0 = dIns[0];
            for (int t = 0; t < steps; t++) {
                for (int b = 0; b < batch; b++) {
                    int src = (t * batch + b) * inSize, dst = (b * steps + t) * inSize;
                    for (int k = 0; k < inSize; k++) {
                        dInput[dst + k] = d0[src + k];
                    }
                }
            }
        }
    }

    /** One layer and direction: the time loop backwards, then the products over all rows. */
    private void backwardCell(int layer, int dir, float[] dOut, float[] dIn, double[] dHn, double[] dCn, CellGrads gr,
                              double[] dH0, double[] dC0) {
        int ld = layer * d + dir;
        Cell w = cells[ld];
        for (int k = 0; k < batch * hh; k++) {
            dh[k] = dHn == null ? 0f : (float) dHn[ld * batch * hh + k];
        }
        for (int k = 0; k < batch * hs; k++) {
            dc[k] = dCn == null ? 0f : (float) dCn[ld * batch * hs + k];
        }
        int ldHid = w.pHrT == null ? hh : w.pHrT.paddedOutputs(), ldDh = w.pHhT.paddedOutputs();
        for (int n = steps - 1; n >= 0; n--) {
            int t = dir == 0 ? n : steps - 1 - n;
            int r0 = t * batch;
            // dh_t = what the next step passed back + the output's gradient (rows past their length: 0)
            for (int b = 0; b < batch; b++) {
                int o = (r0 + b) * outSize + dir * hh;
                boolean on = active(b, t);
                for (int k = 0; k < hh; k++) {
                    dhT[b * hh + k] = on ? dh[b * hh + k] + dOut[o + k] : 0f;
                }
            }
            float[] dHidden = dhT;
            if (w.pHrT != null) {
                // through the projection h = W_hr hidden, for the whole batch: dhidden (B, H) = dh_t W_hr
                System.arraycopy(dhT, 0, dhTall, r0 * hh, batch * hh);
                packRows(dhBlocks, dhTall, hh, r0, batch);
                split.gemm(dhT, 0, hh, batch, w.pHrT, null, dHid, 0, ldHid, false);
                dHidden = dHid;
            }
            // through the gates per row, rows shared by the threads
            cellRows.w = w;
            cellRows.t = t;
            cellRows.dHidden = dHidden;
            cellRows.ldHid = ldHid;
            split.rows(cellRows, batch);
            // dh_{t-1} for the whole batch: dz_t (B, 4H) · W_hh; rows past their length pass dh through
            split.gemm(dZ, r0 * g4, g4, batch, w.pHhT, null, dhp, 0, ldDh, false);
            for (int b = 0; b < batch; b++) {
                if (active(b, t)) {
                    System.arraycopy(dhp, b * ldDh, dh, b * hh, hh);
                }
            }
        }
        if (dIn != null) {
            // dx = dZ · W_ih over all rows
            int in = w.in, inPad = w.pIhT.paddedOutputs();
            split.gemm(dZ, 0, g4, rows, w.pIhT, null, dx, 0, inPad, false);
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < in; k++) {
                    dIn[r * in + k] += dx[r * inPad + k];
                }
            }
        }
        weightGradients(w, inputs[layer], gr);
        if (dH0 != null) {
            for (int k = 0; k < batch * hh; k++) {
                dH0[ld * batch * hh + k] = dh[k];
            }
        }
        if (dC0 != null) {
            for (int k = 0; k < batch * hs; k++) {
                dC0[ld * batch * hs + k] = dc[k];
            }
        }
    }

    /** The forward gate pass of step t for batch rows [from, to) (the hidden state before a projection goes to the tape). */
    private final class GateRows implements PanelSplit.Rows {
        Cell w;
        int t;

        @Override
        public void run(int from, int to) {
            int nPad = w.nPad;
            for (int b = from; b < to; b++) {
                if (active(b, t)) {
                    int row = t * batch + b;
                    if (w.hidden != null) {
                        gateMath.forward(w.gates, row * nPad, hs, c, b * hs, w.tanhC, row * hs, w.hidden, row * hs);
                    } else {
                        gateMath.forward(w.gates, row * nPad, hs, c, b * hs, w.tanhC, row * hs, h, b * hh);
                    }
                }
            }
        }
    }

    /** The backward through the gates of step t for batch rows [from, to); rows past their length get dz = 0. */
    private final class CellRows implements PanelSplit.Rows {
        Cell w;
        int t, ldHid;
        float[] dHidden;

        @Override
        public void run(int from, int to) {
            for (int b = from; b < to; b++) {
                int row = t * batch + b;
                if (active(b, t)) {
                    cellBackward(w, row, dHidden, b * ldHid, b * hs, row * g4);
                } else {
                    Arrays.fill(dZ, row * g4, (row + 1) * g4, 0f);
                }
            }
            // the weight gradients' operand, packed while these rows are cached
            packRows(dzBlocks, dZ, g4, t * batch + from, to - from);
        }
    }

    /**
     * Through one row's gates, from dh (here {@code dHidden}, before any projection) and the dc the next step passed
     * back, to dz (written at {@code zo}) and the dc of the step before (in place):
     * <pre>
     * do = dh ⊙ tanh(c_t)                       dz_o = do ⊙ o ⊙ (1 − o)
     * dc = dc_next + dh ⊙ o ⊙ (1 − tanh²(c_t))
     * df = dc ⊙ c_{t-1}                         dz_f = df ⊙ f ⊙ (1 − f)
     * di = dc ⊙ g                               dz_i = di ⊙ i ⊙ (1 − i)
     * dg = dc ⊙ i                               dz_g = dg ⊙ (1 − g²)
     * dc_{t-1} = dc ⊙ f
     * </pre>
     */
    private void cellBackward(Cell w, int row, float[] dHidden, int dho, int dco, int zo) {
        float[] gates = w.gates, tanhC = w.tanhC, cPrev = w.cPrev, dz = dZ, dcs = dc;
        int go = row * w.nPad, to = row * hs;
        for (int k = 0; k < hs; k++) {
            float ig = gates[go + k], fg = gates[go + hs + k], gg = gates[go + 2 * hs + k], og = gates[go + 3 * hs + k];
            float th = tanhC[to + k];
            float dH = dHidden[dho + k];
            float dO = dH * th;
            float dC = dcs[dco + k] + dH * og * (1 - th * th);
            dcs[dco + k] = dC * fg;
            dz[zo + k] = dC * gg * ig * (1 - ig);
            dz[zo + hs + k] = dC * cPrev[to + k] * fg * (1 - fg);
            dz[zo + 2 * hs + k] = dC * ig * (1 - gg * gg);
            dz[zo + 3 * hs + k] = dO * og * (1 - og);
        }
    }

    /**
     * dW_ih += dZᵀ x, dW_hh += dZᵀ h_prev, db_ih = db_hh += Σ dz, dW_hr += dhᵀ hidden, over all R rows at once:
     * as {@code [dW_ih | dW_hh]ᵀ = [x | h_prev]ᵀ · dZ}, one product whose right operand is dZ itself (packed a block of
     * rows at a time), so only the narrower left operands are transposed.
     */
    private void weightGradients(Cell w, float[] in, CellGrads gr) {
        int inSize = w.in, m = inSize + hh, ldc = w.nPad;
        transpose(in, rows, inSize, catT, 0);
        transpose(w.hPrev, rows, hh, catT, inSize * rows);
        blockedProduct(catT, m, dzBlocks, dWT, ldc);
        double[] dWih = gr.dWeightIh(), dWhh = gr.dWeightHh();
        for (int r = 0; r < g4; r++) {
            for (int k = 0; k < inSize; k++) {
                dWih[r * inSize + k] += dWT[k * ldc + r];
            }
            for (int k = 0; k < hh; k++) {
                dWhh[r * hh + k] += dWT[(inSize + k) * ldc + r];
            }
        }
        if (gr.dBiasIh() != null) {
            Arrays.fill(db, 0f);
            for (int row = 0; row < rows; row++) {
                for (int r = 0; r < g4; r++) {
                    db[r] += dZ[row * g4 + r];
                }
            }
            for (int r = 0; r < g4; r++) {
                gr.dBiasIh()[r] += db[r];
                gr.dBiasHh()[r] += db[r];
            }
        }
        if (w.hidden != null) {
            int ldp = pad(hh, split.kernels().panelWidth());
            transpose(w.hidden, rows, hs, hiddenT, 0);
            blockedProduct(hiddenT, hs, dhBlocks, dWhrT, ldp);
            double[] dWhr = gr.dWeightHr();
            for (int r = 0; r < hh; r++) {
                for (int k = 0; k < hs; k++) {
                    dWhr[r * hs + k] += dWhrT[k * ldp + r];
                }
            }
        }
    }

    /**
     * {@code C (m, pad(n)) = A · S}, A (m, R) row-major and S (R, n) given as its blocks of {@link #KC} rows, each packed
     * as the weight {@code Sᵀ} (n, KC): each block is multiplied by the matching KC columns of A, accumulating into C,
     * so a block stays cached while every row of A passes over it.
     */
    private void blockedProduct(float[] a, int m, PackedMatrix[] blocks, float[] c, int ldc) {
        for (int i = 0; i < blocks.length; i++) {
            split.gemm(a, i * KC, rows, m, blocks[i], null, c, 0, ldc, i > 0);
        }
    }

    /** dst[off + c·rows + r] = src[r·cols + c]: the (cols, rows) transpose of src (rows, cols), in tiles. */
    private static void transpose(float[] src, int rows, int cols, float[] dst, int off) {
        final int tile = 16;
        for (int r0 = 0; r0 < rows; r0 += tile) {
            int r1 = Math.min(rows, r0 + tile);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int c1 = Math.min(cols, c0 + tile);
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        dst[off + c * rows + r] = src[r * cols + c];
                    }
                }
            }
        }
    }
}
