package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Byte-level helpers shared by the readers: bounded reads and dtype decoding. */
final class Bytes {
    private Bytes() {
    }

    /** Opens a file for reading; a missing file becomes a {@link FileFormatException} naming it. */
    static FileChannel open(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new FileFormatException(file, "no such file");
        } catch (IOException e) {
            throw new FileFormatException(file, "cannot open: " + e.getMessage(), e);
        }
    }

    static long size(FileChannel ch, Path file) {
        try {
            return ch.size();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read size", e);
        }
    }

    /** Reads exactly {@code length} bytes at {@code position}; the caller has checked the bounds. */
    static ByteBuffer read(FileChannel ch, Path file, long position, int length) {
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (buf.hasRemaining()) {
                int n = ch.read(buf, position + buf.position());
                if (n < 0) {
                    throw new FileFormatException(file, "file ended early: needed " + length + " bytes at offset " + position);
                }
            }
        } catch (IOException e) {
            throw new FileFormatException(file, "read failed at offset " + position + ": " + e.getMessage(), e);
        }
        return buf.flip();
    }

    /** Decodes {@code count} float16, bfloat16 or float32 elements as floats (each exactly representable). */
    static float[] decodeFloats(ByteBuffer buf, DType dtype, int count) {
        float[] out = new float[count];
        switch (dtype) {
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) DType.halfToDouble(buf.getShort());
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) DType.bfloat16ToDouble(buf.getShort());
                }
            }
            case F32 -> buf.asFloatBuffer().get(out);
            default -> throw new IllegalStateException("not a float dtype held as float: " + dtype);
        }
        return out;
    }

    /** Decodes {@code count} elements of {@code dtype} from {@code buf} (its byte order is honoured). */
    static double[] decode(ByteBuffer buf, DType dtype, int count) {
        double[] out = new double[count];
        switch (dtype) {
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = DType.halfToDouble(buf.getShort());
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = DType.bfloat16ToDouble(buf.getShort());
                }
            }
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buf.getFloat();
                }
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buf.getDouble();
                }
            }
            case I8 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buf.get();
                }
            }
            case U8 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buf.get() & 0xff;
                }
            }
            case BOOL -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buf.get() != 0 ? 1 : 0;
                }
            }
            case I16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buf.getShort();
                }
            }
            case I32 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buf.getInt();
                }
            }
            case I64 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = buf.getLong();
                }
            }
            default -> throw new IllegalStateException("unhandled dtype " + dtype);
        }
        return out;
    }

    /** Encodes values as {@code dtype} into {@code buf}; integer values are written as they are held. */
    static void encode(ByteBuffer buf, DType dtype, double[] values) {
        switch (dtype) {
            case F16 -> {
                for (double v : values) {
                    buf.putShort(DType.doubleToHalf(v));
                }
            }
            case BF16 -> {
                for (double v : values) {
                    buf.putShort(DType.doubleToBfloat16(v));
                }
            }
            case F32 -> {
                for (double v : values) {
                    buf.putFloat((float) v);
                }
            }
            case F64 -> {
                for (double v : values) {
                    buf.putDouble(v);
                }
            }
            case I8, U8 -> {
                for (double v : values) {
                    buf.put((byte) (long) v);
                }
            }
            case BOOL -> {
                for (double v : values) {
                    buf.put((byte) (v != 0 ? 1 : 0));
                }
            }
            case I16 -> {
                for (double v : values) {
                    buf.putShort((short) (long) v);
                }
            }
            case I32 -> {
                for (double v : values) {
                    buf.putInt((int) (long) v);
                }
            }
            case I64 -> {
                for (double v : values) {
                    buf.putLong((long) v);
                }
            }
            default -> throw new IllegalArgumentException("writing " + dtype + " is not supported");
        }
    }
}
