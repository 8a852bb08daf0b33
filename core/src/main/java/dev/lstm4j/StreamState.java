package dev.lstm4j;

import dev.lstm4j.internal.Validate;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32;

/**
 * One stream's LSTM state between steps, as a value an engine can store per key (Flink {@code ValueState}, a Kafka
 * Streams {@code KeyValueStore}): h {@code (L, Hh)} and c {@code (L, H)}, the number of steps taken, and the
 * fingerprint of the model that made it, so it is never continued by another model. float32 models keep float32
 * values; float64 models keep float64 values (rounding them would break the float64 contract).
 *
 * <p>The byte form ({@link #toBytes()}, {@link #fromBytes(byte[])}) is stable across releases of one
 * {@link #FORMAT_VERSION}: magic {@code L4JK}, version, bits per value (32 or 64), L, Hh, H, the 32-byte model
 * fingerprint, the step count, h then c big-endian, and a CRC-32 of everything before it. See
 * {@code docs/flink.md}.
 *
 * <p>Immutable and thread-safe: the arrays are copied in and out.
 *
 * <p>Legend: L layers, H hidden, Hh size of h (P when projected).
 */
public final class StreamState {
    /** Version of the byte form this class writes. */
    public static final int FORMAT_VERSION = 1;
    private static final byte[] MAGIC = "L4JK".getBytes(StandardCharsets.US_ASCII);
    private static final int FINGERPRINT_BYTES = 32;
    private static final int HEADER = 4 + 4 + 1 + 12 + FINGERPRINT_BYTES + 8;
    private static final int MAX_VALUES = 1 << 26;

    private final byte[] fingerprint;
    private final int layers, hSize, cSize;
    private final float[] hf, cf;     // float32 models
    private final double[] hd, cd;    // float64 models
    private final long steps;

    private StreamState(byte[] fingerprint, int layers, int hSize, int cSize, float[] hf, float[] cf, double[] hd, double[] cd, long steps) {
        this.fingerprint = fingerprint;
        this.layers = layers;
        this.hSize = hSize;
        this.cSize = cSize;
        this.hf = hf;
        this.cf = cf;
        this.hd = hd;
        this.cd = cd;
        this.steps = steps;
    }

    /** A float32 state, taking ownership of the arrays (callers in this package pass fresh copies). */
    static StreamState ofFloats(byte[] fingerprint, int layers, float[] h, float[] c, long steps) {
        return new StreamState(fingerprint, layers, h.length / layers, c.length / layers, h, c, null, null, steps);
    }

    /** A float64 state, taking ownership of the arrays. */
    static StreamState ofDoubles(byte[] fingerprint, int layers, double[] h, double[] c, long steps) {
        return new StreamState(fingerprint, layers, h.length / layers, c.length / layers, null, null, h, c, steps);
    }

    /** The precision of the values: that of the model that made the state. */
    public Precision precision() {
        return hf != null ? Precision.F32 : Precision.F64;
    }

    /** Steps this stream has taken. */
    public long steps() {
        return steps;
    }

    public int numLayers() {
        return layers;
    }

    /** SHA-256 of the configuration and weights of the model that made this state (a copy). */
    public byte[] fingerprint() {
        return fingerprint.clone();
    }

    /** h as (L, Hh) and c as (L, H), in the state's precision: the unbatched {@code (h_n, c_n)} PyTorch returns. */
    public LstmState toLstmState() {
        if (hf != null) {
            return new LstmState(Tensor.of(new int[] {layers, hSize}, hf), Tensor.of(new int[] {layers, cSize}, cf));
        }
        return new LstmState(Tensor.of(DType.F64, new int[] {layers, hSize}, hd), Tensor.of(DType.F64, new int[] {layers, cSize}, cd));
    }

    // raw views for LstmStepper, never handed out
    float[] hFloats() {
        return hf;
    }

    float[] cFloats() {
        return cf;
    }

    double[] hDoubles() {
        return hd;
    }

    double[] cDoubles() {
        return cd;
    }

    boolean madeBy(byte[] modelFingerprint) {
        return Arrays.equals(fingerprint, modelFingerprint);
    }

    /** Length of {@link #toBytes()}. */
    public int byteSize() {
        int bytes = hf != null ? 4 : 8;
        return HEADER + bytes * layers * (hSize + cSize) + 4;
    }

