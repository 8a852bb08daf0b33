package dev.lstm4j.stream;

import dev.lstm4j.CellWeights;
import dev.lstm4j.InputException;
import dev.lstm4j.Layout;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.LstmState;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;

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
 * <p>Not thread-safe: use one session per thread, or synchronize.
 *
 * <p>Legend: T steps in a chunk, I input, H hidden, Hh size of h (P when projected), L layers. A stream's
 * state is h {@code (L, Hh)} and c {@code (L, H)}, as PyTorch's unbatched h_n and c_n.
 */
public final class LstmSession {
    /** Version of the {@link #save()} format this class writes. */
    public static final int FORMAT_VERSION = 1;
    private static final byte[] MAGIC = "LSTM4JSS".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_KEY_BYTES = 1 << 16;

    private final Lstm lstm;
    private final LstmConfig config;
    private final Precision precision;
    private final byte[] fingerprint;
    private final Map<String, Stream> streams = new LinkedHashMap<>();

    /** One stream's state: h (L*Hh), c (L*H), and how many steps it has taken. */
    private static final class Stream {
        double[] h;
        double[] c;
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
    }

    public Lstm lstm() {
        return lstm;
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
        Tensor out = run(key, Tensor.of(precision.dtype(), new int[] {1, x.length}, x));
        return out.toDoubleArray();
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
        Stream s = streams.get(key);
        LstmState initial = s == null ? null : stateOf(s);
        LstmOutput out = lstm.forward(chunk, Layout.BATCH_FIRST, initial);
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
        return new LstmState(Tensor.of(precision.dtype(), new int[] {config.numLayers(), config.outputHiddenSize()}, s.h),
                Tensor.of(precision.dtype(), new int[] {config.numLayers(), config.hiddenSize()}, s.c));
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
        s.h = state.h().to(precision.dtype()).toDoubleArray();
        s.c = state.c().to(precision.dtype()).toDoubleArray();
    }

    /** Forgets stream {@code key}; it starts again from zeros. Returns whether it existed. */
    public boolean reset(String key) {
        return streams.remove(key) != null;
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
                for (double v : e.getValue().h) {
                    out.writeDouble(v);
                }
                for (double v : e.getValue().c) {
                    out.writeDouble(v);
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
            throw new InputException(what + ": truncated, it ends inside a stream's state");
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
                        ByteBuffer buf = ByteBuffer.allocate(8 * t.elementCount());
                        buf.asDoubleBuffer().put(t.toDoubleArray());
                        md.update(buf.array());
                    }
                }
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
