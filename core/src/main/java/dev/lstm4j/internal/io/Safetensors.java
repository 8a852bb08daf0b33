package dev.lstm4j.internal.io;

import dev.lstm4j.StateDict;
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
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes {@code .safetensors}: an 8-byte little-endian header length N, N bytes of JSON
 * ({@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}}), then the
 * raw little-endian data, offsets relative to its start.
 *
 * <p>Everything is checked before any tensor is decoded: the header length against the file and a
 * 100 MB cap (the reference implementation's), the JSON (no duplicate names), each dtype, shape, element
 * count × dtype size = byte count (at most 2 GiB per tensor), and, as the reference implementation
 * requires, that the tensors tile the data section exactly: sorted by offset, each starts where the
 * previous one ends, the first at 0, the last at the end of the file (no gaps, overlaps or trailing
 * bytes). A tensor may not be named {@code __metadata__}. The tensors' bytes are charged to the
 * {@code maxBytes} budget ({@link Budget}) before any is read.
 */
public final class Safetensors {
    /** Largest header accepted, as in the reference implementation. */
    public static final long MAX_HEADER = 100L * 1024 * 1024;

    private Safetensors() {
    }

    private record Entry(String name, DType dtype, int[] shape, long begin, long end) {
    }

    /** True when the first bytes look like a safetensors header: a plausible length, then '{'. */
    public static boolean sniff(byte[] head, long fileSize) {
        if (head.length < 9) {
            return false;
        }
        long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return n >= 2 && n <= fileSize - 8 && head[8] == '{';
    }

    /**
     * Reads every tensor of a safetensors file.
     *
     * @throws FileFormatException naming the file and what is wrong with it
     */
    public static StateDict read(Path file) {
        return read(file, Budget.defaultMaxBytes());
    }

    /**
     * Reads every tensor of a safetensors file, refusing it when its tensors add up to more than {@code maxBytes}.
     *
     * @throws FileFormatException naming the file and what is wrong with it
     */
    public static StateDict read(Path file, long maxBytes) {
        return read(file, new Budget(file, maxBytes));
    }

    static StateDict read(Path file, Budget budget) {
        try (FileChannel ch = Bytes.open(file)) {
            long size = Bytes.size(ch, file);
            if (size < 8) {
                throw new FileFormatException(file, "not a safetensors file: " + size + " bytes, shorter than the 8-byte header length");
            }
            long n = Bytes.read(ch, file, 0, 8).getLong();
            if (n < 2 || n > MAX_HEADER || n > size - 8) {
                throw new FileFormatException(file, "not a valid safetensors file: header length " + Long.toUnsignedString(n)
                        + " does not fit (file is " + size + " bytes, header limit " + MAX_HEADER + ")"
                        + (n > size - 8 && n > 0 && n <= MAX_HEADER ? "; the file may be truncated" : ""));
            }
            String json = utf8(Bytes.read(ch, file, 8, (int) n), file);
            long dataStart = 8 + n;
            long dataLen = size - dataStart;
            Object parsed;
            try {
                parsed = Json.parse(json);
            } catch (Json.JsonException e) {
                throw new FileFormatException(file, "safetensors header is not valid JSON: " + e.getMessage(), e);
            }
            if (!(parsed instanceof Map<?, ?> header)) {
                throw new FileFormatException(file, "safetensors header must be a JSON object");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<?, ?> e : header.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    metadata = metadata(e.getValue(), file);
                    continue;
                }
                entries.add(entry(name, e.getValue(), dataLen, file));
            }
            checkLayout(entries, dataLen, file);
            for (Entry en : entries) {
                // a mapped tensor stays in the file, off the heap; the rest is charged at its size on the heap
                if (!mapped(en)) {
                    budget.charge(heapBytes(en), "tensor \"" + Names.safe(en.name()) + "\"");
                }
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry en : entries) {
                tensors.put(en.name(), tensor(ch, file, dataStart, en));
            }
            return new StateDict(file, "safetensors", tensors, metadata);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** float32 tensors from this size on are memory-mapped rather than copied onto the heap. */
    static final long MAP_MIN_BYTES = 1 << 20;

    /**
     * One tensor's values: a large float32 tensor is a view over the mapped file (the weights then reach the heap only
     * once, when the fast path packs them); float16/bfloat16/float32 are held as floats, the rest as doubles.
     */
    private static boolean mapped(Entry en) {
        return en.dtype() == DType.F32 && en.end() - en.begin() >= MAP_MIN_BYTES;
    }

    /** Bytes a tensor read onto the heap takes: floats for the 16- and 32-bit floats, doubles for the rest. */
    private static long heapBytes(Entry en) {
        long count = (en.end() - en.begin()) / en.dtype().bytes();
        boolean asFloat = en.dtype() == DType.F32 || en.dtype() == DType.F16 || en.dtype() == DType.BF16;
        return count * (asFloat ? 4 : 8);
    }

    private static Tensor tensor(FileChannel ch, Path file, long dataStart, Entry en) throws IOException {
        int count = (int) Tensor.elementCount(en.shape());
        long bytes = en.end() - en.begin();
        if (mapped(en)) {
            return Tensor.viewFloat32(en.shape(), ch.map(FileChannel.MapMode.READ_ONLY, dataStart + en.begin(), bytes));
        }
        ByteBuffer buf = Bytes.read(ch, file, dataStart + en.begin(), (int) bytes);
        if (en.dtype() == DType.F32 || en.dtype() == DType.F16 || en.dtype() == DType.BF16) {
            return Tensor.wrap(en.dtype(), en.shape(), Bytes.decodeFloats(buf, en.dtype(), count));
        }
        return Tensor.wrap(en.dtype(), en.shape(), Bytes.decode(buf, en.dtype(), count));
    }

    private static String utf8(ByteBuffer buf, Path file) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(buf).toString();
        } catch (CharacterCodingException e) {
            throw new FileFormatException(file, "safetensors header is not UTF-8 text; not a safetensors file?");
        }
    }

    private static Map<String, String> metadata(Object v, Path file) {
        if (v instanceof Map<?, ?> m && (m.containsKey("dtype") || m.containsKey("data_offsets")) && !(m.get("dtype") instanceof String
                && m.get("data_offsets") instanceof String)) {
            throw new FileFormatException(file, "a tensor is named \"__metadata__\", a name safetensors reserves for the metadata;"
                    + " the reference reader refuses the file too. Rename the tensor before saving");
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new FileFormatException(file, "__metadata__ must be an object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new FileFormatException(file, "__metadata__." + Names.safe((String) e.getKey()) + " must be a string");
            }
            out.put((String) e.getKey(), s);
        }
        return out;
    }

    private static Entry entry(String name, Object v, long dataLen, Path file) {
        String where = "tensor \"" + Names.safe(name) + "\": ";
        if (!(v instanceof Map<?, ?> m)) {
            throw new FileFormatException(file, where + "header entry must be an object");
        }
        if (!(m.get("dtype") instanceof String dt)) {
            throw new FileFormatException(file, where + "missing \"dtype\"");
        }
        DType dtype = dtypeOf(dt);
        if (dtype == null) {
            throw new FileFormatException(file, where + "unknown dtype \"" + Names.safe(dt, 20)
                    + "\"; expected one of F16, BF16, F32, F64 (or I8, U8, I16, I32, I64, BOOL)");
        }
        int[] shape = intList(m.get("shape"), where + "\"shape\"", file, Integer.MAX_VALUE);
        long[] off = longPair(m.get("data_offsets"), where, file);
        long count;
        try {
            count = Tensor.elementCount(shape);
        } catch (ArithmeticException e) {
            throw new FileFormatException(file, where + "shape " + Tensor.shapeString(shape) + " has too many elements");
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new FileFormatException(file, where + "shape " + Tensor.shapeString(shape) + " has " + count
                    + " elements, more than one tensor can hold here");
        }
        long expectedBytes = count * dtype.bytes();
        if (expectedBytes > Zip.MAX_ENTRY_BYTES) {
            throw new FileFormatException(file, where + "shape " + Tensor.shapeString(shape) + " of " + dt + " is " + expectedBytes
                    + " bytes; lstm4j reads tensors of at most 2 GiB (" + Zip.MAX_ENTRY_BYTES + " bytes)");
        }
        if (off[0] < 0 || off[1] < off[0] || off[1] > dataLen) {
            throw new FileFormatException(file, where + "data_offsets [" + off[0] + ", " + off[1] + "] are outside the data section of "
                    + dataLen + " bytes" + (off[1] > dataLen ? "; the file may be truncated" : ""));
        }
        if (off[1] - off[0] != expectedBytes) {
            throw new FileFormatException(file, where + "data_offsets [" + off[0] + ", " + off[1] + "] hold " + (off[1] - off[0])
                    + " bytes, but shape " + Tensor.shapeString(shape) + " of " + dt + " needs " + expectedBytes);
        }
        return new Entry(name, dtype, shape, off[0], off[1]);
    }

    private static DType dtypeOf(String s) {
        return switch (s) {
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F32" -> DType.F32;
            case "F64" -> DType.F64;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "I16" -> DType.I16;
            case "I32" -> DType.I32;
            case "I64" -> DType.I64;
            case "BOOL" -> DType.BOOL;
            default -> null;
        };
    }

    private static int[] intList(Object v, String what, Path file, long max) {
        if (!(v instanceof List<?> list)) {
            throw new FileFormatException(file, what + " must be a list of integers");
        }
        if (list.size() > 64) {
            throw new FileFormatException(file, what + " has " + list.size() + " dimensions; at most 64 are accepted");
        }
        int[] r = new int[list.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(list.get(i) instanceof Long l) || l < 0 || l > max) {
                throw new FileFormatException(file, what + " must hold non-negative integers below 2^31, found "
                        + Names.safe(String.valueOf(list.get(i)), 40));
            }
            r[i] = (int) (long) l;
        }
        return r;
    }

    private static long[] longPair(Object v, String where, Path file) {
        if (!(v instanceof List<?> list) || list.size() != 2 || !(list.get(0) instanceof Long a) || !(list.get(1) instanceof Long b)) {
            throw new FileFormatException(file, where + "\"data_offsets\" must be a list of two integers [begin, end], found "
                    + Names.safe(String.valueOf(v), 60));
        }
        return new long[] {a, b};
    }

    /**
     * The tensors must tile the data section, as the reference implementation requires ({@code
     * Metadata::validate}: sorted by offset, each begins where the previous ends; {@code read}: the last
     * ends at the end of the buffer). A gap or trailing bytes could hide data that other readers see
     * differently, so they are refused rather than skipped.
     */
    private static void checkLayout(List<Entry> entries, long dataLen, Path file) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        Entry prev = null;
        for (Entry cur : sorted) {
            if (cur.begin() < at) {
                throw new FileFormatException(file, "tensors \"" + Names.safe(prev.name()) + "\" [" + prev.begin() + ", " + prev.end()
                        + "] and \"" + Names.safe(cur.name()) + "\" [" + cur.begin() + ", " + cur.end() + "] overlap");
            }
            if (cur.begin() > at) {
                throw new FileFormatException(file, "bytes [" + at + ", " + cur.begin() + ") of the data section belong to no tensor ("
                        + (prev == null ? "the first tensor, \"" + Names.safe(cur.name()) + "\", starts at " + cur.begin()
                        : "between \"" + Names.safe(prev.name()) + "\" and \"" + Names.safe(cur.name()) + "\"")
                        + "); the safetensors reference reader refuses gaps, so lstm4j does too. Re-save the file with safetensors");
            }
            at = cur.end();
            prev = cur;
        }
        if (at != dataLen) {
            throw new FileFormatException(file, "the file has " + (dataLen - at) + " bytes after the last tensor's data (the tensors end at "
                    + at + " of a " + dataLen + "-byte data section); the safetensors reference reader refuses trailing bytes, so lstm4j"
                    + " does too. The file may have been appended to; re-save it with safetensors");
        }
    }

    /**
     * Writes tensors as a safetensors file, each in its own dtype, in map order.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long bytes = (long) t.elementCount() * t.dtype().bytes();
            List<Long> shape = new ArrayList<>();
            for (int d : t.shape()) {
                shape.add((long) d);
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype().name());
            entry.put("shape", shape);
            entry.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // align data to 8 bytes, padding with spaces as the reference writer does
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(json);
            for (int i = json.length; i < padded; i++) {
                out.write(' ');
            }
            for (Tensor t : tensors.values()) {
                ByteBuffer buf = ByteBuffer.allocate(t.elementCount() * t.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
                Bytes.encode(buf, t.dtype(), t.toDoubleArray());
                out.write(buf.array());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }
}