    /** The stable byte form described in the class comment. */
    public byte[] toBytes() {
        ByteBuffer out = ByteBuffer.allocate(byteSize());
        out.put(MAGIC).putInt(FORMAT_VERSION).put((byte) (hf != null ? 32 : 64)).putInt(layers).putInt(hSize).putInt(cSize);
        out.put(fingerprint).putLong(steps);
        if (hf != null) {
            for (float v : hf) {
                out.putFloat(v);
            }
            for (float v : cf) {
                out.putFloat(v);
            }
        } else {
            for (double v : hd) {
                out.putDouble(v);
            }
            for (double v : cd) {
                out.putDouble(v);
            }
        }
        CRC32 crc = new CRC32();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        return out.array();
    }

    /**
     * Reads {@link #toBytes()}.
     *
     * @throws InputException when the bytes are not a stream state, are damaged or truncated, or come from a newer format
     */
    public static StreamState fromBytes(byte[] bytes) {
        Validate.input(bytes != null, "stream state: bytes are null");
        String what = "stream state (" + bytes.length + " bytes)";
        Validate.input(bytes.length >= HEADER + 4 && Arrays.equals(Arrays.copyOf(bytes, 4), MAGIC), what
                + ": does not start with the magic L4JK; these bytes were not written by StreamState.toBytes()");
        ByteBuffer in = ByteBuffer.wrap(bytes);
        in.position(4);
        int version = in.getInt();
        Validate.input(version == FORMAT_VERSION, what + ": format version " + version + ", this lstm4j reads version "
                + FORMAT_VERSION + "; upgrade lstm4j to read it");
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
        Validate.input(stored == (int) crc.getValue(), what + ": CRC-32 mismatch (stored " + Integer.toHexString(stored)
                + ", computed " + Long.toHexString(crc.getValue()) + "); the state is damaged");
        int bits = in.get();
        int layers = in.getInt(), hSize = in.getInt(), cSize = in.getInt();
        Validate.input(bits == 32 || bits == 64, what + ": " + bits + " bits per value, expected 32 or 64");
        Validate.input(layers > 0 && hSize > 0 && cSize > 0 && (long) layers * (hSize + cSize) <= MAX_VALUES, what
                + ": implausible sizes L=" + layers + ", Hh=" + hSize + ", H=" + cSize);
        long expected = HEADER + (long) (bits / 8) * layers * (hSize + cSize) + 4;
        Validate.input(bytes.length == expected, what + ": expected " + expected + " bytes for L=" + layers + ", Hh=" + hSize
                + ", H=" + cSize + " at " + bits + " bits");
        byte[] fp = new byte[FINGERPRINT_BYTES];
        in.get(fp);
        long steps = in.getLong();
        Validate.input(steps >= 0, what + ": negative step count " + steps);
        try {
            if (bits == 32) {
                float[] h = new float[layers * hSize], c = new float[layers * cSize];
                for (int i = 0; i < h.length; i++) {
                    h[i] = in.getFloat();
                }
                for (int i = 0; i < c.length; i++) {
                    c[i] = in.getFloat();
                }
                return ofFloats(fp, layers, h, c, steps);
            }
            double[] h = new double[layers * hSize], c = new double[layers * cSize];
            for (int i = 0; i < h.length; i++) {
                h[i] = in.getDouble();
            }
            for (int i = 0; i < c.length; i++) {
                c[i] = in.getDouble();
            }
            return ofDoubles(fp, layers, h, c, steps);
        } catch (BufferUnderflowException e) {
            throw new InputException(what + ": truncated");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StreamState s && steps == s.steps && layers == s.layers && Arrays.equals(fingerprint, s.fingerprint)
                && Arrays.equals(hf, s.hf) && Arrays.equals(cf, s.cf) && Arrays.equals(hd, s.hd) && Arrays.equals(cd, s.cd);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(fingerprint) * 31 + Long.hashCode(steps) + Arrays.hashCode(hf) + Arrays.hashCode(hd);
    }

    @Override
    public String toString() {
        return "StreamState[" + precision().dtype().torchName() + ", L=" + layers + ", Hh=" + hSize + ", H=" + cSize + ", steps=" + steps
                + ", model " + HexFormat.of().formatHex(fingerprint, 0, 4) + "…]";
    }
}
