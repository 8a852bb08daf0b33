package dev.lstm4j;

import dev.lstm4j.internal.LstmEngine;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.internal.kernel.FastLstm;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One time step for many independent streams at once: given N inputs and N states, computes the N next states and
 * outputs, as N separate {@code out, (h, c) = lstm(x_t, (h, c))} calls would, but as batched products on the fast
 * path: pieces of up to 128 keys, each one product per layer over the keys' {@code [x | h]}, shared out among the
 * engine's threads, on the caller's arrays in place. This is what an engine that keeps one LSTM state per key (Flink,
 * Kafka Streams) runs on a mini-batch of events from different keys.
 *
 * <p>Per key the results are those of {@link Lstm#forward} on that key's sequence: bit for bit on the reference path
 * (and for float64 models, which always run it), within the fast path's kernel tolerance otherwise
 * ({@code LstmStepperTest}).
 *
 * <p>Two forms: flat primitive arrays ({@link #step(int, float[], float[], float[], float[])}), which allocate nothing
 * on the fast path once each thread has run a piece ({@code LstmStepperTest}), and {@link StreamState} values
 * ({@link #step(StreamState[], float[], float[])}), which engines store per key; for a float32 model that form allocates
 * only the new states (each a StreamState and its h and c) and keeps buffers for the largest N it has stepped. While
 * another caller holds the engine's helper threads, a call runs all its pieces on the calling thread.
 *
 * <p>Not thread-safe (it owns work buffers): use one per thread. Any number of steppers may share one {@link Lstm}.
 *
 * <p>Legend: N streams in a call, I input, H hidden, Hh size of h (P when projected), L layers. A stream's state is
 * h {@code (L, Hh)} and c {@code (L, H)}, stored key after key: h {@code (N, L, Hh)}, c {@code (N, L, H)}.
 */
public final class LstmStepper {
    private final Lstm lstm;
    private final LstmConfig config;
    private final FastLstm fast;  // null: reference path
    private final FastLstm.KeySteps keySteps;
    private final byte[] fingerprint;
    private final int in, hh, hs, layers;
    /** The float32 StreamState form's h (N, L, Hh) and c (N, L, H), kept at the largest N seen. */
    private float[] stateH = new float[0], stateC = new float[0];

    /**
     * @throws InputException when the LSTM is bidirectional: its reverse direction starts at the end of a sequence
     */
    public LstmStepper(Lstm lstm) {
        Validate.input(lstm != null, "LstmStepper needs an Lstm");
        Validate.input(!lstm.config().bidirectional(), "stepping needs a unidirectional LSTM: " + lstm.config()
                + " is bidirectional, and its reverse direction starts at the end of the sequence; run whole sequences with Lstm.forward");
        this.lstm = lstm;
        this.config = lstm.config();
        LstmEngine engine = lstm.engine();
        this.fast = engine instanceof FastLstm ? (FastLstm) engine : null;
        this.keySteps = fast == null ? null : fast.keySteps();
        this.fingerprint = fingerprint(lstm);
        this.in = config.inputSize();
        this.hh = config.outputHiddenSize();
        this.hs = config.hiddenSize();
        this.layers = config.numLayers();
    }

    public Lstm lstm() {
        return lstm;
    }

    /** Whether steps run on the fast path (a float32 model built for it); else on the reference equations. */
    public boolean usesFastPath() {
        return fast != null;
    }

    /** Floats of one stream's h: L·Hh. */
    public int hSize() {
        return layers * hh;
    }

    /** Floats of one stream's c: L·H. */
    public int cSize() {
        return layers * hs;
    }

    /** SHA-256 of the model's configuration and weights, as stored in every {@link StreamState} (a copy). */
    public byte[] fingerprint() {
        return fingerprint.clone();
    }

    /** The state a new stream starts from: zeros, no steps taken. */
    public StreamState zeroState() {
        return lstm.precision() == Precision.F64
                ? StreamState.ofDoubles(fingerprint, layers, new double[hSize()], new double[cSize()], 0)
                : StreamState.ofFloats(fingerprint, layers, new float[hSize()], new float[cSize()], 0);
    }

    /**
     * A state holding {@code state}'s h {@code (L, Hh)} and c {@code (L, H)}, e.g. to start a stream from h0, c0.
     *
     * @throws InputException when a shape is wrong
     */
    public StreamState stateOf(LstmState state, long steps) {
        Validate.input(state != null, "state is null");
        int[] hShape = {layers, hh}, cShape = {layers, hs};
        Validate.input(Arrays.equals(state.h().shape(), hShape) && Arrays.equals(state.c().shape(), cShape), "state: expected h "
                + Tensor.shapeString(hShape) + " and c " + Tensor.shapeString(cShape) + " (num_layers, size), got "
                + Tensor.shapeString(state.h().shape()) + " and " + Tensor.shapeString(state.c().shape()));
        if (lstm.precision() == Precision.F64) {
            return StreamState.ofDoubles(fingerprint, layers, state.h().to(DType.F64).toDoubleArray(), state.c().to(DType.F64).toDoubleArray(), steps);
        }
        return StreamState.ofFloats(fingerprint, layers, state.h().to(DType.F32).toFloatArray(), state.c().to(DType.F32).toFloatArray(), steps);
    }

    /**
     * Steps N streams, replacing each {@code states[k]} by its next state (a null entry starts from zeros).
     *
     * @param x   (N, I) one input per stream, N = states.length
     * @param out (N, Hh) receives each stream's output h_t of the last layer, or null
     * @throws InputException when a length is wrong, or a state was made by another model or has another precision
     */
    public void step(StreamState[] states, float[] x, float[] out) {
        Validate.input(states != null, "states are null");
        int n = states.length;
        if (n == 0) {
            return;
        }
        checkLengths(n, x, out);
        for (int k = 0; k < n; k++) {
            StreamState s = states[k];
            // checked per stream: the messages are built only when a check fails
            if (s != null && !s.madeBy(fingerprint)) {
                throw new InputException("states[" + k + "]: made by another model (fingerprint "
                        + HexFormat.of().formatHex(s.fingerprint(), 0, 8) + "…, this model " + HexFormat.of().formatHex(fingerprint, 0, 8)
                        + "…); restore the model that made it, or drop the state to start the stream again");
            }
            if (s != null && s.precision() != lstm.precision()) {
                throw new InputException("states[" + k + "]: holds " + s.precision().dtype().torchName() + " values, this model computes in "
                        + lstm.precision().dtype().torchName() + "; load the model as it was when the state was made");
            }
        }
        if (lstm.precision() == Precision.F64) {
            double[] h = new double[n * hSize()], c = new double[n * cSize()];
            for (int k = 0; k < n; k++) {
                if (states[k] != null) {
                    System.arraycopy(states[k].hDoubles(), 0, h, k * hSize(), hSize());
                    System.arraycopy(states[k].cDoubles(), 0, c, k * cSize(), cSize());
                }
            }
            double[] xd = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                xd[i] = x[i];
            }
            double[] o = new double[n * hh];
            reference(n, Tensor.of(DType.F64, new int[] {n, 1, in}, xd), h, c, o);
            for (int k = 0; k < n; k++) {
                long steps = states[k] == null ? 1 : states[k].steps() + 1;
                states[k] = StreamState.ofDoubles(fingerprint, layers, Arrays.copyOfRange(h, k * hSize(), (k + 1) * hSize()),
                        Arrays.copyOfRange(c, k * cSize(), (k + 1) * cSize()), steps);
            }
            if (out != null) {
                for (int i = 0; i < o.length; i++) {
                    out[i] = (float) o[i];
                }
            }
            return;
        }
        // the keys' states side by side, in buffers kept for the next call: only the new states are allocated
        if (stateH.length < n * hSize()) {
            stateH = new float[n * hSize()];
            stateC = new float[n * cSize()];
        }
        float[] h = stateH, c = stateC;
        for (int k = 0; k < n; k++) {
            if (states[k] != null) {
                System.arraycopy(states[k].hFloats(), 0, h, k * hSize(), hSize());
                System.arraycopy(states[k].cFloats(), 0, c, k * cSize(), cSize());
            } else {
                Arrays.fill(h, k * hSize(), (k + 1) * hSize(), 0f);
                Arrays.fill(c, k * cSize(), (k + 1) * cSize(), 0f);
            }
        }
        step(n, x, h, c, out);
        for (int k = 0; k < n; k++) {
            long steps = states[k] == null ? 1 : states[k].steps() + 1;
            states[k] = StreamState.ofFloats(fingerprint, layers, Arrays.copyOfRange(h, k * hSize(), (k + 1) * hSize()),
                    Arrays.copyOfRange(c, k * cSize(), (k + 1) * cSize()), steps);
        }
    }

    /**
     * Steps N streams of a float32 model in place, allocating nothing on the fast path once a call of this
     * size's buckets has been made. N is cut into products of 128 rows per fast-path thread (at most 1,024), then halves
     * of that down to 16 rows, and a last one of fewer than 16 rows at its own size, so no row is padded.
     *
     * @param n   streams, N ≥ 0
     * @param x   (N, I) one input per stream
     * @param h   (N, L, Hh) each stream's h, replaced by the next
     * @param c   (N, L, H) each stream's c, replaced by the next
     * @param out (N, Hh) receives each stream's output h_t of the last layer, or null
     * @throws InputException when an array is too short, or the model is float64 (use {@link #step(int, double[], double[], double[], double[])})
     */
    public void step(int n, float[] x, float[] h, float[] c, float[] out) {
        if (lstm.precision() != Precision.F32) {
            throw new InputException("this model computes in float64; step it with double arrays"
                    + " (step(int, double[], ...)) or StreamState values, so its state keeps float64 precision");
        }
        if (n < 0) {
            throw new InputException("stream count must be ≥ 0, got " + n);
        }
        checkLengths(n, x, out);
        checkState(n, h == null ? -1 : h.length, c == null ? -1 : c.length);
        if (n == 0) {
            return;
        }
        if (fast == null) {
            float[] o = new float[n * hh];
            float[] xs = Arrays.copyOf(x, n * in);
            double[] hd = new double[n * hSize()], cd = new double[n * cSize()];
            for (int i = 0; i < hd.length; i++) {
                hd[i] = h[i];
            }
            for (int i = 0; i < cd.length; i++) {
                cd[i] = c[i];
            }
            double[] od = new double[n * hh];
            reference(n, Tensor.of(new int[] {n, 1, in}, xs), hd, cd, od);
            for (int i = 0; i < hd.length; i++) {
                h[i] = (float) hd[i];
            }
            for (int i = 0; i < cd.length; i++) {
                c[i] = (float) cd[i];
            }
            if (out != null) {
                for (int i = 0; i < od.length; i++) {
                    out[i] = (float) od[i];
                }
            }
            return;
        }
        keySteps.step(n, x, h, c, out);
    }

    /**
     * Steps N streams of any model in place, on the reference equations (float64 models compute in float64).
     *
     * @param x   (N, I), h (N, L, Hh), c (N, L, H), out (N, Hh) or null, as in the float form
     */
    public void step(int n, double[] x, double[] h, double[] c, double[] out) {
        Validate.input(n >= 0, "stream count must be ≥ 0, got " + n);
        Validate.input(x != null && x.length >= n * in, "x: expected (N=" + n + ", input_size=" + in + ") = " + n * in + " values, got "
                + (x == null ? "null" : x.length));
        Validate.input(out == null || out.length >= n * hh, "out: expected (N=" + n + ", " + hh + ") = " + n * hh + " values, got " + (out == null ? 0 : out.length));
        checkState(n, h == null ? -1 : h.length, c == null ? -1 : c.length);
        if (n == 0) {
            return;
        }
        double[] o = new double[n * hh];
        reference(n, Tensor.of(lstm.precision().dtype(), new int[] {n, 1, in}, Arrays.copyOf(x, n * in)), h, c, o);
        if (out != null) {
            System.arraycopy(o, 0, out, 0, o.length);
        }
    }

    /** One reference step of n streams: h, c (N, L, ·) replaced by the next state, out (N, Hh) written. */
    private void reference(int n, Tensor x, double[] h, double[] c, double[] out) {
        DType dt = lstm.precision().dtype();
        Tensor h0 = Tensor.of(dt, new int[] {layers, n, hh}, keyMajorToLayerMajor(h, n, hh));
        Tensor c0 = Tensor.of(dt, new int[] {layers, n, hs}, keyMajorToLayerMajor(c, n, hs));
        LstmOutput r = lstm.reference().forward(x, h0, c0);
        layerMajorToKeyMajor(r.hN().toDoubleArray(), h, n, hh);
        layerMajorToKeyMajor(r.cN().toDoubleArray(), c, n, hs);
        double[] o = r.output().toDoubleArray();
        System.arraycopy(o, 0, out, 0, n * hh);
    }

    private double[] keyMajorToLayerMajor(double[] s, int n, int size) {
        double[] r = new double[layers * n * size];
        for (int k = 0; k < n; k++) {
            for (int l = 0; l < layers; l++) {
                System.arraycopy(s, (k * layers + l) * size, r, (l * n + k) * size, size);
            }
        }
        return r;
    }

    private void layerMajorToKeyMajor(double[] s, double[] dst, int n, int size) {
        for (int k = 0; k < n; k++) {
            for (int l = 0; l < layers; l++) {
                System.arraycopy(s, (l * n + k) * size, dst, (k * layers + l) * size, size);
            }
        }
    }

    // checks on the hot path build their message only when they fail
    private void checkLengths(int n, float[] x, float[] out) {
        if (x == null || x.length < (long) n * in) {
            throw new InputException("x: expected (N=" + n + ", input_size=" + in + ") = " + (long) n * in
                    + " floats, got " + (x == null ? "null" : x.length));
        }
        if (out != null && out.length < (long) n * hh) {
            throw new InputException("out: expected (N=" + n + ", " + (config.projSize() > 0 ? "proj_size" : "hidden_size")
                    + "=" + hh + ") = " + (long) n * hh + " floats, got " + out.length);
        }
    }

    private void checkState(int n, int hLength, int cLength) {
        if (hLength < (long) n * hSize()) {
            throw new InputException("h: expected (N=" + n + ", num_layers=" + layers + ", " + hh + ") = "
                    + (long) n * hSize() + " values, got " + (hLength < 0 ? "null" : hLength));
        }
        if (cLength < (long) n * cSize()) {
            throw new InputException("c: expected (N=" + n + ", num_layers=" + layers + ", hidden_size=" + hs + ") = "
                    + (long) n * cSize() + " values, got " + (cLength < 0 ? "null" : cLength));
        }
    }

    /**
     * SHA-256 of the configuration and every weight value (as LstmSession computes it), so a state is only continued by
     * the model that made it.
     */
    static byte[] fingerprint(Lstm lstm) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(lstm.config().toString().getBytes(StandardCharsets.UTF_8));
            ByteBuffer buf = ByteBuffer.allocate(8 * 1024);
            for (CellWeights w : lstm.cells()) {
                for (Tensor t : new Tensor[] {w.weightIh(), w.weightHh(), w.biasIh(), w.biasHh(), w.weightHr()}) {
                    if (t != null) {
                        for (int i = 0, count = t.elementCount(); i < count; i++) {
                            buf.putDouble(t.at(i));
                            if (!buf.hasRemaining()) {
                                md.update(buf.array(), 0, buf.position());
                                buf.clear();
                            }
                        }
                    }
                }
            }
            md.update(buf.array(), 0, buf.position());
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
