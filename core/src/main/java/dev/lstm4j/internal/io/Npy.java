package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Names;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes NumPy {@code .npy} arrays (format versions 1, 2 and 3). Reads float16/32/64 (and int8/16/32/64,
 * uint8 and bool, for index arrays and .npz state dicts) in either byte order and C or Fortran order; writes
 * little-endian C-order float32 or float64.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int MAX_HEADER = 1 << 20;

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
     * @throws FileFormatException when the file is not a readable .npy of a supported dtype
     */
    public static Tensor read(Path file) {
        try (FileChannel ch = Bytes.open(file)) {
            long size = Bytes.size(ch, file);
            if (size < 10) {
                throw new FileFormatException(file, "not a .npy file: only " + size + " bytes");
            }
            if (size > Zip.MAX_ENTRY_BYTES) {
                throw new FileFormatException(file, ".npy file of " + size + " bytes is larger than the " + Zip.MAX_ENTRY_BYTES
                        + " lstm4j reads at once");
            }
            return parse(Bytes.read(ch, file, 0, (int) size).array(), file, "");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses a whole .npy held in memory (a file, or an entry of an .npz).
     *
     * @param where prefix for messages, e.g. {@code "entry 'w.npy': "}, or empty
     */
    static Tensor parse(byte[] all, Path file, String where) {
        long size = all.length;
        if (size < 10) {
            throw new FileFormatException(file, where + "not a .npy file: only " + size + " bytes");
        }
        byte[] head = Arrays.copyOf(all, 10);
        if (!sniff(head)) {
            throw new FileFormatException(file, where + "not a .npy file: missing the \\x93NUMPY magic (save arrays with numpy.save)");
        }
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int major = head[6];
        long headerLen;
        int prefix;
        if (major == 1) {
            headerLen = buf.getShort(8) & 0xffff;
            prefix = 10;
        } else if (major == 2 || major == 3) {
            if (size < 12) {
                throw new FileFormatException(file, where + "truncated .npy header");
            }
            headerLen = buf.getInt(8) & 0xffffffffL;
            prefix = 12;
        } else {
            throw new FileFormatException(file, where + ".npy format version " + major + " is not supported (1, 2 or 3 are)");
        }
        if (headerLen > MAX_HEADER || prefix + headerLen > size) {
            throw new FileFormatException(file, where + ".npy header length " + headerLen + " does not fit in the " + size + "-byte file");
        }
        String header = new String(all, prefix, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict = new HeaderParser(header, file, where).dict();
        if (!(dict.get("descr") instanceof String descr)) {
            throw new FileFormatException(file, where + ".npy header's 'descr' must be a dtype string such as '<f4', found "
                    + Names.safe(String.valueOf(dict.get("descr")), 40) + " (structured arrays are not supported)");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new FileFormatException(file, where + ".npy header's 'fortran_order' must be True or False");
        }
        if (!(dict.get("shape") instanceof int[] shape)) {
            throw new FileFormatException(file, where + ".npy header's 'shape' must be a tuple of integers");
        }
        // floats, and integers and bools (index arrays such as sequence lengths; non-float weights in an .npz)
        ByteOrder order = descr.startsWith(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        String kind = descr.length() == 3 && "<>=|".indexOf(descr.charAt(0)) >= 0 ? descr.substring(1) : "";
        DType dtype = switch (kind) {
            case "f4" -> DType.F32;
            case "f8" -> DType.F64;
            case "f2" -> DType.F16;
            case "i8" -> DType.I64;
            case "i4" -> DType.I32;
            case "i2" -> DType.I16;
            case "i1" -> DType.I8;
            case "u1" -> DType.U8;
            case "b1" -> DType.BOOL;
            default -> throw new FileFormatException(file, where + "array dtype '" + Names.safe(descr, 40)
                    + "' is not supported; expected float16/32/64 or int8/16/32/64 (convert with x.astype(numpy.float32))");
        };
        long count;
        try {
            count = Tensor.elementCount(shape);
        } catch (ArithmeticException e) {
            throw new FileFormatException(file, where + "shape " + Tensor.shapeString(shape) + " has too many elements");
        }
        long dataStart = prefix + headerLen;
        if (count > Integer.MAX_VALUE - 8 || count * dtype.bytes() > size - dataStart) {
            throw new FileFormatException(file, where + "shape " + Tensor.shapeString(shape) + " of " + dtype.torchName() + " needs "
                    + (count > Integer.MAX_VALUE - 8 ? "more than 2^31" : String.valueOf(count * dtype.bytes()))
                    + " bytes of data, the file has " + (size - dataStart) + "; the file may be truncated");
        }
        long need = count * dtype.bytes();
        if (need != size - dataStart) {
            throw new FileFormatException(file, where + "file has " + (size - dataStart - need)
                    + " bytes after the array's data; not a single .npy array");
        }
        ByteBuffer data = buf.slice((int) dataStart, (int) need).order(order);
        double[] values = Bytes.decode(data, dtype, (int) count);
        if (fortran && shape.length > 1) {
            values = fortranToC(values, shape);
        }
        return Tensor.of(dtype, shape, values);
    }

    /**
     * The header dict, read as NumPy reads it ({@code ast.literal_eval}, then exactly the keys {@code descr},
     * {@code fortran_order} and {@code shape}). Where NumPy would take the last of two equal keys, lstm4j
     * refuses the file rather than guess which one a reader used; other keys are refused, as NumPy refuses them.
     */
    private static final class HeaderParser {
        private final String h;
        private final Path file;
        private final String where;
        private int pos;

        HeaderParser(String header, Path file, String where) {
            this.h = header;
            this.file = file;
            this.where = where;
        }

        private FileFormatException bad(String what) {
            String shown = h.strip();
            return new FileFormatException(file, where + ".npy header " + what + " (at character " + pos + " of "
                    + Names.safe(shown, 200) + "); save arrays with numpy.save");
        }

        private void ws() {
            while (pos < h.length() && (h.charAt(pos) == ' ' || h.charAt(pos) == '\t' || h.charAt(pos) == '\n' || h.charAt(pos) == '\r')) {
                pos++;
            }
        }

        private boolean at(char c) {
            ws();
            if (pos < h.length() && h.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        Map<String, Object> dict() {
            if (!at('{')) {
                throw bad("is not a dict");
            }
            Map<String, Object> d = new LinkedHashMap<>();
            while (!at('}')) {
                String key = string();
                if (!at(':')) {
                    throw bad("lacks ':' after key '" + Names.safe(key, 40) + "'");
                }
                Object v = value();
                if (d.put(key, v) != null) {
                    throw bad("has the key '" + Names.safe(key, 40) + "' twice (NumPy would take the last one); refusing an ambiguous"
                            + " header");
                }
                if (!at(',')) {
                    if (!at('}')) {
                        throw bad("has no ',' or '}' after the value of '" + Names.safe(key, 40) + "'");
                    }
                    break;
                }
            }
            ws();
            if (pos != h.length()) {
                throw bad("has text after its dict");
            }
            if (!d.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
                throw bad("must have exactly the keys 'descr', 'fortran_order' and 'shape', as NumPy requires; it has "
                        + Names.safe(String.valueOf(d.keySet()), 80));
            }
            return d;
        }

        private String string() {
            ws();
            if (pos >= h.length() || h.charAt(pos) != '\'' && h.charAt(pos) != '"') {
                throw bad("expects a quoted string");
            }
            char q = h.charAt(pos++);
            int start = pos;
            while (pos < h.length() && h.charAt(pos) != q) {
                if (h.charAt(pos) == '\\') {
                    throw bad("has a backslash escape in a string, which no NumPy header holds");
                }
                pos++;
            }
            if (pos >= h.length()) {
                throw bad("has an unterminated string");
            }
            return h.substring(start, pos++);
        }

        private Object value() {
            ws();
            if (pos < h.length() && (h.charAt(pos) == '\'' || h.charAt(pos) == '"')) {
                return string();
            }
            if (h.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (h.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            if (at('(')) {
                List<Integer> dims = new ArrayList<>();
                boolean comma = true;
                while (!at(')')) {
                    if (!comma || dims.size() >= 64) {
                        throw bad(dims.size() >= 64 ? "has a shape of more than 64 dimensions" : "has a malformed shape tuple");
                    }
                    dims.add(dimension());
                    comma = at(',');
                }
                if (dims.size() == 1 && !comma) {
                    throw bad("has a shape '(n)' that is not a tuple (NumPy writes '(n,)')");
                }
                int[] shape = new int[dims.size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = dims.get(i);
                }
                return shape;
            }
            if (pos < h.length() && h.charAt(pos) == '[') {
                throw bad("has a list value (a structured dtype?), which lstm4j does not read");
            }
            throw bad("has a value that is not a string, True, False or a shape tuple");
        }

        private int dimension() {
            ws();
            int start = pos;
            while (pos < h.length() && Character.isDigit(h.charAt(pos)) && h.charAt(pos) < 128) {
                pos++;
            }
            String digits = h.substring(start, pos);
            if (pos < h.length() && h.charAt(pos) == 'L') {
                pos++; // Python 2 long literal, as old NumPy wrote
            }
            if (digits.isEmpty() || digits.length() > 10 || Long.parseLong(digits) > Integer.MAX_VALUE) {
                throw bad("has a shape that is not a tuple of non-negative integers below 2^31");
            }
            return Integer.parseInt(digits);
        }
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
