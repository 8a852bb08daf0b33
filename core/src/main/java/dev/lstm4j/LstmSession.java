package dev.lstm4j;

import dev.lstm4j.internal.LstmEngine;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.internal.kernel.FastLstm;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Runs a unidirectional LSTM on streams that arrive one step, or a chunk of steps, at a time, carrying each
 * stream's (h, c) between calls under a key. A stream fed in any chunking gives the numbers the whole
 * sequence gives in one {@link Lstm#forward} call, because each call continues from the state the last one
 * ended in. State can be saved to bytes and restored ({@link #save()}, {@link #restore(Lstm, byte[])}).
 *
 * <p>A float32 model on the fast path steps without allocating ({@link #step(String, float[], float[])}): one
 * product over {@code [x_t | h_{t-1}]} per layer, in work buffers the session owns. Switching keys copies the
 * stream's (h, c) in and out of the session's per-key arrays. With 2+ threads the session may own a helper thread
 * that computes half of each step while that pays (see {@code docs/streaming.md}); {@link #close()} ends it.
 *
 * <p>Not thread-safe: use one session per thread, or synchronize.
 *
 * <p>Legend: T steps in a chunk, I input, H hidden, Hh size of h (P when projected), L layers. A stream's
 * state is h {@code (L, Hh)} and c {@code (L, H)}, as PyTorch's unbatched h_n and c_n.
 */
public final class LstmSession implements AutoCloseable {
    /** Version of the {@link #save()} format this class writes. */
    public static final int FORMAT_VERSION = 1;
    private static final byte[] MAGIC = "LSTM4JSS".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_KEY_BYTES = 1 << 16;

    private final Lstm lstm;
    private final LstmConfig config;
    private final Precision precision;
    private final byte[] fingerprint;
    private final Map<String, Stream> streams = new LinkedHashMap<>();
    private final FastLstm.Stream fast;   // the zero-allocation stream, or null on the reference path
    private final float[] fastOut;        // (Hh,) the last step's output on the fast path
    private Stream live;                  // the stream whose (h, c) sits in `fast`, or null

    /** One stream's state: h (L*Hh), c (L*H), and how many steps it has taken. */
    private static final class Stream {
        double[] h;       // reference path
        double[] c;
        float[] hf;       // fast path
        float[] cf;
        long steps;

        Stream(double[] h, double[] c, long steps) {
            this.h = h;
            this.c = c;
            this.steps = steps;
        }
    }

    /**
     * @throws InputException when the LSTM is bidirectional: its reverse direction reads a sequence from its
     *                        end, so it cannot run before the stream is complete
     */
    public LstmSession(Lstm lstm) {
        Validate.input(lstm != null, "LstmSession needs an Lstm");
        Validate.input(!lstm.config().bidirectional(), "streaming needs a unidirectional LSTM: " + lstm.config()
                + " is bidirectional, and its reverse direction starts at the end of the sequence; run whole sequences with Lstm.forward");
        this.lstm = lstm;
        this.config = lstm.config();
        this.precision = lstm.precision();
        this.fingerprint = fingerprint(lstm);
        LstmEngine engine = lstm.engine();
        this.fast = engine instanceof FastLstm ? ((FastLstm) engine).stream(1) : null;
        this.fastOut = fast == null ? null : new float[config.outputHiddenSize()];
    }

    public Lstm lstm() {
        return lstm;
    }

    /** Ends the helper thread the session may own; the session stays usable on the calling thread alone. */
    @Override
    public void close() {
        if (fast != null) {
            fast.close();
        }
    }

    /**
     * Feeds one time step to stream {@code key} (a new key starts from zero state).
     *
     * @param x (I,) features
     * @return the step's output h_t of the last layer, (Hh,)
     * @throws InputException when x does not have I features
     */
    public double[] step(String key, double[] x) {
        Validate.input(x != null, "stream '" + key + "': step is null");
        if (fast != null) {
            Validate.input(x.length == config.inputSize(), "stream '" + key + "': expected " + config.inputSize()
                    + " features (input_size), got " + x.length);
            float[] xf = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                xf[i] = (float) x[i];
            }
            step(key, xf, fastOut);
            double[] r = new double[fastOut.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = fastOut[i];
            }
            return r;
        }
        Tensor out = run(key, Tensor.of(precision.dtype(), new int[] {1, x.length}, x));
        return out.toDoubleArray();
    }

    /**
     * Feeds one time step to stream {@code key} without allocating (once the key exists), for float32 models.
     *
     * @param x   (I,) features
     * @param out (Hh,) receives the step's output h_t of the last layer
     * @throws InputException when a length is wrong, or the model is float64 (use {@link #step(String, double[])})
     */
    public void step(String key, float[] x, float[] out) {
        Validate.input(key != null, "stream key is null; use \"\" for a single stream");
        if (fast == null) {
            Validate.input(x != null && out != null && out.length == config.outputHiddenSize(), "stream '" + key
                    + "': expected x of " + config.inputSize() + " and out of " + config.outputHiddenSize() + " floats");
            double[] xd = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                xd[i] = x[i];
            }
            double[] r = step(key, xd);
            for (int i = 0; i < r.length; i++) {
                out[i] = (float) r[i];
            }
            return;
        }
        Stream s = streams.get(key);
        if (s == null) {
            s = new Stream(null, null, 0);
            s.hf = new float[config.numLayers() * config.outputHiddenSize()];
            s.cf = new float[config.numLayers() * config.hiddenSize()];
            streams.put(key, s);
        }
        enter(s);
        fast.step(x, out);
        s.steps++;
    }

    /** Makes {@code s} the stream held in the fast path's buffers, parking the one there before. */
    private void enter(Stream s) {
        if (live != s) {
            park();
            if (s.hf == null) {
                s.hf = floats(s.h);
                s.cf = floats(s.c);
                s.h = null;
                s.c = null;
            }
            fast.setState(s.hf, s.cf);
            live = s;
        }
    }

    /** Copies the live stream's (h, c) out of the fast path's buffers into its own arrays. */
    private void park() {
        if (live != null) {
            fast.getState(live.hf, live.cf);
            live = null;
        }
    }

    private static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** h and c of a stream as doubles, wherever they are held. */
    private double[][] values(Stream s) {
        if (s.hf != null) {
            if (live == s) {
                fast.getState(s.hf, s.cf);
            }
            return new double[][] {doubles(s.hf), doubles(s.cf)};
        }
        return new double[][] {s.h, s.c};
    }

    /**
     * Feeds a chunk of consecutive steps to stream {@code key}, continuing from its state.
     *
     * @param chunk (T, I), T ≥ 1
     * @return the output of every step, (T, Hh)
     * @throws InputException when the chunk is not (T, I)
     */
    public Tensor run(String key, Tensor chunk) {
        Validate.input(key != null, "stream key is null; use \"\" for a single stream");
        Validate.input(chunk != null && chunk.rank() == 2, "stream '" + key + "': expected a chunk of shape (T, input_size="
                + config.inputSize() + "), got " + (chunk == null ? "null" : Tensor.shapeString(chunk.shape())));
        if (fast != null) {
            int steps = chunk.size(0), in = config.inputSize(), hh = config.outputHiddenSize();
            Validate.input(chunk.size(1) == in, "stream '" + key + "': expected " + in + " features per step (input_size), got "
                    + chunk.size(1) + " in shape " + Tensor.shapeString(chunk.shape()));
            Validate.input(steps > 0, "stream '" + key + "': the chunk is empty (T = 0); give at least one step");
            float[] x = chunk.to(DType.F32).toFloatArray();
            float[] xt = new float[in];
            float[] out = new float[steps * hh];
            for (int t = 0; t < steps; t++) {
                System.arraycopy(x, t * in, xt, 0, in);
                step(key, xt, fastOut);
                System.arraycopy(fastOut, 0, out, t * hh, hh);
            }
            return Tensor.wrap(DType.F32, new int[] {steps, hh}, out);
        }
        Stream s = streams.get(key);
        LstmState initial = s == null ? null : stateOf(s);
        LstmOutput out = lstm.forward(chunk, ForwardOptions.defaults().withInitial(initial));
        if (s == null) {
            s = new Stream(null, null, 0);
            streams.put(key, s);
        }
        s.h = out.hN().toDoubleArray();
        s.c = out.cN().toDoubleArray();
        s.steps += chunk.size(0);
        return out.output();
    }

    /** The keys of the streams seen so far, in the order they started. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(streams.keySet());
    }

    /** Steps stream {@code key} has taken; 0 for an unknown key. */
    public long steps(String key) {
        Stream s = streams.get(key);
        return s == null ? 0 : s.steps;
    }

    /** Stream {@code key}'s state, h (L, Hh) and c (L, H); zeros for an unknown key. */
    public LstmState state(String key) {
        Stream s = streams.get(key);
        if (s == null) {
            return new LstmState(Tensor.zeros(precision.dtype(), config.numLayers(), config.outputHiddenSize()),
                    Tensor.zeros(precision.dtype(), config.numLayers(), config.hiddenSize()));
        }
        return stateOf(s);
    }

    private LstmState stateOf(Stream s) {
        double[][] v = values(s);
        return new LstmState(Tensor.of(precision.dtype(), new int[] {config.numLayers(), config.outputHiddenSize()}, v[0]),
                Tensor.of(precision.dtype(), new int[] {config.numLayers(), config.hiddenSize()}, v[1]));
    }

    /**
     * Sets stream {@code key}'s state, e.g. to start it from h0 and c0.
     *
     * @throws InputException when h is not (L, Hh) or c not (L, H)
     */
    public void setState(String key, LstmState state) {
        Validate.input(key != null, "stream key is null; use \"\" for a single stream");
        Validate.input(state != null, "stream '" + key + "': state is null");
        int[] hs = {config.numLayers(), config.outputHiddenSize()};
        int[] cs = {config.numLayers(), config.hiddenSize()};
        Validate.input(Arrays.equals(state.h().shape(), hs), "stream '" + key + "': h expected shape (num_layers, "
                + (config.projSize() > 0 ? "proj_size" : "hidden_size") + ") = " + Tensor.shapeString(hs) + ", got "
                + Tensor.shapeString(state.h().shape()));
        Validate.input(Arrays.equals(state.c().shape(), cs), "stream '" + key + "': c expected shape (num_layers, hidden_size) = "
                + Tensor.shapeString(cs) + ", got " + Tensor.shapeString(state.c().shape()));
        Stream s = streams.computeIfAbsent(key, k -> new Stream(null, null, 0));
        if (live == s) {
            live = null;
        }
        s.h = state.h().to(precision.dtype()).toDoubleArray();
        s.c = state.c().to(precision.dtype()).toDoubleArray();
        s.hf = null;
        s.cf = null;
    }

    /** Forgets stream {@code key}; it starts again from zeros. Returns whether it existed. */
    public boolean reset(String key) {
        Stream s = streams.remove(key);
        if (s != null && live == s) {
            live = null;
        }
        return s != null;
    }

    // ---- saving and restoring ----

    /**
     * Every stream's state as bytes: magic {@code LSTM4JSS}, format version, the model's configuration and a
     * SHA-256 of its weights, then per stream its key, step count, h and c as float64, and a CRC-32 of all
     * that. See {@code docs/streaming.md}.
     */
    public byte[] save() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeInt(FORMAT_VERSION);
            out.writeInt(config.inputSize());
            out.writeInt(config.hiddenSize());
            out.writeInt(config.numLayers());
            out.writeInt(config.projSize());
            out.writeBoolean(config.bias());
            out.writeByte(precision == Precision.F64 ? 64 : 32);
            out.write(fingerprint);
            out.writeInt(streams.size());
            for (Map.Entry<String, Stream> e : streams.entrySet()) {
                byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
                out.writeInt(key.length);
                out.write(key);
                out.writeLong(e.getValue().steps);
                double[][] v = values(e.getValue());
                for (double x : v[0]) {
                    out.writeDouble(x);
                }
                for (double x : v[1]) {
                    out.writeDouble(x);
                }
            }
            CRC32 crc = new CRC32();
            crc.update(bytes.toByteArray());
            out.writeInt((int) crc.getValue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * A session for {@code lstm} holding the streams {@link #save()} wrote.
     *
     * @throws InputException when the bytes are not a saved session, are damaged, come from a newer format,
     *                        or were saved with another model (configuration or weights differ)
     */
    public static LstmSession restore(Lstm lstm, byte[] saved) {
        LstmSession session = new LstmSession(lstm);
        Validate.input(saved != null, "session state is null");
        String what = "session state (" + saved.length + " bytes)";
        Validate.input(saved.length >= MAGIC.length + 4 && Arrays.equals(Arrays.copyOf(saved, MAGIC.length), MAGIC),
                what + ": not a saved lstm4j session (no LSTM4JSS magic); pass the bytes LstmSession.save() returned");
        ByteBuffer in = ByteBuffer.wrap(saved);
        in.position(MAGIC.length);
        int version = in.getInt();
        Validate.input(version == FORMAT_VERSION, what + ": format version " + version + ", this lstm4j reads version " + FORMAT_VERSION
                + (version > FORMAT_VERSION ? "; use the lstm4j that saved it, or a newer one" : ""));
        Validate.input(saved.length >= MAGIC.length + 8, what + ": truncated");
        CRC32 crc = new CRC32();
        crc.update(saved, 0, saved.length - 4);
        int stored = ByteBuffer.wrap(saved, saved.length - 4, 4).getInt();
        Validate.input(stored == (int) crc.getValue(), what + ": checksum mismatch, the bytes are damaged or truncated");
        try {
            LstmConfig c = lstm.config();
            int inputSize = in.getInt(), hidden = in.getInt(), layers = in.getInt(), proj = in.getInt();
            boolean bias = in.get() != 0;
            int bits = in.get();
            String savedModel = "LSTM(input_size=" + inputSize + ", hidden_size=" + hidden + ", num_layers=" + layers
                    + (proj > 0 ? ", proj_size=" + proj : "") + (bias ? "" : ", bias=False") + ") in float" + bits;
            Validate.input(inputSize == c.inputSize() && hidden == c.hiddenSize() && layers == c.numLayers() && proj == c.projSize()
                    && bias == c.bias() && bits == (session.precision == Precision.F64 ? 64 : 32), what + ": saved for " + savedModel
                    + ", but this model is " + c + " in " + session.precision.dtype().torchName() + "; restore with the model that saved it");
            byte[] fp = new byte[session.fingerprint.length];
            in.get(fp);
            Validate.input(Arrays.equals(fp, session.fingerprint), what + ": saved with other weights (same architecture, "
                    + "different values); restore with the model that saved it");
            int count = in.getInt();
            Validate.input(count >= 0, what + ": negative stream count " + count);
            int hSize = layers * c.outputHiddenSize(), cSize = layers * hidden;
            for (int n = 0; n < count; n++) {
                int keyLen = in.getInt();
                Validate.input(keyLen >= 0 && keyLen <= MAX_KEY_BYTES && keyLen <= in.remaining() - 4, what + ": stream " + n
                        + " has a key length of " + keyLen + " bytes, which does not fit");
                byte[] key = new byte[keyLen];
                in.get(key);
                String k = new String(key, StandardCharsets.UTF_8);
                long steps = in.getLong();
                Validate.input(steps >= 0, what + ": stream '" + k + "' has a negative step count " + steps);
                double[] h = new double[hSize];
                double[] cc = new double[cSize];
                for (int i = 0; i < hSize; i++) {
                    h[i] = value(in.getDouble(), session.precision, what, k);
                }
                for (int i = 0; i < cSize; i++) {
                    cc[i] = value(in.getDouble(), session.precision, what, k);
                }
                Validate.input(!session.streams.containsKey(k), what + ": stream '" + k + "' appears twice");
                session.streams.put(k, new Stream(h, cc, steps));
            }
            Validate.input(in.remaining() == 4, what + ": " + (in.remaining() - 4) + " unexpected bytes after the last stream");
        } catch (BufferUnderflowException e) {
            throw new InputException(what + ": truncated, it ends inside a stream's state", e);
        }
        return session;
    }

    private static double value(double v, Precision p, String what, String key) {
        Validate.input(Double.isNaN(v) || p.round(v) == v, what + ": stream '" + key + "' holds " + v
                + ", which is not a " + p.dtype().torchName() + " value");
        return v;
    }

    /** SHA-256 of the configuration and every weight value, so state is only restored into the model that made it. */
    private static byte[] fingerprint(Lstm lstm) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(lstm.config().toString().getBytes(StandardCharsets.UTF_8));
            for (CellWeights w : lstm.cells()) {
                for (Tensor t : new Tensor[] {w.weightIh(), w.weightHh(), w.biasIh(), w.biasHh(), w.weightHr()}) {
                    if (t != null) {
                        // the big-endian doubles of every value, hashed in blocks so a large model needs no copy
                        ByteBuffer buf = ByteBuffer.allocate(8 * 1024);
                        for (int i = 0, n = t.elementCount(); i < n; i++) {
                            buf.putDouble(t.at(i));
                            if (!buf.hasRemaining()) {
                                md.update(buf.array(), 0, buf.position());
                                buf.clear();
                            }
                        }
                        md.update(buf.array(), 0, buf.position());
                    }
                }
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
