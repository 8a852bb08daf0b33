package dev.lstm4j.io;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} arrays (format versions 1, 2 and 3). Reads float16/32/64 (and int8/16/32/64,
 * uint8, for index arrays) in either byte order and C or Fortran order; writes little-endian C-order float32 or float64.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int MAX_HEADER = 1 << 20;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** True when the bytes start with the .npy magic. */
    public static boolean sniff(byte[] head) {
        if (head.length < MAGIC.length) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (head[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads one array as a tensor of its own dtype.
     *
     * @throws FileFormatException when the file is not a readable float .npy
     */
    public static Tensor read(Path file) {
        try (FileChannel ch = Bytes.open(file)) {
            long size = Bytes.size(ch, file);
            if (size < 10) {
                throw new FileFormatException(file, "not a .npy file: only " + size + " bytes");
            }
            ByteBuffer pre = Bytes.read(ch, file, 0, 10);
            byte[] head = new byte[10];
            pre.get(head);
            if (!sniff(head)) {
                throw new FileFormatException(file, "not a .npy file: missing the \\x93NUMPY magic (save arrays with numpy.save)");
            }
            int major = head[6];
            long headerLen;
            int prefix;
            if (major == 1) {
                headerLen = ByteBuffer.wrap(head, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
                prefix = 10;
            } else if (major == 2 || major == 3) {
                if (size < 12) {
                    throw new FileFormatException(file, "truncated .npy header");
                }
                headerLen = Bytes.read(ch, file, 8, 4).getInt() & 0xffffffffL;
                prefix = 12;
            } else {
                throw new FileFormatException(file, ".npy format version " + major + " is not supported (1, 2 or 3 are)");
            }
            if (headerLen > MAX_HEADER || prefix + headerLen > size) {
                throw new FileFormatException(file, ".npy header length " + headerLen + " does not fit in the " + size + "-byte file");
            }
            String header = new String(Bytes.read(ch, file, prefix, (int) headerLen).array(), 0, (int) headerLen,
                    major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            String descr = group(DESCR, header, "descr", file);
            boolean fortran = group(FORTRAN, header, "fortran_order", file).equals("True");
            int[] shape = shape(group(SHAPE, header, "shape", file), file);
            DType dtype;
            ByteOrder order;
            switch (descr) {
                case "<f4", "=f4" -> { dtype = DType.F32; order = ByteOrder.LITTLE_ENDIAN; }
                case ">f4" -> { dtype = DType.F32; order = ByteOrder.BIG_ENDIAN; }
                case "<f8", "=f8" -> { dtype = DType.F64; order = ByteOrder.LITTLE_ENDIAN; }
                case ">f8" -> { dtype = DType.F64; order = ByteOrder.BIG_ENDIAN; }
                case "<f2", "=f2" -> { dtype = DType.F16; order = ByteOrder.LITTLE_ENDIAN; }
                case ">f2" -> { dtype = DType.F16; order = ByteOrder.BIG_ENDIAN; }
                // integers, for index arrays such as sequence lengths
                case "<i8", "=i8" -> { dtype = DType.I64; order = ByteOrder.LITTLE_ENDIAN; }
                case ">i8" -> { dtype = DType.I64; order = ByteOrder.BIG_ENDIAN; }
                case "<i4", "=i4" -> { dtype = DType.I32; order = ByteOrder.LITTLE_ENDIAN; }
                case ">i4" -> { dtype = DType.I32; order = ByteOrder.BIG_ENDIAN; }
                case "<i2", "=i2" -> { dtype = DType.I16; order = ByteOrder.LITTLE_ENDIAN; }
                case ">i2" -> { dtype = DType.I16; order = ByteOrder.BIG_ENDIAN; }
                case "|i1" -> { dtype = DType.I8; order = ByteOrder.LITTLE_ENDIAN; }
                case "|u1" -> { dtype = DType.U8; order = ByteOrder.LITTLE_ENDIAN; }
                default -> throw new FileFormatException(file, "array dtype '" + descr
                        + "' is not supported; expected float16/32/64 or int8/16/32/64 (convert with x.astype(numpy.float32))");
            }
            long count;
            try {
                count = Tensor.elementCount(shape);
            } catch (ArithmeticException e) {
                throw new FileFormatException(file, "shape " + Tensor.shapeString(shape) + " has too many elements");
            }
            long dataStart = prefix + headerLen;
            long need = count * dtype.bytes();
            if (count > Integer.MAX_VALUE - 8 || need > size - dataStart) {
                throw new FileFormatException(file, "shape " + Tensor.shapeString(shape) + " of " + dtype.torchName() + " needs " + need
                        + " bytes of data, the file has " + (size - dataStart) + (need > size - dataStart ? "; the file may be truncated" : ""));
            }
            if (need != size - dataStart) {
                throw new FileFormatException(file, "file has " + (size - dataStart - need) + " bytes after the array's data; not a single .npy array");
            }
            ByteBuffer data = Bytes.read(ch, file, dataStart, (int) need).order(order);
            double[] values = Bytes.decode(data, dtype, (int) count);
            if (fortran && shape.length > 1) {
                values = fortranToC(values, shape);
            }
            return Tensor.of(dtype, shape, values);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private static String group(Pattern p, String header, String key, Path file) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new FileFormatException(file, ".npy header has no readable '" + key + "': " + header.strip());
        }
        return m.group(1);
    }

    private static int[] shape(String inner, Path file) {
        String t = inner.strip();
        if (t.isEmpty()) {
            return new int[0];
        }
        String[] parts = t.split(",");
        int n = parts[parts.length - 1].isBlank() ? parts.length - 1 : parts.length;
        int[] shape = new int[n];
        for (int i = 0; i < n; i++) {
            try {
                long v = Long.parseLong(parts[i].strip().replace("L", ""));
                if (v < 0 || v > Integer.MAX_VALUE) {
                    throw new NumberFormatException();
                }
                shape[i] = (int) v;
            } catch (NumberFormatException e) {
                throw new FileFormatException(file, ".npy shape (" + inner + ") is not a tuple of non-negative integers below 2^31");
            }
        }
        return shape;
    }

    /** Column-major values to row-major. */
    private static double[] fortranToC(double[] f, int[] shape) {
        int n = f.length;
        double[] c = new double[n];
        int rank = shape.length;
        int[] idx = new int[rank];
        for (int i = 0; i < n; i++) {
            // i walks row-major; compute the column-major flat index of the same element
            int fi = 0;
            for (int k = rank - 1; k >= 0; k--) {
                fi = fi * shape[k] + idx[k];
            }
            c[i] = f[fi];
            for (int k = rank - 1; k >= 0; k--) {
                if (++idx[k] < shape[k]) {
                    break;
                }
                idx[k] = 0;
            }
        }
        return c;
    }

    /** Writes a tensor as a version 1.0 little-endian C-order .npy; float32 unless the tensor is float64. */
    public static void write(Path file, Tensor t) {
        DType dtype = t.dtype() == DType.F64 ? DType.F64 : DType.F32;
        StringBuilder shape = new StringBuilder("(");
        int[] s = t.shape();
        for (int i = 0; i < s.length; i++) {
            shape.append(s[i]).append(s.length == 1 ? "," : (i + 1 < s.length ? ", " : ""));
        }
        shape.append(')');
        String dict = "{'descr': '" + (dtype == DType.F64 ? "<f8" : "<f4") + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = MAGIC.length + 4 + dict.length() + 1;
        int pad = (64 - total % 64) % 64; // numpy aligns the data to 64 bytes
        String header = dict + " ".repeat(pad) + "\n";
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(MAGIC);
            out.write(1);
            out.write(0);
            out.write(header.length() & 0xff);
            out.write((header.length() >> 8) & 0xff);
            out.write(header.getBytes(StandardCharsets.ISO_8859_1));
            ByteBuffer buf = ByteBuffer.allocate(t.elementCount() * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            Bytes.encode(buf, dtype, t.toDoubleArray());
            out.write(buf.array());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }
}
