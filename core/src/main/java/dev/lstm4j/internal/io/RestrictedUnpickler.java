package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Names;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Reads the pickle inside a {@code torch.save} file without running it.
 *
 * <p>A general unpickler imports any global a pickle names and calls it, so a pickle can run any code.
 * This one, like PyTorch's own {@code weights_only} loader, knows a fixed list of globals
 * ({@link #ALLOWED}) and refuses every other one by name before anything happens. The allowed ones are
 * never imported or called: each maps to a marker, and {@code REDUCE} on a marker builds a plain Java
 * value (a {@link Dict}, a {@link TensorRef}, a {@link Device}). Opcodes that instantiate classes
 * ({@code NEWOBJ}, {@code OBJ}, {@code INST}) are refused, and {@code BUILD} only sets the attributes of
 * an {@code OrderedDict}, which are kept aside and ignored.
 *
 * <p>The machine is iterative (no Java recursion) and bounded: stack size, {@code MARK} nesting, memo
 * entries, objects created, integer and string sizes, and the nesting of dict keys are all capped, so a
 * hostile pickle fails with a {@link FileFormatException} instead of exhausting memory or the stack.
 *
 * <p>Values read: {@code None} is null, then Boolean, Long (BigInteger beyond 64 bits), Double, String,
 * byte[] (bytes), ArrayList (list), {@link Tuple}, {@link Dict}, {@link Storage}, {@link TensorRef},
 * {@link Device}.
 */
final class RestrictedUnpickler {
    static final int MAX_STACK = 1 << 20;
    static final int MAX_NESTING = 10_000;
    static final int MAX_MEMO = 1 << 20;
    static final int MAX_OBJECTS = 1 << 21;
    static final int MAX_INT_BYTES = 1024;
    static final int MAX_KEY_DEPTH = 32;
    static final int MAX_RANK = 64;

    /**
     * A Python tuple; immutable. Compared and hashed by identity: a tuple used as a dict key is replaced by
     * its interned {@link Key}, so deep or shared tuples are never walked by {@code equals}/{@code hashCode}.
     */
    static final class Tuple {
        static final Tuple EMPTY = new Tuple(List.of());
        private final List<Object> items;

        Tuple(List<Object> items) {
            this.items = items;
        }

        static Tuple of(Object... items) {
            return new Tuple(Collections.unmodifiableList(Arrays.asList(items)));
        }

        List<Object> items() {
            return items;
        }

        int size() {
            return items.size();
        }

        Object get(int i) {
            return items.get(i);
        }

        @Override
        public String toString() {
            return "tuple of " + items.size();
        }
    }

    /**
     * A dict key other than a string: an int, float, bool, None or tuple of them, as Python compares them
     * ({@code 1 == 1.0 == True}). Keys are interned per pickle, so two equal tuple keys are one {@code Key}
     * and tuple parts compare by identity: equality costs O(tuple size), never the size of the key's graph.
     * The hash is a seeded 64-bit mix chosen afresh for each pickle, so a file cannot make keys collide
     * (Java's own hashes are fixed: {@code "Aa"} and {@code "BB"} share one).
     */
    static final class Key {
        /** The first value inserted under this key (what Python keeps), for messages. */
        final Object value;
        /** For a scalar, its one normalised value (Long, Double, BigInteger, String or {@link #NONE_KEY}); for a tuple, its items' interned keys. */
        private final Object[] parts;
        private final boolean tuple;
        private final long hash;
        /** How deep tuples nest below this key: 0 for a scalar. */
        private final int height;

        private Key(Object value, Object[] parts, boolean tuple, long hash, int height) {
            this.value = value;
            this.parts = parts;
            this.tuple = tuple;
            this.hash = hash;
            this.height = height;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Key k) || k.hash != hash || k.tuple != tuple || k.parts.length != parts.length) {
                return false;
            }
            if (tuple) {
                for (int i = 0; i < parts.length; i++) {
                    if (parts[i] != k.parts[i]) {
                        return false; // items are interned: equal items are one Key
                    }
                }
                return true;
            }
            return parts[0].equals(k.parts[0]);
        }

        @Override
        public int hashCode() {
            return (int) (hash ^ hash >>> 32);
        }

        @Override
        public String toString() {
            if (value == null) {
                return "None";
            }
            if (value instanceof Boolean b) {
                return b ? "True" : "False";
            }
            return value instanceof Tuple t ? "tuple of " + t.size() : String.valueOf(value);
        }
    }

    /** None as a key part. */
    private static final Object NONE_KEY = new Object();

    /** A Python dict or OrderedDict, in insertion order. Compared by identity, as mutable objects are. */
    static final class Dict {
        final Map<Object, Object> map = new LinkedHashMap<>();
        final boolean ordered;

        Dict(boolean ordered) {
            this.ordered = ordered;
        }

        @Override
        public String toString() {
            return (ordered ? "OrderedDict" : "dict") + " of " + map.size();
        }
    }

    /** {@code torch.device(type[, index])}. */
    record Device(String type, Long index) {
    }

    /** A storage class named in a persistent id: its element dtype ({@code UntypedStorage} holds bytes). */
    record StorageType(String name, DType dtype) {
    }

    /** A storage of {@code numel} elements of {@code dtype}, held in the archive's entry {@code data/<key>}. */
    record Storage(String key, DType dtype, long numel, String location) {
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, ...)}: a strided view of a storage; data not read yet. */
    record TensorRef(Storage storage, long offset, int[] size, long[] stride, boolean parameter) {
        @Override
        public String toString() {
            return "tensor " + Tensor.shapeString(size) + " " + storage.dtype().torchName();
        }
    }

    /** Resolves {@code ('storage', type, key, location, numel)} persistent ids to storages. */
    interface StorageLoader {
        Storage load(StorageType type, String key, String location, long numel);
    }

    /** The allowed globals; REDUCE on these builds values, nothing else can be called. */
    private enum Function {
        ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_PARAMETER, DEVICE
    }

    /** Every global a pickle may name, with what it stands for. */
    static final Map<String, Object> ALLOWED;

    static {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("collections.OrderedDict", Function.ORDERED_DICT);
        m.put("torch._utils._rebuild_tensor_v2", Function.REBUILD_TENSOR_V2);
        m.put("torch._utils._rebuild_parameter", Function.REBUILD_PARAMETER);
        m.put("torch.device", Function.DEVICE);
        Object[][] storages = {{"FloatStorage", DType.F32}, {"DoubleStorage", DType.F64}, {"HalfStorage", DType.F16},
                {"BFloat16Storage", DType.BF16}, {"LongStorage", DType.I64}, {"IntStorage", DType.I32}, {"ShortStorage", DType.I16},
                {"CharStorage", DType.I8}, {"ByteStorage", DType.U8}, {"BoolStorage", DType.BOOL}, {"UntypedStorage", DType.U8}};
        for (Object[] s : storages) {
            m.put("torch." + s[0], new StorageType((String) s[0], (DType) s[1]));
        }
        ALLOWED = Collections.unmodifiableMap(m);
    }

    /** Top-level modules whose globals can run code: naming one marks a pickle as hostile. */
    private static final Set<String> DANGEROUS = Set.of("os", "posix", "nt", "subprocess", "_posixsubprocess", "sys", "builtins",
            "__builtin__", "shutil", "socket", "importlib", "runpy", "pickle", "_pickle", "cPickle", "code", "codeop", "pty",
            "commands", "webbrowser", "ctypes", "multiprocessing", "operator", "functools", "types", "marshal", "io", "_io",
            "pathlib", "tempfile", "asyncio", "threading", "signal", "platform", "pydoc", "timeit", "trace", "pdb", "bdb",
            "inspect", "dill", "requests", "urllib", "http", "ftplib", "smtplib", "telnetlib", "glob", "zipfile", "tarfile");

    /** A refused global. A {@link FileFormatException}, so callers need not know this type. */
    static final class RefusedGlobal extends FileFormatException {
        final String module;
        final String name;
        final boolean dangerous;
        final boolean looksLikeModel;

        RefusedGlobal(Path file, String message, String module, String name, boolean dangerous, boolean looksLikeModel) {
            super(file, message);
            this.module = module;
            this.name = name;
            this.dangerous = dangerous;
            this.looksLikeModel = looksLikeModel;
        }
    }

    // opcodes, as named in Python's pickle module
    private static final int MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', FLOAT = 'F', INT = 'I', BININT = 'J',
            BININT1 = 'K', LONG = 'L', BININT2 = 'M', NONE = 'N', PERSID = 'P', BINPERSID = 'Q', REDUCE = 'R', STRING = 'S',
            BINSTRING = 'T', SHORT_BINSTRING = 'U', UNICODE = 'V', BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c',
            DICT = 'd', EMPTY_DICT = '}', APPENDS = 'e', GET = 'g', BINGET = 'h', INST = 'i', LONG_BINGET = 'j', LIST = 'l',
            EMPTY_LIST = ']', OBJ = 'o', PUT = 'p', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')',
            SETITEMS = 'u', BINFLOAT = 'G', PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85,
            TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, BINBYTES = 'B',
            SHORT_BINBYTES = 'C', SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f,
            ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
            BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98;

    private static final Pattern PY_FLOAT = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern PY_INT = Pattern.compile("[+-]?\\d{1,4300}");

    private final byte[] b;
    private final int end;
    private final Path file;
    private final String what;
    private final String fileName;
    private final StorageLoader loader;
    private int pos;
    private int opPos;
    private final ArrayList<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markCount;
    private final HashMap<Long, Object> memo = new HashMap<>();
    /** This pickle's hash seed for dict keys, unknown to the file. */
    private final long keySeed = ThreadLocalRandom.current().nextLong();
    /** Interned non-string dict keys. */
    private final HashMap<Key, Key> keys = new HashMap<>();
    /** The interned key of each tuple or string object already used in a key: shared sub-tuples are hashed once. */
    private final IdentityHashMap<Object, Key> keyOf = new IdentityHashMap<>();
    private long created;

    /**
     * @param what   how to name the pickle in messages, e.g. {@code archive/data.pkl}
     * @param loader resolves storages; null refuses persistent ids
     */
    private RestrictedUnpickler(byte[] bytes, int start, int end, Path file, String what, StorageLoader loader) {
        this.b = bytes;
        this.pos = start;
        this.end = end;
        this.file = file;
        this.what = what;
        this.loader = loader;
        Path name = file == null ? null : file.getFileName();
        this.fileName = name == null ? "model.pt" : name.toString();
    }

    /** One value and the offset just after its STOP opcode. */
    record Result(Object value, int end) {
    }

    /** Reads the pickle in {@code bytes[start, end)} up to its STOP. */
    static Result load(byte[] bytes, int start, int end, Path file, String what, StorageLoader loader) {
        RestrictedUnpickler u = new RestrictedUnpickler(bytes, start, end, file, what, loader);
        Object v = u.run();
        return new Result(v, u.pos);
    }

    private FileFormatException fail(String message) {
        return new FileFormatException(file, what + ": " + message + " (pickle byte " + opPos + ")");
    }

    // ---- reading bytes ----

    private void need(long n) {
        if (n < 0 || n > end - pos) {
            throw fail("the pickle ends early: needs " + n + " more bytes, " + (end - pos) + " are left; the file is truncated or corrupt");
        }
    }

    private int u8() {
        need(1);
        return b[pos++] & 0xff;
    }

    private int u16() {
        need(2);
        int v = (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    private int i32() {
        need(4);
        int v = (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8 | (b[pos + 2] & 0xff) << 16 | (b[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    private long u32() {
        return i32() & 0xffffffffL;
    }

    private long i64() {
        long lo = u32();
        long hi = u32();
        return lo | hi << 32;
    }

    private byte[] bytes(long n) {
        need(n);
        byte[] r = Arrays.copyOfRange(b, pos, pos + (int) n);
        pos += (int) n;
        return r;
    }

    /** A text-protocol argument: the bytes up to the next newline. */
    private String line() {
        int i = pos;
        while (i < end && b[i] != '\n') {
            i++;
        }
        if (i >= end) {
            throw fail("the pickle ends inside a text argument; the file is truncated or corrupt");
        }
        String s = new String(b, pos, i - pos, StandardCharsets.ISO_8859_1);
        pos = i + 1;
        return s;
    }

    // ---- the stack ----

    private int floor() {
        return markCount == 0 ? 0 : marks[markCount - 1];
    }

    private void push(Object o) {
        if (stack.size() >= MAX_STACK) {
            throw fail("pickle stack grows past " + MAX_STACK + " items; refusing");
        }
        stack.add(o);
    }

    /** Pushes a newly made object, counting it against the object budget. */
    private void pushNew(Object o) {
        if (++created > MAX_OBJECTS) {
            throw fail("pickle makes more than " + MAX_OBJECTS + " objects; refusing");
        }
        push(o);
    }

    private Object pop() {
        if (stack.size() <= floor()) {
            throw fail("pickle pops from an empty stack; the file is corrupt");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.size() <= floor()) {
            throw fail("pickle reads from an empty stack; the file is corrupt");
        }
        return stack.get(stack.size() - 1);
    }

    private void mark() {
        if (markCount >= MAX_NESTING) {
            throw fail("pickle nests deeper than " + MAX_NESTING + " levels; refusing");
        }
        if (markCount == marks.length) {
            marks = Arrays.copyOf(marks, marks.length * 2);
        }
        marks[markCount++] = stack.size();
    }

    private List<Object> popMark() {
        if (markCount == 0) {
            throw fail("pickle closes a MARK that was never opened; the file is corrupt");
        }
        int from = marks[--markCount];
        List<Object> tail = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private void memoPut(long index) {
        Object v = peek();
        if (index < 0) {
            throw fail("negative memo index " + index);
        }
        if (!memo.containsKey(index) && memo.size() >= MAX_MEMO) {
            throw fail("pickle memo grows past " + MAX_MEMO + " entries; refusing");
        }
        memo.put(index, v);
    }

    private void memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw fail("pickle refers to memo slot " + index + ", which was never set; the file is corrupt");
        }
        push(memo.get(index));
    }

    // ---- the machine ----

    /** Runs opcodes until STOP and returns what it pops. */
    private Object run() {
        while (true) {
            opPos = pos;
            if (pos >= end) {
                throw fail("the pickle ends without its STOP opcode; the file is truncated or corrupt");
            }
            int op = u8();
            if (op == STOP) {
                return pop();
            }
            if (!(framing(op) || scalar(op) || text(op) || container(op) || memo(op) || object(op))) {
                refuse(op);
            }
        }
    }

    /** PROTO, FRAME, MARK, POP, POP_MARK, DUP. */
    private boolean framing(int op) {
        switch (op) {
            case PROTO -> {
                int v = u8();
                if (v > 5) {
                    throw fail("pickle protocol " + v + " is not supported (0 to 5 are)");
                }
            }
            case FRAME -> need(i64());
            case MARK -> mark();
            case POP -> {
                if (stack.size() > floor()) {
                    pop();
                } else {
                    popMark();
                }
            }
            case POP_MARK -> popMark();
            case DUP -> push(peek());
            default -> {
                return false;
            }
        }
        return true;
    }

    /** None, booleans, integers and floats, binary and text forms. */
    private boolean scalar(int op) {
        switch (op) {
            case NONE -> push(null);
            case NEWTRUE -> push(Boolean.TRUE);
            case NEWFALSE -> push(Boolean.FALSE);
            case BININT -> push((long) i32());
            case BININT1 -> push((long) u8());
            case BININT2 -> push((long) u16());
            case LONG1 -> pushNew(integer(bytes(u8())));
            case LONG4 -> {
                long n = i32();
                if (n < 0 || n > MAX_INT_BYTES) {
                    throw fail("integer of " + n + " bytes; at most " + MAX_INT_BYTES + " are accepted");
                }
                pushNew(integer(bytes(n)));
            }
            case INT -> {
                String s = line().strip();
                pushNew(s.equals("01") ? Boolean.TRUE : s.equals("00") ? Boolean.FALSE : textInteger(s));
            }
            case LONG -> {
                String s = line().strip();
                pushNew(textInteger(s.endsWith("L") ? s.substring(0, s.length() - 1) : s));
            }
            case FLOAT -> pushNew(textFloat(line().strip()));
            case BINFLOAT -> pushNew(Double.longBitsToDouble(Long.reverseBytes(i64())));  // big-endian on the wire
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Strings and bytes. */
    private boolean text(int op) {
        switch (op) {
            case BINUNICODE -> pushNew(utf8(u32()));
            case SHORT_BINUNICODE -> pushNew(utf8(u8()));
            case BINUNICODE8 -> pushNew(utf8(i64()));
            case UNICODE -> pushNew(rawUnicodeEscape(line()));
            case BINSTRING -> pushNew(new String(bytes(i32()), StandardCharsets.ISO_8859_1));
            case SHORT_BINSTRING -> pushNew(new String(bytes(u8()), StandardCharsets.ISO_8859_1));
            case STRING -> pushNew(pythonStringLiteral(line().strip()));
            case BINBYTES -> pushNew(bytes(u32()));
            case SHORT_BINBYTES -> pushNew(bytes(u8()));
            case BINBYTES8, BYTEARRAY8 -> pushNew(bytes(i64()));
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Tuples, lists and dicts, and adding to them. */
    private boolean container(int op) {
        switch (op) {
            case EMPTY_TUPLE -> push(Tuple.EMPTY);
            case TUPLE -> pushNew(new Tuple(Collections.unmodifiableList(popMark())));
            case TUPLE1 -> pushNew(Tuple.of(pop()));
            case TUPLE2 -> {
                Object y = pop();
                Object x = pop();
                pushNew(Tuple.of(x, y));
            }
            case TUPLE3 -> {
                Object z = pop();
                Object y = pop();
                Object x = pop();
                pushNew(Tuple.of(x, y, z));
            }
            case EMPTY_LIST -> pushNew(new ArrayList<>());
            case LIST -> pushNew(new ArrayList<>(popMark()));
            case APPEND -> {
                Object v = pop();
                list(peek(), "APPEND").add(v);
            }
            case APPENDS -> {
                List<Object> items = popMark();
                list(peek(), "APPENDS").addAll(items);
            }
            case EMPTY_DICT -> pushNew(new Dict(false));
            case DICT -> {
                List<Object> items = popMark();
                Dict d = new Dict(false);
                putAll(d, items);
                pushNew(d);
            }
            case SETITEM -> {
                Object v = pop();
                Object k = pop();
                put(dict(peek(), "SETITEM"), k, v);
            }
            case SETITEMS -> {
                List<Object> items = popMark();
                putAll(dict(peek(), "SETITEMS"), items);
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The memo: GET and PUT in their text, 1-byte and 4-byte forms, and MEMOIZE. */
    private boolean memo(int op) {
        switch (op) {
            case GET -> memoGet(textIndex(line()));
            case BINGET -> memoGet(u8());
            case LONG_BINGET -> memoGet(u32());
            case PUT -> memoPut(textIndex(line()));
            case BINPUT -> memoPut(u8());
            case LONG_BINPUT -> memoPut(u32());
            case MEMOIZE -> memoPut(memo.size());
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Globals (checked against the allowed list), REDUCE on them, an OrderedDict's BUILD, torch's persistent ids. */
    private boolean object(int op) {
        switch (op) {
            case GLOBAL -> {
                String module = line();
                String name = line();
                push(global(module, name));
            }
            case STACK_GLOBAL -> {
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw fail("STACK_GLOBAL needs two strings, found " + describe(module) + " and " + describe(name));
                }
                push(global(m, n));
            }
            case REDUCE -> {
                Object args = pop();
                Object f = pop();
                if (!(args instanceof Tuple t)) {
                    throw fail("REDUCE arguments must be a tuple, found " + describe(args));
                }
                pushNew(call(f, t));
            }
            case BUILD -> {
                pop(); // an OrderedDict's attributes (state_dict()._metadata): not needed, ignored
                Object target = peek();
                if (!(target instanceof Dict)) {
                    throw fail("BUILD would set the state of " + describe(target) + "; only an OrderedDict's attributes may be set");
                }
            }
            case BINPERSID -> pushNew(persistent(pop()));
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Every opcode a state dict never needs: refused with what it would have done. */
    private void refuse(int op) {
        switch (op) {
            case PERSID -> throw fail("text persistent ids (PERSID) are not used by torch.save; refusing");
            case NEWOBJ, NEWOBJ_EX, OBJ, INST -> throw fail("opcode " + opName(op) + " would instantiate a class; lstm4j never "
                    + "instantiates classes from a pickle (is this a whole pickled model rather than a state dict?)");
            case EXT1, EXT2, EXT4 -> throw fail("the copyreg extension registry (" + opName(op) + ") is not supported");
            case EMPTY_SET, ADDITEMS, FROZENSET -> throw fail("Python sets are not supported in a state dict or checkpoint");
            case NEXT_BUFFER, READONLY_BUFFER -> throw fail("out-of-band pickle buffers are not supported");
            default -> throw fail(String.format("unknown pickle opcode 0x%02x; the file is corrupt or not a pickle", op));
        }
    }

    private static String opName(int op) {
        return switch (op) {
            case NEWOBJ -> "NEWOBJ";
            case NEWOBJ_EX -> "NEWOBJ_EX";
            case OBJ -> "OBJ";
            case INST -> "INST";
            case EXT1 -> "EXT1";
            case EXT2 -> "EXT2";
            default -> "EXT4";
        };
    }

    private List<Object> list(Object o, String op) {
        if (o instanceof ArrayList<?>) {
            @SuppressWarnings("unchecked")
            List<Object> l = (List<Object>) o;
            return l;
        }
        throw fail(op + " on " + describe(o) + "; only lists can be appended to");
    }

    private Dict dict(Object o, String op) {
        if (o instanceof Dict d) {
            return d;
        }
        throw fail(op + " on " + describe(o) + "; only dicts can have items set");
    }

    private void putAll(Dict d, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw fail("dict items come in key-value pairs, found " + items.size() + " values");
        }
        for (int i = 0; i < items.size(); i += 2) {
            put(d, items.get(i), items.get(i + 1));
        }
    }

    /** Sets {@code d[k] = v}: a string key as itself, any other hashable key as its interned {@link Key}. */
    private void put(Dict d, Object k, Object v) {
        d.map.put(k instanceof String ? k : key(k, 0), v);
    }

    /**
     * The interned key of {@code k}, which must be hashable as Python sees it (None, bool, int, float, str,
     * or a tuple of those). Every tuple and string object is visited once per pickle, so a chain of tuples
     * that each hold the next one twice costs its length, not 2^length; tuples nested more than
     * {@value #MAX_KEY_DEPTH} deep are refused.
     */
    private Key key(Object k, int depth) {
        if (k instanceof Tuple || k instanceof String) {
            Key known = keyOf.get(k);
            if (known != null) {
                if (depth + known.height > MAX_KEY_DEPTH) {
                    throw fail("dict key is a tuple nested deeper than " + MAX_KEY_DEPTH + " levels; refusing");
                }
                return known;
            }
        }
        Key made;
        if (k instanceof Tuple t) {
            if (depth >= MAX_KEY_DEPTH) {
                throw fail("dict key is a tuple nested deeper than " + MAX_KEY_DEPTH + " levels; refusing");
            }
            Object[] parts = new Object[t.size()];
            long h = mix(keySeed ^ 0x7475706c65L ^ t.size());
            int height = 0;
            for (int i = 0; i < parts.length; i++) {
                Key item = key(t.get(i), depth + 1);
                parts[i] = item;
                h = mix(h ^ item.hash);
                height = Math.max(height, item.height + 1);
            }
            made = intern(new Key(t, parts, true, h, Math.max(height, 1)));
            keyOf.put(t, made);
        } else {
            Object norm = normalise(k);
            made = intern(new Key(k, new Object[] {norm}, false, scalarHash(norm), 0));
            if (k instanceof String) {
                keyOf.put(k, made);
            }
        }
        return made;
    }

    private Key intern(Key k) {
        Key old = keys.putIfAbsent(k, k);
        return old == null ? k : old;
    }

    /** A scalar key as Python compares it: {@code True == 1 == 1.0}, {@code -0.0 == 0}; NaN keys and other types are refused. */
    private Object normalise(Object k) {
        if (k == null) {
            return NONE_KEY;
        }
        if (k instanceof String || k instanceof Long || k instanceof BigInteger) {
            return k;
        }
        if (k instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        if (k instanceof Double d) {
            if (d.isNaN()) {
                throw fail("dict key NaN is not supported (Python compares NaN keys by identity)");
            }
            if (!d.isInfinite() && d == Math.rint(d)) {
                BigInteger v = new java.math.BigDecimal(d).toBigIntegerExact();
                return v.bitLength() < 64 ? (Object) v.longValue() : v;
            }
            return d;
        }
        throw fail("dict key of type " + typeName(k) + " is not supported (keys are strings, numbers, None or tuples of them)");
    }

    private long scalarHash(Object norm) {
        long h;
        if (norm instanceof Long v) {
            h = mix(keySeed ^ v * 0x9E3779B97F4A7C15L);
        } else if (norm instanceof Double v) {
            h = mix(keySeed ^ 0x5DEECE66DL ^ Double.doubleToLongBits(v));
        } else if (norm instanceof BigInteger v) {
            h = keySeed ^ 0x626967L;
            for (byte x : v.toByteArray()) {
                h = mix(h ^ (x & 0xff));
            }
        } else if (norm instanceof String v) {
            h = keySeed ^ 0x737472L;
            for (int i = 0; i < v.length(); i++) {
                h = (h ^ v.charAt(i)) * 0x9E3779B97F4A7C15L;
                h ^= h >>> 29;
            }
            h = mix(h ^ v.length());
        } else {
            h = mix(keySeed ^ 0x4e6f6e65L);
        }
        return h;
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    // ---- globals and calls ----

    private Object global(String module, String name) {
        Object v = ALLOWED.get(module + "." + name);
        if (v != null) {
            return v;
        }
        throw refused(file, what, fileName, module, name);
    }

    static RefusedGlobal refused(Path file, String what, String fileName, String module, String name) {
        String full = Names.safe(module + "." + name);
        String root = module.contains(".") ? module.substring(0, module.indexOf('.')) : module;
        boolean dangerous = DANGEROUS.contains(root);
        boolean model = !dangerous && (module.equals("__main__") || module.startsWith("torch.nn.")
                || !name.isEmpty() && Character.isUpperCase(name.charAt(0)) && !module.equals("torch") && !root.equals("numpy")
                && !module.equals("collections"));
        String message;
        if (dangerous) {
            message = what + " names the global '" + full + "', which can run code: refused. lstm4j never runs code from a pickle,"
                    + " and this file may be malicious; do not open it with torch.load(..., weights_only=False) either";
        } else if (model) {
            message = what + " holds an object of class '" + full + "': a whole pickled model (torch.save(model)), not a state dict."
                    + " lstm4j reads state dicts only and never instantiates classes from a pickle. Re-save the weights (in Python,"
                    + " for a file you trust): torch.save(torch.load(\"" + Names.safe(fileName) + "\", weights_only=False).state_dict(), \""
                    + Names.safe(stem(fileName)) + ".state_dict.pt\")";
        } else {
            message = what + " names the global '" + full + "', which lstm4j does not load (allowed: " + String.join(", ", ALLOWED.keySet())
                    + "). Save only tensors: torch.save(model.state_dict(), \"model.pt\")";
        }
        return new RefusedGlobal(file, message, module, name, dangerous, model);
    }

    static String stem(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot > 0 ? fileName.substring(0, dot) : fileName;
    }

    private Object call(Object f, Tuple args) {
        if (!(f instanceof Function fn)) {
            throw fail("REDUCE calls " + describe(f) + ", which is not callable here");
        }
        switch (fn) {
            case ORDERED_DICT -> {
                Dict d = new Dict(true);
                if (args.size() == 1 && (args.get(0) instanceof List<?> || args.get(0) instanceof Tuple)) {
                    List<?> pairs = args.get(0) instanceof Tuple t ? t.items() : (List<?>) args.get(0);
                    for (Object p : pairs) {
                        List<?> kv = p instanceof Tuple t ? t.items() : p instanceof List<?> l ? l : null;
                        if (kv == null || kv.size() != 2) {
                            throw fail("OrderedDict items must be (key, value) pairs, found " + describe(p));
                        }
                        put(d, kv.get(0), kv.get(1));
                    }
                } else if (args.size() != 0) {
                    throw fail("OrderedDict called with " + args.size() + " arguments; expected none or a list of pairs");
                }
                return d;
            }
            case DEVICE -> {
                if (args.size() < 1 || args.size() > 2 || !(args.get(0) instanceof String type)
                        || args.size() == 2 && args.get(1) != null && !(args.get(1) instanceof Long)) {
                    throw fail("torch.device expects (type[, index]), found " + describe(args));
                }
                return new Device(type, args.size() == 2 ? (Long) args.get(1) : null);
            }
            case REBUILD_PARAMETER -> {
                if (args.size() != 3 || !(args.get(0) instanceof TensorRef t) || !(args.get(1) instanceof Boolean)) {
                    throw fail("_rebuild_parameter expects (tensor, requires_grad, backward_hooks), found " + describe(args));
                }
                return new TensorRef(t.storage(), t.offset(), t.size(), t.stride(), true);
            }
            default -> {
                return rebuildTensor(args);
            }
        }
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private TensorRef rebuildTensor(Tuple args) {
        if (args.size() != 6 && args.size() != 7) {
            throw fail("_rebuild_tensor_v2 expects 6 or 7 arguments, found " + args.size());
        }
        if (!(args.get(0) instanceof Storage s)) {
            throw fail("_rebuild_tensor_v2: the first argument must be a storage, found " + describe(args.get(0)));
        }
        if (!(args.get(1) instanceof Long offset) || offset < 0) {
            throw fail("_rebuild_tensor_v2: storage offset must be a non-negative int, found " + describe(args.get(1)));
        }
        long[] size = ints(args.get(2), "size");
        long[] stride = ints(args.get(3), "stride");
        if (size.length != stride.length) {
            throw fail("_rebuild_tensor_v2: size has " + size.length + " dimensions but stride has " + stride.length);
        }
        if (args.size() == 7 && args.get(6) instanceof Dict meta && !meta.map.isEmpty()) {
            throw fail("tensor metadata (" + meta.map.size() + " keys, first " + describe(meta.map.keySet().iterator().next())
                    + ") is not supported");
        }
        int[] shape = new int[size.length];
        long count = 1;
        long last = offset;
        try {
            for (int k = 0; k < size.length; k++) {
                if (size[k] > Integer.MAX_VALUE) {
                    throw fail("tensor dimension " + size[k] + " is larger than 2^31 - 1");
                }
                shape[k] = (int) size[k];
                count = Math.multiplyExact(count, size[k]);
                if (size[k] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(size[k] - 1, stride[k]));
                }
            }
        } catch (ArithmeticException e) {
            throw fail("tensor of size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " overflows 64-bit indexing");
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw fail("tensor of size " + Arrays.toString(size) + " has " + count + " elements, more than one tensor can hold here");
        }
        if (count > 0 ? last >= s.numel() : offset > s.numel()) {
            throw fail("tensor of size " + Tensor.shapeString(shape) + ", stride " + Arrays.toString(stride) + " at offset " + offset
                    + " reaches element " + last + " of storage '" + Names.safe(s.key()) + "', which holds " + s.numel() + " elements");
        }
        return new TensorRef(s, offset, shape, stride, false);
    }

    private long[] ints(Object o, String what) {
        if (!(o instanceof Tuple t)) {
            throw fail("_rebuild_tensor_v2: " + what + " must be a tuple of ints, found " + describe(o));
        }
        if (t.size() > MAX_RANK) {
            throw fail("_rebuild_tensor_v2: " + what + " has " + t.size() + " dimensions; at most " + MAX_RANK + " are accepted");
        }
        long[] r = new long[t.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(t.get(i) instanceof Long v) || v < 0) {
                throw fail("_rebuild_tensor_v2: " + what + " must hold non-negative ints, found " + describe(t.get(i)));
            }
            r[i] = v;
        }
        return r;
    }

    /** {@code ('storage', storage_type, key, location, numel)}; legacy files add a sixth element. */
    private Storage persistent(Object pid) {
        if (loader == null) {
            throw fail("persistent id where none is expected");
        }
        if (!(pid instanceof Tuple t) || t.size() < 5 || t.size() > 6 || !isStorageTag(t.get(0))) {
            throw fail("persistent id must be ('storage', type, key, location, numel), found " + describe(pid));
        }
        if (!(t.get(1) instanceof StorageType type)) {
            throw fail("persistent id names storage type " + describe(t.get(1)) + ", not one of torch's storage classes");
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location) || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw fail("persistent id must be ('storage', type, key: str, location: str, numel: int), found " + describe(pid));
        }
        return loader.load(type, key, location, numel);
    }

    private static boolean isStorageTag(Object o) {
        return "storage".equals(o) || o instanceof byte[] a && Arrays.equals(a, "storage".getBytes(StandardCharsets.US_ASCII));
    }

    // ---- scalar decoding ----

    /** Little-endian two's complement, as LONG1/LONG4 store it. */
    private static Object integer(byte[] le) {
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object textInteger(String s) {
        if (!PY_INT.matcher(s).matches()) {
            throw fail("text integer '" + abbreviate(s) + "' is not a number");
        }
        BigInteger v = new BigInteger(s.startsWith("+") ? s.substring(1) : s);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private long textIndex(String s) {
        Object v = textInteger(s.strip());
        if (!(v instanceof Long l) || l < 0) {
            throw fail("memo index '" + abbreviate(s) + "' is out of range");
        }
        return l;
    }

    private Double textFloat(String s) {
        switch (s) {
            case "nan":
                return Double.NaN;
            case "inf":
                return Double.POSITIVE_INFINITY;
            case "-inf":
                return Double.NEGATIVE_INFINITY;
            default:
                break;
        }
        if (s.length() > 1000 || !PY_FLOAT.matcher(s).matches()) {
            throw fail("text float '" + abbreviate(s) + "' is not a number");
        }
        return Double.parseDouble(s);
    }

    private String utf8(long n) {
        need(n);
        String s = new String(b, pos, (int) n, StandardCharsets.UTF_8);
        pos += (int) n;
        return s;
    }

    /** Protocol 0 unicode: latin-1 text with {@code \\uXXXX} and {@code \\UXXXXXXXX} escapes. */
    private String rawUnicodeEscape(String s) {
        StringBuilder r = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == 'u' || s.charAt(i + 1) == 'U')) {
                int digits = s.charAt(i + 1) == 'u' ? 4 : 8;
                int cp = hex(s, i + 2, digits);
                if (cp < 0 || cp > Character.MAX_CODE_POINT) {
                    throw fail("bad \\u escape in a text string");
                }
                r.appendCodePoint(cp);
                i += 1 + digits;
            } else {
                r.append(c);
            }
        }
        return r.toString();
    }

    /** Protocol 0 str: a quoted Python literal with backslash escapes; decoded as latin-1. */
    private String pythonStringLiteral(String s) {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || s.charAt(0) != '\'' && s.charAt(0) != '"') {
            throw fail("text string must be quoted, found '" + abbreviate(s) + "'");
        }
        String in = s.substring(1, s.length() - 1);
        StringBuilder r = new StringBuilder(in.length());
        for (int i = 0; i < in.length(); i++) {
            char c = in.charAt(i);
            if (c != '\\' || i + 1 >= in.length()) {
                r.append(c);
                continue;
            }
            char e = in.charAt(++i);
            switch (e) {
                case 'n' -> r.append('\n');
                case 'r' -> r.append('\r');
                case 't' -> r.append('\t');
                case 'a' -> r.append('\u0007');
                case 'b' -> r.append('\b');
                case 'f' -> r.append('\f');
                case 'v' -> r.append('\u000b');
                case '\\', '\'', '"' -> r.append(e);
                case 'x' -> {
                    int v = hex(in, i + 1, 2);
                    if (v < 0) {
                        throw fail("bad \\x escape in a text string");
                    }
                    r.append((char) v);
                    i += 2;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = 0;
                        int k = 0;
                        while (k < 3 && i + k < in.length() && in.charAt(i + k) >= '0' && in.charAt(i + k) <= '7') {
                            v = v * 8 + in.charAt(i + k) - '0';
                            k++;
                        }
                        r.append((char) (v & 0xff));
                        i += k - 1;
                    } else {
                        r.append('\\').append(e);
                    }
                }
            }
        }
        return r.toString();
    }

    private static int hex(String s, int from, int digits) {
        if (from + digits > s.length()) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < from + digits; i++) {
            int d = Character.digit(s.charAt(i), 16);
            if (d < 0) {
                return -1;
            }
            v = v * 16 + d;
        }
        return v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    private static String abbreviate(String s) {
        return Names.safe(s, 40);
    }

    /** A short description of a value for messages; never recurses into containers. */
    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String s) {
            return "'" + abbreviate(s) + "'";
        }
        if (o instanceof Long || o instanceof Boolean || o instanceof Double) {
            return o.toString();
        }
        if (o instanceof BigInteger) {
            return "a large int";
        }
        if (o instanceof byte[] a) {
            return "bytes of " + a.length;
        }
        if (o instanceof List<?> l) {
            return "list of " + l.size();
        }
        if (o instanceof Function f) {
            for (Map.Entry<String, Object> e : ALLOWED.entrySet()) {
                if (e.getValue() == f) {
                    return e.getKey();
                }
            }
        }
        if (o instanceof StorageType t) {
            return "torch." + t.name();
        }
        if (o instanceof Storage s) {
            return "storage '" + abbreviate(s.key()) + "'";
        }
        if (o instanceof Key k) {
            return k.value instanceof Tuple || k.value == null || k.value instanceof Boolean ? k.toString() : describe(k.value);
        }
        if (o instanceof Device d) {
            return "torch.device('" + abbreviate(d.type()) + "'" + (d.index() == null ? "" : ", " + d.index()) + ")";
        }
        return Names.safe(o.toString());
    }

    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Long || o instanceof BigInteger) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        if (o instanceof List<?>) {
            return "list";
        }
        if (o instanceof Tuple) {
            return "tuple";
        }
        if (o instanceof Dict d) {
            return d.ordered ? "OrderedDict" : "dict";
        }
        if (o instanceof TensorRef) {
            return "tensor";
        }
        if (o instanceof Device) {
            return "torch.device";
        }
        return describe(o);
    }
}
